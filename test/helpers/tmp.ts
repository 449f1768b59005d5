import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'brittle'

/** A fresh folder under the OS temp dir, removed when the test ends (after stores close). */
export async function tmpDir(t: Test, prefix = 'conclave-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }), {
    order: Number.POSITIVE_INFINITY
  })
  return dir
}
