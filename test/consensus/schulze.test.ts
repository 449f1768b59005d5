import test from 'brittle'
import fc from 'fast-check'
import { evalBallotsText, schulzeWinners, strongestPaths } from '../../consensus/index.js'
import { members, msg, run, winners } from './helpers.js'

/** Expands "5 ACBED"-style groups into one JSONL ranking line per voter. */
function election(groups: Array<[number, string]>): string {
  const lines: string[] = []
  for (const [n, order] of groups) {
    for (let i = 0; i < n; i++)
      lines.push(JSON.stringify({ voter: `v${lines.length + 1}`, ranking: order.split('') }))
  }
  return lines.join('\n')
}

function schulzeOf(groups: Array<[number, string]>, options: string[]) {
  const voters = groups.reduce((a, [n]) => a + n, 0)
  return evalBallotsText(election(groups), { method: 'schulze', members: voters, options })
}

// Published examples (Wikipedia "Schulze method"; Electowiki examples 2–4), with their known winners.
test('schulze: the 45-voter Wikipedia example elects E, with the published strongest paths', (t) => {
  const r = schulzeOf(
    [
      [5, 'ACBED'],
      [5, 'ADECB'],
      [8, 'BEDAC'],
      [3, 'CABED'],
      [7, 'CAEBD'],
      [2, 'CBADE'],
      [7, 'DCEBA'],
      [8, 'EBADC']
    ],
    ['A', 'B', 'C', 'D', 'E']
  )
  t.is(r.reached, true)
  t.alike(r.winners, ['E'])
  t.alike(r.outcome?.pairwise, {
    A: { B: 20, C: 26, D: 30, E: 22 },
    B: { A: 25, C: 16, D: 33, E: 18 },
    C: { A: 19, B: 29, D: 17, E: 24 },
    D: { A: 15, B: 12, C: 28, E: 14 },
    E: { A: 23, B: 27, C: 21, D: 31 }
  })
  t.alike(r.outcome?.strongest, {
    A: { B: 28, C: 28, D: 30, E: 24 },
    B: { A: 25, C: 28, D: 33, E: 24 },
    C: { A: 25, B: 29, D: 29, E: 24 },
    D: { A: 25, B: 28, C: 28, E: 24 },
    E: { A: 25, B: 28, C: 28, D: 31 }
  })
  t.alike(r.outcome?.tied, [], 'E is the only potential winner')
})

test('schulze: Electowiki example 2 (30 voters, 4 options) elects D', (t) => {
  const r = schulzeOf(
    [
      [5, 'ACBD'],
      [2, 'ACDB'],
      [3, 'ADCB'],
      [4, 'BACD'],
      [3, 'CBDA'],
      [3, 'CDBA'],
      [1, 'DACB'],
      [5, 'DBAC'],
      [4, 'DCBA']
    ],
    ['A', 'B', 'C', 'D']
  )
  t.alike(r.winners, ['D'])
})

test('schulze: Electowiki example 3 (30 voters, 5 options) elects B', (t) => {
  const r = schulzeOf(
    [
      [3, 'ABDEC'],
      [5, 'ADEBC'],
      [1, 'ADECB'],
      [2, 'BADEC'],
      [2, 'BDECA'],
      [4, 'CABDE'],
      [6, 'CBADE'],
      [2, 'DBECA'],
      [5, 'DECAB']
    ],
    ['A', 'B', 'C', 'D', 'E']
  )
  t.alike(r.winners, ['B'])
})

test('schulze: Electowiki example 4 ties B and D; the hash picks one of them', (t) => {
  const r = schulzeOf(
    [
      [3, 'ABCD'],
      [2, 'DABC'],
      [2, 'DBCA'],
      [2, 'CBDA']
    ],
    ['A', 'B', 'C', 'D']
  )
  t.alike([...(r.outcome?.tied as string[])].sort(), ['B', 'D'])
  t.is(r.winners.length, 1)
  t.is(r.winners[0], (r.outcome?.tied as string[])[0])
})

test('schulze: early only when a Condorcet margin exceeds the votes still out', (t) => {
  const c = { conversationId: 'c', method: 'schulze', options: ['a', 'b', 'c'], members: members(5) }
  const three = [msg.ranking('m1', ['a', 'b']), msg.ranking('m2', ['a', 'c']), msg.ranking('m3', ['a'])]
  const r = run(c, three)
  t.is(r.result.reached, true, 'a beats b and c 3–0 with 2 votes out')
  t.alike(winners(r.result), ['a'])
  const two = run(c, three.slice(0, 2))
  t.is(two.result.reached, false, '2–0 with 3 out is not decisive')
  t.is(two.result.outcome?.leading, 'a')
  const bad = run(c, [msg.ranking('m1', ['a', 'a']), msg.ranking('m2', ['z']), msg.choice('m3', 'a')])
  t.alike(
    bad.rejections.map((x) => x?.reason),
    ['duplicate-option', 'unknown-option', 'wrong-ballot-kind']
  )
})

test('schulze: elects the Condorcet winner whenever there is one (property)', (t) => {
  const k = 4
  const arb = fc.array(fc.array(fc.integer({ min: 0, max: k - 1 }), { maxLength: k }), {
    minLength: 1,
    maxLength: 40
  })
  let checked = 0
  fc.assert(
    fc.property(arb, (rankings) => {
      const d = new Array<number>(k * k).fill(0)
      for (const raw of rankings) {
        const r = [...new Set(raw)]
        for (let x = 0; x < k; x++) {
          for (let y = 0; y < k; y++) {
            const px = r.indexOf(x)
            const py = r.indexOf(y)
            if (x !== y && px >= 0 && (py < 0 || px < py)) d[x * k + y]!++
          }
        }
      }
      const w = schulzeWinners(strongestPaths(d, k), k)
      if (w.length === 0) return false
      for (let x = 0; x < k; x++) {
        let condorcet = true
        for (let y = 0; y < k; y++) if (y !== x && d[x * k + y]! <= d[y * k + x]!) condorcet = false
        if (condorcet) {
          checked++
          return w.length === 1 && w[0] === x
        }
      }
      return true
    }),
    { numRuns: 300 }
  )
  t.ok(checked > 0, `${checked} cases had a Condorcet winner`)
})
