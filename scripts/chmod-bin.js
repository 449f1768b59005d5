// tsc does not keep the executable bit: set it on the CLI entry point so that
// npx (and a global install) can run it directly.
import { chmodSync } from 'node:fs'

chmodSync('dist/bin/conclave.js', 0o755)
