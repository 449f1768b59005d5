import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, resolveHome } from '../../src/kernel/config.js'
import { KernelErrors } from '../../src/kernel/errors.js'
import {
  hasIdentity,
  identityFromSeed,
  loadIdentity,
  writeIdentity
} from '../../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed, normalizeMnemonic } from '../../src/kernel/identity/mnemonic.js'
import {
  type Command,
  type CommandContext,
  confirm,
  parse,
  printJson,
  println,
  readSecretLines
} from '../cli.js'

/** Moves an old identity (and everything else in the home) aside instead of deleting it. */
function setAside(home: string): string {
  const dest = join(home, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  mkdirSync(dest, { recursive: true, mode: 0o700 })
  for (const name of readdirSync(home)) {
    if (name.startsWith('replaced-')) continue
    renameSync(join(home, name), join(dest, name))
  }
  return dest
}

export const init: Command = {
  name: 'init',
  summary: 'create a new account and this device (device 0); shows the 24 words once',
  usage: 'conclave init [--passphrase] [--no-keep-root] [--force [--yes]] [--json]',
  help: `Creates a new account: 24 BIP39 words are generated and shown ONCE; write them down.
They are the only way to recover the account. Nothing secret is ever printed again.

  --passphrase     read an optional BIP39 passphrase (a "25th word") from stdin or a prompt
  --no-keep-root   keep only this device's own secrets, not the root (the seed)
  --force          replace an existing identity; asks for confirmation (the old files are
                   moved to HOME/replaced-<time>/, never deleted); --yes confirms without a prompt
  --json           print { mnemonic, accountId, deviceId, device, home } as JSON`,
  async run(ctx) {
    const { values } = parse(ctx.argv, {
      json: { type: 'boolean' },
      passphrase: { type: 'boolean' },
      'no-keep-root': { type: 'boolean' },
      force: { type: 'boolean' },
      yes: { type: 'boolean' }
    })
    const home = resolveHome(ctx.home, ctx.env)
    if (hasIdentity(home)) {
      if (!values.force) {
        throw KernelErrors.IDENTITY_EXISTS(`${home} already holds an identity; use --force to replace it`, {
          data: { home }
        })
      }
      const ok =
        values.yes ||
        (await confirm(ctx, `Replace the identity in ${home}? Type "replace" to confirm: `, 'replace'))
      if (!ok)
        throw KernelErrors.IDENTITY_EXISTS(
          'not replaced: confirmation missing (use --yes when not interactive)'
        )
    }
    let passphrase = ''
    if (values.passphrase) {
      const [line] = await readSecretLines(ctx, ['BIP39 passphrase: '])
      passphrase = line ?? ''
    }
    const mnemonic = generateMnemonic()
    const seed = mnemonicToSeed(mnemonic, passphrase)
    const { identity, secrets } = identityFromSeed(seed, { device: 0, keepRoot: !values['no-keep-root'] })
    if (hasIdentity(home)) setAside(home)
    writeIdentity(home, identity, secrets)
    if (values.json) {
      printJson(ctx, {
        mnemonic,
        accountId: identity.accountId,
        deviceId: identity.deviceId,
        device: 0,
        home
      })
      return 0
    }
    println(ctx, 'Your recovery words (shown once; write them down and keep them offline):')
    println(ctx)
    const words = mnemonic.split(' ')
    for (let i = 0; i < words.length; i += 6) {
      println(
        ctx,
        words
          .slice(i, i + 6)
          .map((w, j) => `${String(i + j + 1).padStart(2)}. ${w.padEnd(9)}`)
          .join(' ')
      )
    }
    println(ctx)
    println(ctx, `account ${identity.accountId}`)
    println(ctx, `device  ${identity.deviceId} (device 0)`)
    println(ctx, `home    ${home}`)
    return 0
  }
}

export const recover: Command = {
  name: 'recover',
  summary: 'restore this device from the 24 words (offline)',
  usage: 'conclave recover [--device N] [--no-keep-root] [--json]',
  help: `Reads the 24 words (first line) and an optional BIP39 passphrase (second line) from
stdin, or prompts for them. Restores device N's keys (default 0) into an empty home, offline.
The next "conclave run" finds the cluster, moves this device to a new writer epoch and resyncs.

  --device N       which device of the account this home becomes (default 0)
  --no-keep-root   keep only this device's own secrets, not the root (the seed)
  --json           print { accountId, deviceId, device, recovered: true } as JSON`,
  async run(ctx) {
    const { values } = parse(ctx.argv, {
      json: { type: 'boolean' },
      device: { type: 'string' },
      'no-keep-root': { type: 'boolean' }
    })
    const device = values.device === undefined ? 0 : Number(values.device)
    if (!values.device?.match(/^\d+$/) && values.device !== undefined) {
      throw KernelErrors.CLI_USAGE('--device takes a whole number')
    }
    if (!Number.isSafeInteger(device) || device >= 2 ** 31)
      throw KernelErrors.CLI_USAGE('--device out of range')
    const home = resolveHome(ctx.home, ctx.env)
    if (hasIdentity(home)) {
      throw KernelErrors.IDENTITY_EXISTS(`${home} already holds an identity; recover into an empty home`, {
        data: { home }
      })
    }
    const [words = '', passphrase = ''] = await readSecretLines(ctx, [
      'Recovery words: ',
      'BIP39 passphrase (empty if none): '
    ])
    if (words.trim() === '') throw KernelErrors.CLI_INPUT('no recovery words given (first line of stdin)')
    // every check happens before anything is written: bad words leave no files
    const mnemonic = normalizeMnemonic(words)
    const seed = mnemonicToSeed(mnemonic, passphrase)
    const { identity, secrets } = identityFromSeed(seed, {
      device,
      keepRoot: !values['no-keep-root'],
      recovered: true
    })
    writeIdentity(home, identity, secrets)
    if (values.json) {
      printJson(ctx, {
        accountId: identity.accountId,
        deviceId: identity.deviceId,
        device,
        recovered: true,
        home
      })
    } else {
      println(ctx, `recovered account ${identity.accountId}, device ${device} (${identity.deviceId})`)
      println(ctx, 'next: "conclave run" finds your cluster, settles a new writer epoch and resyncs')
    }
    return 0
  }
}

export const id: Command = {
  name: 'id',
  summary: "print this device's account id, device id, index, writer epoch and roles",
  usage: 'conclave id [--json]',
  async run(ctx: CommandContext) {
    const { values } = parse(ctx.argv, { json: { type: 'boolean' } })
    const home = resolveHome(ctx.home, ctx.env)
    if (!existsSync(home))
      throw KernelErrors.IDENTITY_MISSING(`no home folder at ${home}; run "conclave init"`)
    const { identity } = loadIdentity(home)
    const out = {
      accountId: identity.accountId,
      deviceId: identity.deviceId,
      device: identity.device,
      epoch: identity.epoch,
      roles: loadConfig({ home, env: ctx.env }).roles,
      keepsRoot: identity.keepsRoot,
      recovered: identity.recovered
    }
    if (values.json) printJson(ctx, out)
    else {
      println(ctx, `account ${out.accountId}`)
      println(ctx, `device  ${out.deviceId} (device ${out.device}, writer epoch ${out.epoch})`)
      println(ctx, `root    ${out.keepsRoot ? 'kept on this device' : 'not kept here'}`)
      if (out.recovered) println(ctx, 'state   recovered; the next run settles a new writer epoch')
    }
    return 0
  }
}
