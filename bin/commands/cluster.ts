import { loadConfig, resolveHome } from '../../src/kernel/config.js'
import { KernelErrors } from '../../src/kernel/errors.js'
import { joinCluster } from '../../src/node/join.js'
import type { InviteResult, StatusReport } from '../../src/node/node-api.js'
import { renderQr } from '../../src/node/qr.js'
import { apiRequest } from '../client.js'
import { type Command, parse, printJson, println } from '../cli.js'

export const status: Command = {
  name: 'status',
  summary: 'devices (online, address), peers, copies per core, what the node waits for',
  usage: 'conclave status [--json]',
  async run(ctx) {
    const { values } = parse(ctx.argv, { json: { type: 'boolean' } })
    const s = await apiRequest<StatusReport>(resolveHome(ctx.home, ctx.env), 'GET', '/api/status')
    if (values.json) {
      printJson(ctx, s)
      return 0
    }
    println(ctx, `account ${s.accountId}`)
    println(
      ctx,
      `device  ${s.device} ${s.deviceId} (epoch ${s.epoch}, ${s.writable ? 'writable' : 'not writable yet'})`
    )
    println(ctx)
    println(
      ctx,
      `direct  listening on ${s.direct.listen ?? '—'}, published as ${s.direct.address ?? '—'}` +
        (s.direct.socks5 ? `, dialling through SOCKS5 ${s.direct.socks5}` : '') +
        (s.direct.onion ? ' (onion mode: no DHT, no local name resolution)' : '')
    )
    const w = s.windows
    if (w.enabled && w.next) {
      const at = (ms: number) => new Date(ms).toISOString().slice(11, 19)
      println(
        ctx,
        `windows ${w.windowSeconds} s in every ${w.slotSeconds} s (${w.protocol}); ` +
          `${w.open ? 'open now' : 'next'} ${at(w.next.start)}–${at(w.next.end)} UTC` +
          (w.mapping
            ? `, mapped ${w.mapping.external ?? `port ${w.mapping.externalPort}`} at ${w.mapping.gateway}`
            : '') +
          (w.maxOffsetMs === null ? '' : `; worst clock offset ${Math.round(w.maxOffsetMs)} ms`)
      )
      if (w.offsetWarning) println(ctx, `! ${w.offsetWarning}`)
      if (w.lastError) println(ctx, `! last gateway error: ${w.lastError}`)
    }
    println(ctx)
    println(ctx, 'devices:')
    for (const d of s.devices) {
      const state = d.revoked ? 'revoked' : d.online ? 'online' : 'offline'
      const link = d.self ? '' : d.direct ? ' direct' : ''
      const beat =
        d.rttMs === null
          ? ''
          : ` rtt ${d.rttMs.toFixed(1)} ms` +
            (d.offsetMs === null ? '' : `, clock ${d.offsetMs >= 0 ? '+' : ''}${Math.round(d.offsetMs)} ms`)
      println(
        ctx,
        `  ${String(d.device).padStart(3)} ${d.deviceId} ${state.padEnd(8)} ${d.roles.join(',')}${d.indexer ? ' indexer' : ''}${d.self ? ' (this device)' : ''}${link}` +
          `${d.lastAddress ? ` at ${d.lastAddress}` : ''}${beat}`
      )
      if (d.directError && !d.direct && !d.revoked) println(ctx, `        last direct dial: ${d.directError}`)
    }
    const direct = s.peers.filter((p) => p.transport === 'direct').length
    println(ctx, `peers: ${s.peers.length} (${direct} direct)`)
    const writers = s.cores.filter((c) => c.kind === 'writer')
    const target = s.durability.statusTarget
    println(
      ctx,
      `cores: ${s.cores.length}, ${writers.length} writer core(s); copies (nodes holding all of it, this one included), target ${target}:`
    )
    for (const c of writers) {
      const mark = c.belowTarget ? '!' : ' '
      const held = c.holders.map((h) => `${h.deviceId}${h.online ? '' : ' (offline)'}`).join(', ')
      println(
        ctx,
        `${mark} ${String(c.copies).padStart(2)}/${target} ${c.key.slice(0, 16)}… len ${c.length} ${c.name}${held ? `; also on ${held}` : ''}`
      )
    }
    if (s.durability.belowTarget > 0)
      println(ctx, `! ${s.durability.belowTarget} writer core(s) held by fewer than ${target} nodes`)
    for (const w of s.waitingFor) println(ctx, `waiting for ${w}`)
    return 0
  }
}

