import test, { type Test } from 'brittle'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { viewHash } from '../../src/kernel/substrate/index.js'
import { tmpDir } from '../helpers/tmp.js'

async function bee(t: Test, name: string): Promise<Hyperbee<string, unknown>> {
  const store = new Corestore(await tmpDir(t))
  const b = new Hyperbee<string, unknown>(store.get({ name }), {
    keyEncoding: 'utf-8',
    valueEncoding: 'json',
    extension: false
  })
  t.teardown(async () => {
    await b.close()
    await store.close()
  })
  await b.ready()
  return b
}

test('viewHash depends on content only, not on insertion order or history', async (t) => {
  const one = await bee(t, 'one')
  const two = await bee(t, 'two')
  const empty = await bee(t, 'empty')
  await one.put('a', 1)
  await one.put('b', { x: [1, 2] })
  await one.put('c', 'gone')
  await one.del('c')
  await two.put('b', { x: [1, 2] })
  await two.put('a', 0)
  await two.put('a', 1)
  t.is(
    (await viewHash(one)).toString('hex'),
    (await viewHash(two)).toString('hex'),
    'same entries, same hash'
  )
  t.is((await viewHash(one)).byteLength, 32, '32 bytes')

  await two.put('c', null)
  t.not(
    (await viewHash(one)).toString('hex'),
    (await viewHash(two)).toString('hex'),
    'an extra key changes it'
  )
  await two.del('c')
  await two.put('a', 2)
  t.not(
    (await viewHash(one)).toString('hex'),
    (await viewHash(two)).toString('hex'),
    'a changed value changes it'
  )
  t.not(
    (await viewHash(empty)).toString('hex'),
    (await viewHash(one)).toString('hex'),
    'the empty view has its own hash'
  )
})

test('viewHash separates key and value boundaries', async (t) => {
  const one = await bee(t, 'one')
  const two = await bee(t, 'two')
  await one.put('ab', 'c')
  await two.put('a', 'bc')
  t.not(
    (await viewHash(one)).toString('hex'),
    (await viewHash(two)).toString('hex'),
    'length prefixes keep ab|c apart from a|bc'
  )
})
