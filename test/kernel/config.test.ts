import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'brittle'
import { loadConfig } from '../../src/kernel/config.js'
import { isConclaveError } from '../../src/kernel/errors.js'

function home(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('defaults', (t) => {
  const c = loadConfig({ home: home(t), env: {} })
  t.is(c.api.host, '127.0.0.1')
  t.is(c.api.port, 0)
  t.is(c.bootstrap, null)
  t.alike(c.roles, ['access', 'relay'])
  t.is(c.copies, 2)
  t.is(c.copiesTimeoutMs, 15_000)
  t.is(c.archiveIdleMs, 30 * 86_400_000, 'idle conversations are archived after 30 days')
})

test('archive idle age: environment in seconds, 0 = only closed conversations, bad values refused', (t) => {
  const h = home(t)
  t.is(loadConfig({ home: h, env: { CONCLAVE_ARCHIVE_IDLE: '12' } }).archiveIdleMs, 12_000)
  t.is(loadConfig({ home: h, env: { CONCLAVE_ARCHIVE_IDLE: '0' } }).archiveIdleMs, 0)
  for (const bad of ['-1', 'soon', '1.5']) {
    try {
      loadConfig({ home: h, env: { CONCLAVE_ARCHIVE_IDLE: bad } })
      t.fail(`accepted ${bad}`)
    } catch (err) {
      t.is((err as { code?: string }).code, 'CONFIG_INVALID', `${bad} refused`)
    }
  }
})

test('dhtReachable: off by default, a boolean in config.json', (t) => {
  const h = home(t)
  t.is(loadConfig({ home: h, env: {} }).dhtReachable, false, 'detect by default')
  writeFileSync(join(h, 'config.json'), JSON.stringify({ dhtHost: '10.0.0.5', dhtReachable: true }))
  const c = loadConfig({ home: h, env: {} })
  t.alike([c.dhtHost, c.dhtReachable], ['10.0.0.5', true])
  writeFileSync(join(h, 'config.json'), JSON.stringify({ dhtReachable: 'yes' }))
  try {
    loadConfig({ home: h, env: {} })
    t.fail('accepted a string')
  } catch (err) {
    t.is((err as { code?: string }).code, 'CONFIG_INVALID', 'a string is refused')
  }
})

test('copies and their timeout: file, environment (seconds) and flags (seconds)', (t) => {
  const h = home(t)
  writeFileSync(join(h, 'config.json'), JSON.stringify({ copies: 3, copiesTimeoutMs: 2500 }))
  const file = loadConfig({ home: h, env: {} })
  t.alike([file.copies, file.copiesTimeoutMs], [3, 2500])
  const env = loadConfig({ home: h, env: { CONCLAVE_COPIES: '1', CONCLAVE_COPIES_TIMEOUT: '7' } })
  t.alike([env.copies, env.copiesTimeoutMs], [1, 7000])
  const flags = loadConfig({
    home: h,
    env: { CONCLAVE_COPIES: '1' },
    flags: { copies: '2', copiesTimeout: '0' }
  })
  t.alike([flags.copies, flags.copiesTimeoutMs], [2, 0], 'flags win; 0 s checks once')
  for (const bad of [{ copies: '0' }, { copies: '17' }, { copies: 'two' }, { copiesTimeout: '121' }]) {
    try {
      loadConfig({ home: h, env: {}, flags: bad })
      t.fail(`accepted ${JSON.stringify(bad)}`)
    } catch (err) {
      t.ok(isConclaveError(err, 'CONFIG_INVALID'), `${JSON.stringify(bad)} -> ${(err as Error).message}`)
    }
  }
})

test('layers: defaults < file < env < flags', (t) => {
  const h = home(t)
  writeFileSync(join(h, 'config.json'), JSON.stringify({ api: { port: 1111 }, copies: 3, roles: ['relay'] }))
  const fileOnly = loadConfig({ home: h, env: {} })
  t.is(fileOnly.api.port, 1111)
  t.is(fileOnly.copies, 3)
  t.alike(fileOnly.roles, ['relay'])
  t.is(fileOnly.api.host, '127.0.0.1', 'nested defaults survive a partial file section')
  const env = loadConfig({ home: h, env: { CONCLAVE_PORT: '2222', CONCLAVE_BOOTSTRAP: '127.0.0.1:49737' } })
  t.is(env.api.port, 2222)
  t.alike(env.bootstrap, [{ host: '127.0.0.1', port: 49737 }])
  const flags = loadConfig({
    home: h,
    env: { CONCLAVE_PORT: '2222' },
    flags: { port: '3333', role: 'access,relay', bootstrap: 'localhost:1,127.0.0.1:2' }
  })
  t.is(flags.api.port, 3333)
  t.alike(flags.roles, ['access', 'relay'])
  t.alike(flags.bootstrap, [
    { host: 'localhost', port: 1 },
    { host: '127.0.0.1', port: 2 }
  ])
  t.is(loadConfig({ env: { CONCLAVE_HOME: h } }).home, h, 'CONCLAVE_HOME picks the home')
})

test('bad values are refused with CONFIG_ codes', (t) => {
  const h = home(t)
  const bad: Array<[NonNullable<Parameters<typeof loadConfig>[0]>, string]> = [
    [{ home: h, env: {}, flags: { port: 'abc' } }, 'CONFIG_INVALID'],
    [{ home: h, env: {}, flags: { port: '70000' } }, 'CONFIG_INVALID'],
    [{ home: h, env: {}, flags: { bootstrap: 'nohostport' } }, 'CONFIG_INVALID'],
    [{ home: h, env: {}, flags: { role: 'king' } }, 'CONFIG_INVALID'],
    [{ home: h, env: { CONCLAVE_INDEXER: 'maybe' } }, 'CONFIG_INVALID']
  ]
  for (const [inputs, code] of bad) {
    try {
      loadConfig(inputs)
      t.fail(`accepted ${JSON.stringify(inputs.flags ?? inputs.env)}`)
    } catch (err) {
      t.ok(
        isConclaveError(err, code),
        `${JSON.stringify(inputs.flags ?? inputs.env)} -> ${(err as Error).message}`
      )
    }
  }
  writeFileSync(join(h, 'config.json'), '{ not json')
  t.exception(() => loadConfig({ home: h, env: {} }), /not a JSON object/)
  writeFileSync(join(h, 'config.json'), JSON.stringify({ unknownKey: 1 }))
  try {
    loadConfig({ home: h, env: {} })
    t.fail('unknown key accepted')
  } catch (err) {
    t.ok(isConclaveError(err, 'CONFIG_INVALID'), 'unknown keys refused')
  }
})

test('ids: checksum refuses a mistyped id', async (t) => {
  const { encodeId, decodeId, isId } = await import('../../src/kernel/ids.js')
  const id = encodeId('account', Buffer.alloc(16, 9))
  t.ok(isId('account', id))
  t.absent(isId('device', id), 'prefix is checked')
  const last = id.at(-1) === 'a' ? 'b' : 'a'
  t.absent(isId('account', id.slice(0, -1) + last), 'one changed character is refused')
  t.absent(isId('account', id.slice(0, -2)), 'truncated is refused')
  t.is(decodeId('account', id).bytes.length, 16)
})

test('port windows: off by default; file < env < flags; W > S and a bad gateway refused', (t) => {
  const h = home(t)
  const d = loadConfig({ home: h, env: {} }).windows
  t.alike(d, { enabled: false, slotSeconds: 600, windowSeconds: 30, protocol: 'auto', gateway: null })
  writeFileSync(join(h, 'config.json'), JSON.stringify({ windows: { enabled: true, windowSeconds: 20 } }))
  const c = loadConfig({
    home: h,
    env: { CONCLAVE_SLOT_SECONDS: '120', CONCLAVE_GATEWAY: '192.168.1.1' },
    flags: { windowSeconds: '10', gatewayProtocol: 'natpmp' }
  }).windows
  t.alike(c, {
    enabled: true,
    slotSeconds: 120,
    windowSeconds: 10,
    protocol: 'natpmp',
    gateway: '192.168.1.1'
  })
  for (const [what, flags] of [
    ['W > S', { windowSeconds: '700' }],
    ['a gateway name', { gateway: 'router.lan' }],
    ['an unknown protocol', { gatewayProtocol: 'pcp' }],
    ['a fractional window', { windowSeconds: '1.5' }]
  ] as const) {
    try {
      loadConfig({ home: h, env: {}, flags })
      t.fail(`accepted ${what}`)
    } catch (err) {
      t.is((err as { code?: string }).code, 'CONFIG_INVALID', `${what} refused`)
    }
  }
})

test('onion mode needs a loopback SOCKS5 literal and an onion address, and excludes port windows', (t) => {
  const h = home(t)
  const onion = `${'a'.repeat(56)}.onion:4711`
  const ok = loadConfig({
    home: h,
    env: {},
    flags: { onion: 'true', socks5: '127.0.0.1:9050', directAddress: onion }
  })
  t.ok(ok.onion, 'accepted with both')
  for (const [what, flags] of [
    ['no proxy', { onion: 'true', directAddress: onion }],
    ['no onion address', { onion: 'true', socks5: '127.0.0.1:9050' }],
    ['a non-onion address', { onion: 'true', socks5: '127.0.0.1:9050', directAddress: 'example.org:4711' }],
    ['a proxy name', { onion: 'true', socks5: 'localhost:9050', directAddress: onion }],
    ['port windows', { onion: 'true', socks5: '127.0.0.1:9050', directAddress: onion, portWindows: 'true' }]
  ] as const) {
    try {
      loadConfig({ home: h, env: {}, flags })
      t.fail(`accepted ${what}`)
    } catch (err) {
      t.is((err as { code?: string }).code, 'CONFIG_INVALID', `${what}: ${(err as Error).message}`)
    }
  }
})