export const invite: Command = {
  name: 'invite',
  summary: 'print a one-time invite to add a device (text and terminal QR)',
  usage: 'conclave invite [--ttl MINUTES] [--indexer] [--role access,relay] [--name NAME] [--json]',
  help: `Creates a one-time, expiring invite on this running, root-holding node. On the new
device run "conclave join INVITE". The invite is a secret: anyone holding it before it is used
can join as your device.

  --ttl MINUTES   validity (default 10)
  --indexer       the new device indexes (always-on devices only: PC, router, home server)
  --role R        roles of the new device (default access,relay)
  --name NAME     a label for the new device
  --json          print { invite, expires, device }`,
  async run(ctx) {
    const { values } = parse(ctx.argv, {
      json: { type: 'boolean' },
      ttl: { type: 'string' },
      indexer: { type: 'boolean' },
      role: { type: 'string' },
      name: { type: 'string' }
    })
    const body: Record<string, unknown> = {}
    if (values.ttl !== undefined) {
      if (!/^\d+$/.test(values.ttl)) throw KernelErrors.CLI_USAGE('--ttl takes whole minutes')
      body.ttlMs = Number(values.ttl) * 60_000
    }
    if (values.indexer) body.indexer = true
    if (values.role) body.roles = values.role.split(',')
    if (values.name) body.name = values.name
    const r = await apiRequest<InviteResult>(resolveHome(ctx.home, ctx.env), 'POST', '/api/invites', body)
    if (values.json) {
      printJson(ctx, r)
      return 0
    }
    println(ctx, `invite for device ${r.device}, valid until ${new Date(r.expires).toISOString()}:`)
    println(ctx)
    println(ctx, r.invite)
    println(ctx)
    println(ctx, renderQr(r.invite))
    println(ctx, 'on the new device: conclave join INVITE')
    return 0
  }
}

export const join: Command = {
  name: 'join',
  summary: 'on a new, empty home: pair with an invite, store the certificate, exit',
  usage: 'conclave join INVITE [--bootstrap HOST:PORT,…] [--name NAME] [--json]',
  async run(ctx) {
    const { values, positionals } = parse(
      ctx.argv,
      {
        json: { type: 'boolean' },
        bootstrap: { type: 'string' },
        name: { type: 'string' },
        timeout: { type: 'string' }
      },
      true
    )
    if (positionals.length !== 1) throw KernelErrors.CLI_USAGE('join takes exactly one INVITE')
    const config = loadConfig({
      home: ctx.home,
      env: ctx.env,
      flags: values.bootstrap !== undefined ? { bootstrap: values.bootstrap } : {}
    })
    const r = await joinCluster(config.home, positionals[0]!, {
      bootstrap: config.bootstrap,
      ...(values.name ? { name: values.name } : {}),
      ...(values.timeout && /^\d+$/.test(values.timeout) ? { timeoutMs: Number(values.timeout) * 1000 } : {})
    })
    if (values.json) printJson(ctx, r)
    else {
      println(ctx, `joined account ${r.accountId} as device ${r.device} (${r.deviceId})`)
      println(ctx, 'next: conclave run')
    }
    return 0
  }
}

export const revoke: Command = {
  name: 'revoke',
  summary: 'revoke a device (root-signed); its later entries and connections are refused',
  usage: 'conclave revoke DEVICE [--json]   (DEVICE: a device id or index)',
  async run(ctx) {
    const { values, positionals } = parse(ctx.argv, { json: { type: 'boolean' } }, true)
    if (positionals.length !== 1) throw KernelErrors.CLI_USAGE('revoke takes exactly one DEVICE')
    const r = await apiRequest<{ deviceId: string }>(
      resolveHome(ctx.home, ctx.env),
      'POST',
      `/api/devices/${encodeURIComponent(positionals[0]!)}/revoke`,
      {}
    )
    if (values.json) printJson(ctx, r)
    else println(ctx, `revoked ${r.deviceId}`)
    return 0
  }
}
