#!/usr/bin/env node
import { KernelErrors } from '../src/kernel/errors.js'
import { type Command, type CommandContext, println, reportError } from './cli.js'
import { id, init, recover } from './commands/identity.js'
import { run } from './commands/run.js'
import { invite, join, revoke, status } from './commands/cluster.js'
import { consensus } from './commands/consensus.js'
import { card, friend } from './commands/friends.js'

const COMMANDS: Command[] = [init, recover, id, run, status, invite, join, revoke, card, friend, consensus]

function usage(ctx: Pick<CommandContext, 'stdout'>): void {
  const lines = [
    'usage: conclave [--home DIR] COMMAND [options]',
    '',
    'home: --home, else $CONCLAVE_HOME, else ~/.conclave',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`),
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
        usage(ctx)
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
      usage(ctx)
      return 2
    }
    const cmd = COMMANDS.find((c) => c.name === name)
    if (!cmd) throw KernelErrors.CLI_USAGE(`unknown command "${name}" (see conclave --help)`)
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
