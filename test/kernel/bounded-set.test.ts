import test from 'brittle'
import { BoundedSet } from '../../src/kernel/bounded-set.js'

test('a bounded set keeps at most its bound, dropping the oldest added first', (t) => {
  const s = new BoundedSet(3)
  for (const v of ['a', 'b', 'c']) s.add(v)
  s.add('b') // already there: nothing is dropped, the order stays
  t.is(s.size, 3)
  s.add('d')
  t.is(s.size, 3, 'never above the bound')
  t.absent(s.has('a'), 'the oldest went')
  t.ok(s.has('b') && s.has('c') && s.has('d'), 'the rest stay')
  s.add('e')
  t.absent(s.has('b'), 'then the next oldest')
})
