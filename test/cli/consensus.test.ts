import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'brittle'
import { conclave, tmpHome } from '../helpers/cli.js'

function ballots(t: Parameters<typeof tmpHome>[0], lines: unknown[]): string {
  const file = join(tmpHome(t, 'ballots'), 'ballots.jsonl')
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n')
  return file
}

test('consensus eval: majority over a ballots file', async (t) => {
  const file = ballots(t, [
    { voter: 'ann', choice: 'yes' },
    { voter: 'bob', choice: 'no' },
    { voter: 'cy', choice: 'yes' }
  ])
  const r = await conclave([
    'consensus',
    'eval',
    '--method',
    'majority',
    '--ballots',
    file,
    '--members',
    '3',
    '--json'
  ])
  t.is(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.is(out.reached, true)
  t.alike(out.winners, ['yes'])
  t.ok(out.outcome, 'outcome present')
  const human = await conclave([
    'consensus',
    'eval',
    '--method',
    'majority',
    '--ballots',
    file,
    '--members',
    '3'
  ])
  t.ok(human.stdout.includes('winners: yes'), human.stdout)

  const unanimity = await conclave([
    'consensus',
    'eval',
    '--method',
    'unanimity',
    '--ballots',
    file,
    '--members',
    '3',
    '--json'
  ])
  t.is(JSON.parse(unanimity.stdout).reached, false, 'unanimity is not reached with a dissent')
})

test('consensus eval: a CEL predicate, and hostile predicates refused', async (t) => {
  const file = ballots(t, [
    { voter: 'ann', choice: 'yes' },
    { voter: 'bob', choice: 'yes' }
  ])
  const ok = await conclave([
    'consensus',
    'eval',
    '--expr',
    'voted == members',
    '--ballots',
    file,
    '--members',
    '2',
    '--json'
  ])
  t.is(ok.code, 0, ok.stderr)
  t.is(JSON.parse(ok.stdout).reached, true)
  const notYet = await conclave([
    'consensus',
    'eval',
    '--expr',
    'voted == members',
    '--ballots',
    file,
    '--members',
    '3',
    '--json'
  ])
  t.is(JSON.parse(notYet.stdout).reached, false)
  for (const expr of [
    '"a".matches("a+")',
    'members.constructor',
    `${'('.repeat(200)}true${')'.repeat(200)}`,
    'frobnicate(1)'
  ]) {
    const r = await conclave(['consensus', 'eval', '--expr', expr, '--ballots', file, '--members', '2'])
    t.is(r.code, 1, `refused: ${expr.slice(0, 30)}`)
    t.ok(r.stderr.startsWith('CONSENSUS_PREDICATE_INVALID:'), r.stderr.trim().slice(0, 120))
  }
})

test('consensus eval: a bad line is named; bad flags are usage errors', async (t) => {
  const file = ballots(t, [{ voter: 'ann', choice: 'yes' }, '{not json', { voter: 'bob', choice: 'no' }])
  const r = await conclave(['consensus', 'eval', '--method', 'majority', '--ballots', file, '--members', '2'])
  t.is(r.code, 1)
  t.ok(r.stderr.startsWith('CONSENSUS_BALLOTS_INVALID:'), r.stderr)
  t.ok(r.stderr.includes('line 2'), 'names the line')
  const both = await conclave([
    'consensus',
    'eval',
    '--method',
    'majority',
    '--expr',
    'true',
    '--ballots',
    file,
    '--members',
    '2'
  ])
  t.is(both.code, 2)
  const noMembers = await conclave(['consensus', 'eval', '--method', 'majority', '--ballots', file])
  t.is(noMembers.code, 2)
  const unknown = await conclave([
    'consensus',
    'eval',
    '--method',
    'no-such',
    '--ballots',
    ballots(t, [{ voter: 'a', choice: 'x' }]),
    '--members',
    '1',
    '--json'
  ])
  t.is(unknown.code, 0, unknown.stderr)
  t.is(JSON.parse(unknown.stdout).unsupported, true, 'an unknown method is unsupported, never guessed')
})
