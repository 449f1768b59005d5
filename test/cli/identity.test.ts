import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'

const ABANDON_ART = `${'abandon '.repeat(23)}art`

test('init --json then recover in another home gives the same account id', async (t) => {
  const a = join(tmpHome(t), 'a')
  const b = join(tmpHome(t), 'b')
  const init = await conclave(['--home', a, 'init', '--json'])
  t.is(init.code, 0, init.stderr)
  const out = JSON.parse(init.stdout)
  t.is(out.mnemonic.split(' ').length, 24, '24 words')
  t.ok(out.accountId.startsWith('acc_'))
  const rec = await conclave(['--home', b, 'recover', '--json'], { input: `${out.mnemonic}\n` })
  t.is(rec.code, 0, rec.stderr)
  t.is(JSON.parse(rec.stdout).accountId, out.accountId, 'same account id')
  t.is(JSON.parse(rec.stdout).deviceId, out.deviceId, 'device 0 has the same device id')

  const idA = JSON.parse((await conclave(['--home', a, 'id', '--json'])).stdout)
  t.alike(
    { accountId: idA.accountId, device: idA.device, epoch: idA.epoch },
    { accountId: out.accountId, device: 0, epoch: 0 }
  )
  t.alike(idA.roles, ['access', 'relay'])
  const idB = JSON.parse((await conclave(['--home', b, 'id', '--json'])).stdout)
  t.is(idB.recovered, true, 'recovered home is marked for an epoch change')

  const mode = statSync(join(a, 'secrets.json')).mode & 0o777
  t.is(mode, 0o600, 'secrets are owner-only')
  const secretsText = (await conclave(['--home', a, 'id'])).stdout
  t.absent(secretsText.includes(out.mnemonic.split(' ').slice(0, 3).join(' ')), 'id never prints the words')
})

test('recover with a passphrase gives another account; --device N another device', async (t) => {
  const h1 = join(tmpHome(t), 'h1')
  const h2 = join(tmpHome(t), 'h2')
  const h3 = join(tmpHome(t), 'h3')
  const r1 = JSON.parse(
    (await conclave(['--home', h1, 'recover', '--json'], { input: `${ABANDON_ART}\n` })).stdout
  )
  const r2 = JSON.parse(
    (await conclave(['--home', h2, 'recover', '--json'], { input: `${ABANDON_ART}\nTREZOR\n` })).stdout
  )
  const r3 = JSON.parse(
    (await conclave(['--home', h3, 'recover', '--device', '2', '--json'], { input: `${ABANDON_ART}\n` }))
      .stdout
  )
  t.not(r1.accountId, r2.accountId, 'passphrase changes the account')
  t.is(r3.accountId, r1.accountId, 'same account on another device index')
  t.not(r3.deviceId, r1.deviceId, 'another device id')
  t.is(r3.device, 2)
})

test('bad mnemonics give their code, exit 1, and leave no files', async (t) => {
  const words = ABANDON_ART.split(' ')
  const cases: Array<[string, string]> = [
    [`${'abandon '.repeat(23)}abandon`, 'IDENTITY_MNEMONIC_CHECKSUM'],
    [[...words.slice(0, 23), 'notaword'].join(' '), 'IDENTITY_MNEMONIC_UNKNOWN_WORD'],
    [words.slice(0, 23).join(' '), 'IDENTITY_MNEMONIC_WORD_COUNT'],
    [[...words, 'abandon'].join(' '), 'IDENTITY_MNEMONIC_WORD_COUNT'],
    [`${ABANDON_ART}\ncaf\u00e9`, 'IDENTITY_MNEMONIC_NOT_NFKD'],
    ['', 'CLI_INPUT']
  ]
  for (const [input, code] of cases) {
    const home = join(tmpHome(t), 'h')
    const r = await conclave(['--home', home, 'recover'], { input: `${input}\n` })
    t.is(r.code, 1, `${code}: exit 1`)
    t.ok(r.stderr.startsWith(`${code}:`), `${code}: ${r.stderr.trim()}`)
    t.absent(existsSync(home), `${code}: nothing written`)
  }
})

test('init refuses to overwrite; --force --yes sets the old identity aside', async (t) => {
  const home = join(tmpHome(t), 'h')
  const first = JSON.parse((await conclave(['--home', home, 'init', '--json'])).stdout)
  const again = await conclave(['--home', home, 'init', '--json'])
  t.is(again.code, 1)
  t.ok(again.stderr.startsWith('IDENTITY_EXISTS:'), again.stderr)
  t.is(
    JSON.parse((await conclave(['--home', home, 'id', '--json'])).stdout).accountId,
    first.accountId,
    'unchanged'
  )
  const noConfirm = await conclave(['--home', home, 'init', '--force'])
  t.is(noConfirm.code, 1, 'no confirmation when not interactive')
  const forced = await conclave(['--home', home, 'init', '--force', '--yes', '--json'])
  t.is(forced.code, 0, forced.stderr)
  const second = JSON.parse(forced.stdout)
  t.not(second.accountId, first.accountId)
  const aside = readdirSync(home).filter((n) => n.startsWith('replaced-'))
  t.is(aside.length, 1, 'old identity kept aside, not deleted')
  const recHome = join(tmpHome(t), 'r')
  const rec = await conclave(['--home', recHome, 'recover'], { input: `${first.mnemonic}\n` })
  t.is(rec.code, 0)
  const rec2 = await conclave(['--home', recHome, 'recover'], { input: `${first.mnemonic}\n` })
  t.ok(rec2.stderr.startsWith('IDENTITY_EXISTS:'), 'recover refuses a home with an identity')
})

test('corrupted or unreadable secret file gives a clear error naming the file', async (t) => {
  const home = join(tmpHome(t), 'h')
  await conclave(['--home', home, 'init', '--json'])
  writeFileSync(join(home, 'secrets.json'), '{"v":1, "trunc')
  const r = await conclave(['--home', home, 'id'])
  t.is(r.code, 1)
  t.ok(r.stderr.startsWith('IDENTITY_SECRET_UNREADABLE:'), r.stderr)
  t.ok(r.stderr.includes(join(home, 'secrets.json')), 'names the file')
  const noHome = await conclave(['--home', join(home, 'nope'), 'id'])
  t.ok(noHome.stderr.startsWith('IDENTITY_MISSING:'), noHome.stderr)
})

test('usage errors exit 2; every command has --help', async (t) => {
  const r = await conclave(['init', '--bogus'])
  t.is(r.code, 2)
  t.ok(r.stderr.startsWith('CLI_USAGE:'), r.stderr)
  t.is((await conclave(['frobnicate'])).code, 2)
  for (const cmd of ['init', 'recover', 'id', 'run']) {
    const h = await conclave([cmd, '--help'])
    t.is(h.code, 0, `${cmd} --help`)
    t.ok(h.stdout.startsWith('usage: conclave'), `${cmd} --help prints usage`)
  }
})
