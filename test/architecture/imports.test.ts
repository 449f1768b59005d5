import test from 'brittle'
import { check, checkTree, sourceFiles } from '../helpers/import-rules.js'

const ROOT = process.cwd()

test('no domain folder imports another against DESIGN §2', (t) => {
  const files = sourceFiles(ROOT)
  t.ok(files.length > 5, `scanned ${files.length} source files`)
  const v = checkTree(ROOT)
  t.alike(v, [], v.map((x) => `${x.file} imports ${x.spec} (${x.from} -> ${x.to})`).join('\n') || 'clean')
})

test('the checker catches forbidden directions', (t) => {
  t.is(
    check('cluster/membership.ts', "import { x } from '../archive/seal.js'").length,
    1,
    'cluster -> archive'
  )
  t.is(check('src/kernel/a.ts', "import { y } from '../node/node.js'").length, 1, 'kernel -> node')
  t.is(
    check('consensus/a.ts', "import type { Z } from '../conversations/z.js'").length,
    1,
    'consensus -> conversations'
  )
  t.is(
    check('src/http/a.ts', "const m = await import('../../archive/x.js')").length,
    1,
    'dynamic import http -> archive'
  )
  t.is(
    check('conversations/a.ts', "export { c } from '../consensus/index.js'").length,
    0,
    'conversations -> consensus ok'
  )
  t.is(check('src/node/a.ts', "import { k } from '../kernel/errors.js'").length, 0, 'node -> kernel ok')
  t.is(check('bin/x.ts', "import { n } from '../src/node/node.js'").length, 0, 'bin -> node ok')
  t.is(check('bin/x.ts', "import { n } from '../cluster/x.js'").length, 1, 'bin -> cluster refused')
  t.is(check('cluster/a.ts', "import sodium from 'sodium-native'").length, 0, 'packages are not restricted')
})
