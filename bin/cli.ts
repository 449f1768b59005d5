import { createInterface } from 'node:readline'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { ConclaveError, KernelErrors } from '../src/kernel/errors.js'

/** What a command gets: its own arguments, the global home flag, and the process environment. */
export interface CommandContext {
  argv: string[]
  home: string | undefined
  env: Record<string, string | undefined>
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
}

export interface Command {
  name: string
  summary: string
  usage: string
  /** Long help shown by `conclave COMMAND --help`. */
  help?: string
  run(ctx: CommandContext): Promise<number | undefined>
}

export type Options = NonNullable<ParseArgsConfig['options']>

/** parseArgs with usage errors mapped to CLI_USAGE (exit 2). */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true })
  } catch (err) {
    throw KernelErrors.CLI_USAGE((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''))
  }
}

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function println(ctx: CommandContext, text = ''): void {
  ctx.stdout.write(`${text}\n`)
}

/** Exit code for an error: 2 for usage errors, 1 for everything else. */
export function reportError(ctx: Pick<CommandContext, 'stderr'>, err: unknown): number {
  if (err instanceof ConclaveError) {
    ctx.stderr.write(`${err.code}: ${err.message}\n`)
    return err.code === 'CLI_USAGE' ? 2 : 1
  }
  const e = err as Error
  ctx.stderr.write(`INTERNAL_ERROR: ${e?.stack ?? String(err)}\n`)
  return 1
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Reads secret lines (words, passphrases): all of stdin when it is piped,
 * otherwise one prompt per line with the terminal echo turned off. Secrets
 * never come from arguments, where `ps` would show them.
 */
export async function readSecretLines(ctx: CommandContext, prompts: string[]): Promise<string[]> {
  if (!ctx.stdin.isTTY) {
    const text = await readAll(ctx.stdin)
    return text.split(/\r?\n/)
  }
  const out: string[] = []
  for (const p of prompts) out.push(await promptHidden(ctx, p))
  return out
}

function promptHidden(ctx: CommandContext, question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: ctx.stdin, output: ctx.stderr, terminal: true })
    const rlAny = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream }
    let asked = false
    rlAny._writeToOutput = (s: string) => {
      if (!asked) {
        rlAny.output.write(s)
        asked = true
      }
    }
    rl.question(question, (answer) => {
      rl.close()
      ctx.stderr.write('\n')
      resolve(answer)
    })
  })
}

/** Asks a yes/no style question on a terminal; refuses (false) when not interactive. */
export async function confirm(ctx: CommandContext, question: string, expected: string): Promise<boolean> {
  if (!ctx.stdin.isTTY) return false
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr })
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve))
  rl.close()
  return answer.trim() === expected
}
