import { readFileSync } from 'node:fs'
import test from 'brittle'
import fc from 'fast-check'
import { HDKey } from 'micro-key-producer/slip10.js'
import { isConclaveError } from '../../../src/kernel/errors.js'
import { HARDENED_OFFSET, slip10Derive, slip10Master } from '../../../src/kernel/identity/slip10.js'

interface Chain {
  path: string
  chainCode: string
  private: string
  public: string
}
interface Slip10Fixture {
  vectors: { name: string; seed: string; chains: Chain[] }[]
}

const fixture: Slip10Fixture = JSON.parse(
  readFileSync(new URL('../../../../test/fixtures/slip10-ed25519-vectors.json', import.meta.url), 'utf8')
)

/** "m/0H/2147483647H" → [0, 2147483647] (indices without the hardened bit, as slip10Derive takes them). */
function parsePath(path: string): number[] {
  if (path === 'm') return []
  return path
    .split('/')
    .slice(1)
    .map((p) => {
      if (!p.endsWith('H')) throw new Error(`non-hardened index in ${path}`)
      return Number(p.slice(0, -1))
    })
}

test('slip10: official ed25519 test vectors 1 and 2', (t) => {
  t.is(fixture.vectors.length, 2)
  for (const v of fixture.vectors) {
    t.is(v.chains.length, 6, `${v.name}: six chains`)
    for (const c of v.chains) {
      const r = slip10Derive(Buffer.from(v.seed, 'hex'), parsePath(c.path))
      t.is(r.chainCode.toString('hex'), c.chainCode, `${v.name} ${c.path} chain code`)
      t.is(r.key.toString('hex'), c.private, `${v.name} ${c.path} private`)
      t.is(`00${r.publicKey.toString('hex')}`, c.public, `${v.name} ${c.path} public`)
    }
  }
})

test('slip10: master equals the empty path', (t) => {
  const seed = Buffer.from(fixture.vectors[0]!.seed, 'hex')
  const m = slip10Master(seed)
  const d = slip10Derive(seed, [])
  t.alike(m.key, d.key)
  t.alike(m.chainCode, d.chainCode)
})

test('slip10: agrees with micro-key-producer on random seeds and paths', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 64 }),
      fc.array(fc.integer({ min: 0, max: HARDENED_OFFSET - 1 }), { maxLength: 6 }),
      (seed, path) => {
        const ours = slip10Derive(seed, path)
        const theirs = HDKey.fromMasterSeed(seed).derive(['m', ...path.map((i) => `${i}'`)].join('/'))
        return (
          ours.key.equals(Buffer.from(theirs.privateKey)) &&
          ours.chainCode.equals(Buffer.from(theirs.chainCode)) &&
          ours.publicKey.equals(Buffer.from(theirs.publicKeyRaw))
        )
      }
    ),
    { numRuns: 100 }
  )
  t.pass('100 runs')
})

test('slip10: bad indices and seeds are refused', (t) => {
  const seed = Buffer.alloc(64, 1)
  for (const index of [-1, HARDENED_OFFSET, HARDENED_OFFSET + 1, 1.5, Number.NaN]) {
    try {
      slip10Derive(seed, [0, index])
      t.fail(`index ${index} accepted`)
    } catch (err) {
      t.ok(isConclaveError(err, 'CRYPTO_INVALID_INPUT'), `index ${index}`)
    }
  }
  for (const len of [0, 15, 65]) {
    try {
      slip10Master(Buffer.alloc(len))
      t.fail(`${len}-byte seed accepted`)
    } catch (err) {
      t.ok(isConclaveError(err, 'CRYPTO_INVALID_KEY'), `${len}-byte seed`)
    }
  }
})
