#!/usr/bin/env node
import { KernelErrors } from '../src/kernel/errors.js'
import { type Command, type CommandContext, println, reportError } from './cli.js'
import { holdYoungGeneration } from './young-generation.js'

/**
 * Commands load lazily: `conclave id` should not pay for loading the node,
 * the swarm and the HTTP server it never uses.
 */
const COMMANDS: Array<{ name: string; load: () => Promise<Command> }> = [
  { name: 'init', load: async () => (await import('./commands/identity.js')).init },
  { name: 'recover', load: async () => (await import('./commands/identity.js')).recover },
  { name: 'id', load: async () => (await import('./commands/identity.js')).id },
  { name: 'run', load: async () => (await import('./commands/run.js')).run },
  { name: 'onion-service', load: async () => (await import('./commands/onion.js')).onionService },
  { name: 'status', load: async () => (await import('./commands/cluster.js')).status },
  { name: 'invite', load: async () => (await import('./commands/cluster.js')).invite },
  { name: 'join', load: async () => (await import('./commands/cluster.js')).join },
  { name: 'revoke', load: async () => (await import('./commands/cluster.js')).revoke },
  { name: 'card', load: async () => (await import('./commands/friends.js')).card },
  { name: 'friend', load: async () => (await import('./commands/friends.js')).friend },
  { name: 'convo', load: async () => (await import('./commands/convo.js')).convo },
  { name: 'vote', load: async () => (await import('./commands/convo.js')).vote },
  { name: 'ack', load: async () => (await import('./commands/convo.js')).ack },
  { name: 'object', load: async () => (await import('./commands/convo.js')).object },
  { name: 'archive', load: async () => (await import('./commands/archive.js')).archive },
  { name: 'consensus', load: async () => (await import('./commands/consensus.js')).consensus },
  { name: 'demo', load: async () => (await import('./commands/demo.js')).demo }
]

async function usage(ctx: Pick<CommandContext, 'stdout'>): Promise<void> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()))
  const lines = [
    'usage: conclave [--home DIR] COMMAND [options]',
    '',
    'home: --home, else $CONCLAVE_HOME, else ~/.conclave',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`),
    '',
    'conclave COMMAND --help shows the options of one command.'
  ]
  ctx.stdout.write(`${lines.join('\n')}\n`)
}

/** Splits `[--home DIR] COMMAND [SUBCOMMAND] args…` and runs the command. */
export async function main(argv: string[], ctx: Omit<CommandContext, 'argv' | 'home'>): Promise<number> {
  let home: string | undefined
  const rest = [...argv]
  try {
    while (rest.length > 0 && rest[0]!.startsWith('--')) {
      const flag = rest.shift()!
      if (flag === '--home') {
        home = rest.shift()
        if (!home) throw KernelErrors.CLI_USAGE('--home needs a folder')
      } else if (flag.startsWith('--home=')) {
        home = flag.slice('--home='.length)
      } else if (flag === '--help' || flag === '-h') {
        await usage(ctx)
        return 0
      } else if (flag === '--version') {
        println({ ...ctx, argv: [], home }, '0.1.0')
        return 0
      } else {
        throw KernelErrors.CLI_USAGE(`unknown global option ${flag}`)
      }
    }
    const name = rest.shift()
    if (!name) {
      await usage(ctx)
      return 2
    }
    const entry = COMMANDS.find((c) => c.name === name)
    if (!entry) throw KernelErrors.CLI_USAGE(`unknown command "${name}" (see conclave --help)`)
    // the node's start, before its modules load (run releases it once ready)
    if (name === 'run') holdYoungGeneration()
    const cmd = await entry.load()
    if (rest.includes('--help') || rest.includes('-h')) {
      ctx.stdout.write(`usage: ${cmd.usage}\n\n${cmd.help ?? cmd.summary}\n`)
      return 0
    }
    return (await cmd.run({ ...ctx, argv: rest, home })) ?? 0
  } catch (err) {
    return reportError(ctx, err)
  }
}

const code = await main(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin
})
// long-running commands (run, demo) keep the process alive themselves
if (code !== -1) process.exitCode = code
