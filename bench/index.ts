// npm run bench [-- --quick]: every benchmark, one JSON object on stdout.
import { run as archive } from './archive.js'
import { run as archiveOpen } from './archive-open.js'
import { run as consensus } from './consensus.js'
import { run as conversation } from './conversation.js'
import { run as http } from './http.js'
import { run as node } from './node.js'
import { run as recovery } from './recovery.js'

const quick = process.argv.includes('--quick')
const out: Record<string, unknown> = {}
for (const [name, fn] of [
  ['consensus', consensus],
  ['archive', archive],
  ['archive-open', archiveOpen],
  ['node', node],
  ['http', http],
  ['conversation', conversation],
  ['recovery', recovery]
] as const) {
  process.stderr.write(`bench: ${name}…\n`)
  try {
    Object.assign(out, await fn({ quick }))
  } catch (err) {
    out[`${name}_error`] = (err as Error).message
  }
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
process.exit(0)
