import test from 'brittle'
import fc from 'fast-check'
import { compareHlc, type Hlc, HybridClock, LogClock, logNow } from '../../consensus/index.js'

test('HybridClock.now never goes backwards when the wall clock does', (t) => {
  const c = new HybridClock()
  const a = c.now(1000)
  const b = c.now(900)
  const d = c.now(1000)
  const e = c.now(1001)
  t.alike(a, { wall: 1000, logical: 0 })
  t.alike(b, { wall: 1000, logical: 1 })
  t.alike(d, { wall: 1000, logical: 2 })
  t.alike(e, { wall: 1001, logical: 0 })
})

test('HybridClock.receive merges remote time and caps a clock far ahead', (t) => {
  const c = new HybridClock({ maxAheadMs: 1000 })
  c.now(5000)
  t.alike(c.receive({ wall: 5500, logical: 3 }, 5000), { wall: 5500, logical: 4 })
  t.alike(c.receive({ wall: 5500, logical: 1 }, 5100), { wall: 5500, logical: 5 })
  t.alike(c.receive({ wall: 4000, logical: 9 }, 5200), { wall: 5500, logical: 6 })
  t.alike(
    c.receive({ wall: 10_000_000, logical: 0 }, 6000),
    { wall: 7000, logical: 1 },
    'capped at wall + 1 s'
  )
  t.alike(c.now(8000), { wall: 8000, logical: 0 })
  const resumed = new HybridClock({ initial: { wall: 9000, logical: 2 } })
  t.alike(resumed.now(100), { wall: 9000, logical: 3 })
})

test('HybridClock issues strictly increasing values (property)', (t) => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('now' as const), wall: fc.nat(10_000) }),
    fc.record({
      kind: fc.constant('recv' as const),
      wall: fc.nat(10_000),
      remote: fc.record({ wall: fc.nat(100_000), logical: fc.nat(5) })
    })
  )
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const c = new HybridClock({ maxAheadMs: 500 })
      let prev: Hlc = c.peek()
      for (const s of steps) {
        const next = s.kind === 'now' ? c.now(s.wall) : c.receive(s.remote, s.wall)
        if (compareHlc(next, prev) <= 0) return false
        if (s.kind === 'recv' && next.wall > Math.max(prev.wall, s.wall + 500)) return false
        prev = next
      }
      return true
    }),
    { numRuns: 300 }
  )
  t.pass()
})

test('LogClock keeps the lower median that logNow computes from scratch (property)', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.array(fc.tuple(fc.nat(10), fc.nat(1000)), { maxLength: 80 }),
      (n, events) => {
        const ms = Array.from({ length: n }, (_, i) => `m${i}`)
        const clock = new LogClock(ms)
        const latest = new Map(ms.map((m) => [m, 0]))
        let now = 0
        for (const [who, time] of events) {
          const m = `m${who}`
          clock.observe(m, time)
          if (latest.has(m)) latest.set(m, Math.max(latest.get(m)!, time))
          now = logNow(now, [...latest.values()])
          if (clock.median !== now) return false
        }
        return true
      }
    ),
    { numRuns: 400 }
  )
  t.is(logNow(5, []), 5)
  t.is(logNow(0, [10, 20, 30, 40]), 20, 'four members: time T needs three at T')
  t.is(logNow(0, [10, 20, 30]), 20)
  t.is(logNow(25, [10, 20, 30]), 25, 'never decreases')
})
