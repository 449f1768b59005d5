// The Syncthing comparison of P5: two local Syncthing instances (the Debian package) re-sync
// the bytes a recovering Conclave device downloads.
//
// S1 and S2 each get their own home (config, keys, database) and data folder in a temporary
// folder, listen on 127.0.0.1 only, and have global and local discovery, relays, NAT/UPnP,
// usage and crash reporting and auto-upgrade turned off (nothing here reaches the internet).
// S1 holds the files — random bytes, so Syncthing cannot copy a block it already has instead
// of fetching it — and has scanned them. S2 is started empty; once its REST API answers, the
// clock starts and S2 is told of S1 (its address) and of the shared folder; it stops when S2's
// `/rest/db/status` says the folder is idle with every file local and nothing needed. The files
// S2 then holds are compared with S1's, byte for byte.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { round, sleep, tempDir } from './common.js'

export interface SyncthingFigure {
  /** S2 told of S1 and the folder → S2 holds every file (s). */
  seconds: number
  /** S2's process spawn → S2 holds every file (s): its start-up (≈ database, keys, REST API) included. */
  fromStartSeconds: number
  /** S2 told of S1 → connected to it (s). */
  connectSeconds: number
  bytes: number
  files: number
  fileBytes: number
  /** What came in over S2's connections (`/rest/system/connections`, inBytesTotal). */
  wireRxBytes: number
  mbPerSecond: number
  /** Before the clock: writing S1's files, starting both instances, S1's scan (s). */
  setupSeconds: { write: number; start: number; scan: number }
  version: string
}

export type SyncthingResult = SyncthingFigure | { skipped: string } | { error: string }

/** `syncthing --version`, or null when it is not installed. */
export function syncthingVersion(): string | null {
  const r = spawnSync('syncthing', ['--version'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return null
  return r.stdout.trim()
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** Sets `<name>…</name>` in config.xml's options; throws when the option is not there. */
function setOption(xml: string, name: string, value: string | number | boolean): string {
  const re = new RegExp(`<${name}>[^<]*</${name}>`)
  if (!re.test(xml)) throw new Error(`syncthing config.xml has no <${name}>`)
  return xml.replace(re, `<${name}>${String(value)}</${name}>`)
}

interface Instance {
  proc: ChildProcess
  id: string
  listen: string
  spawnedAt: number
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>
  stop(): Promise<void>
}

/** Generates a home, closes it to the world, starts `syncthing serve` and waits for its REST API. */
async function startInstance(home: string, name: string, live: Set<ChildProcess>): Promise<Instance> {
  const gen = spawnSync(
    'syncthing',
    ['generate', `--home=${home}`, '--no-default-folder', '--skip-port-probing'],
    { encoding: 'utf8' }
  )
  if (gen.status !== 0) throw new Error(`syncthing generate failed: ${gen.stderr || gen.stdout}`)
  const configPath = join(home, 'config.xml')
  let xml = readFileSync(configPath, 'utf8')
  const id = /<device id="([A-Z0-9-]+)"/.exec(xml)?.[1]
  if (!id) throw new Error('syncthing config.xml has no device id')
  const [listenPort, guiPort] = [await freePort(), await freePort()]
  const listen = `tcp://127.0.0.1:${listenPort}`
  const options: Record<string, string | number | boolean> = {
    listenAddress: listen,
    globalAnnounceEnabled: false,
    localAnnounceEnabled: false,
    relaysEnabled: false,
    natEnabled: false,
    urAccepted: -1,
    crashReportingEnabled: false,
    autoUpgradeIntervalH: 0,
    startBrowser: false,
    stunServer: '',
    announceLANAddresses: false,
    // like the Conclave processes, at normal priority (Syncthing lowers its own by default)
    setLowPriority: false,
    // S2 dials S1 at once when told of it; S1's own redial of S2 needs no minute-long wait
    reconnectionIntervalS: 1
  }
  for (const [k, v] of Object.entries(options)) xml = setOption(xml, k, v)
  xml = xml.replace(/<device id="([A-Z0-9-]+)" name="[^"]*"/, `<device id="$1" name="${name}"`)
  writeFileSync(configPath, xml)

  const apikey = randomBytes(16).toString('hex')
  const gui = `127.0.0.1:${guiPort}`
  const spawnedAt = performance.now()
  const proc = spawn(
    'syncthing',
    [
      'serve',
      `--home=${home}`,
      `--gui-address=http://${gui}`,
      `--gui-apikey=${apikey}`,
      '--no-browser',
      '--no-restart',
      '--no-upgrade',
      '--no-default-folder',
      `--logfile=${join(home, 'syncthing.log')}`
    ],
    { stdio: 'ignore', env: { ...process.env, STNODEFAULTFOLDER: '1', STNOUPGRADE: '1', STNORESTART: '1' } }
  )
  live.add(proc)
  proc.once('exit', () => live.delete(proc))
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`http://${gui}${path}`, {
      method,
      headers: { 'X-API-Key': apikey, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`syncthing ${name} ${method} ${path}: ${res.status} ${text}`)
    return (text ? JSON.parse(text) : null) as T
  }
  const deadline = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`syncthing ${name} exited ${proc.exitCode} (log in ${home})`)
    try {
      const s = await api<{ myID: string }>('GET', '/rest/system/status')
      if (s.myID === id) break
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`syncthing ${name}: REST API not up within 60 s`)
    await sleep(50)
  }
  const stop = async () => {
    if (proc.exitCode !== null) return
    const exited = new Promise<void>((r) => proc.once('exit', () => r()))
    await api('POST', '/rest/system/shutdown').catch(() => {})
    await Promise.race([exited, sleep(10_000)])
    if (proc.exitCode === null) proc.kill('SIGKILL')
  }
  return { proc, id, listen, spawnedAt, api, stop }
}

interface FolderStatus {
  state: string
  globalFiles: number
  localFiles: number
  localBytes: number
  needTotalItems: number
}

/** A folder with its `.stfolder` marker and `files` files of `fileBytes` random bytes, 1,000 to a sub-folder. */
function writeFiles(dir: string, files: number, fileBytes: number): void {
  mkdirSync(join(dir, '.stfolder'), { recursive: true })
  for (let i = 0; i < files; i++) {
    const sub = join(dir, String(Math.floor(i / 1000)).padStart(4, '0'))
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true })
    writeFileSync(join(sub, `${String(i).padStart(7, '0')}.bin`), randomBytes(fileBytes))
  }
}

function sameFiles(a: string, b: string): boolean {
  for (const sub of readdirSync(a)) {
    if (sub === '.stfolder') continue
    for (const f of readdirSync(join(a, sub))) {
      if (!readFileSync(join(a, sub, f)).equals(readFileSync(join(b, sub, f)))) return false
    }
  }
  return true
}

/**
 * S1 holds `files` files of `fileBytes` random bytes; a fresh S2 is told of S1 and the folder
 * and timed until it holds them all. `skipped` when syncthing is not installed.
 */
export async function syncthingResync({
  files,
  fileBytes,
  timeoutMs = 600_000,
  log = () => {}
}: {
  files: number
  fileBytes: number
  timeoutMs?: number
  log?: (s: string) => void
}): Promise<SyncthingResult> {
  const version = syncthingVersion()
  if (!version)
    return {
      skipped:
        'syncthing is not installed (Debian: apt-get install syncthing; `npm run bench` installs it when run as root)'
    }
  const tmp = tempDir('syncthing')
  const live = new Set<ChildProcess>()
  const killAll = () => {
    for (const p of live) p.kill('SIGKILL')
  }
  process.once('exit', killAll)
  const folder = 'conclave-bench'
  try {
    const data1 = join(tmp.dir, 's1-data')
    const data2 = join(tmp.dir, 's2-data')
    const tw = performance.now()
    writeFiles(data1, files, fileBytes)
    mkdirSync(join(data2, '.stfolder'), { recursive: true })
    const ts = performance.now()
    const s1 = await startInstance(join(tmp.dir, 's1-home'), 'S1', live)
    const s2 = await startInstance(join(tmp.dir, 's2-home'), 'S2', live)
    const folderOn = (path: string, type: string) => ({
      id: folder,
      label: folder,
      path,
      type,
      devices: [{ deviceID: s1.id }, { deviceID: s2.id }],
      fsWatcherEnabled: false,
      rescanIntervalS: 3600
    })
    // S1 knows S2 and shares the folder, and has scanned it, before the clock starts
    await s1.api('POST', '/rest/config/devices', { deviceID: s2.id, name: 'S2', addresses: [s2.listen] })
    await s1.api('POST', '/rest/config/folders', folderOn(data1, 'sendonly'))
    const tscan = performance.now()
    const status = (s: Instance) => s.api<FolderStatus>('GET', `/rest/db/status?folder=${folder}`)
    const scanDeadline = Date.now() + timeoutMs
    for (;;) {
      const st = await status(s1).catch(() => null)
      if (st && st.state === 'idle' && st.localFiles === files) break
      if (Date.now() > scanDeadline) throw new Error(`S1 did not scan ${files} files in time`)
      await sleep(100)
    }
    log(`S1 (${s1.id.slice(0, 7)}) holds ${files} files of ${fileBytes} bytes; S2 (${s2.id.slice(0, 7)}) up`)

    // the clock: S2 is told of S1 and of the folder
    const t0 = performance.now()
    const setupSeconds = {
      write: round((ts - tw) / 1000),
      start: round((tscan - ts) / 1000),
      scan: round((t0 - tscan) / 1000)
    }
    await s2.api('POST', '/rest/config/devices', { deviceID: s1.id, name: 'S1', addresses: [s1.listen] })
    await s2.api('POST', '/rest/config/folders', folderOn(data2, 'receiveonly'))
    let connectedAt = Number.NaN
    let doneAt = 0
    const deadline = t0 + timeoutMs
    for (;;) {
      if (Number.isNaN(connectedAt)) {
        const c = await s2.api<{ connections: Record<string, { connected: boolean }> }>(
          'GET',
          '/rest/system/connections'
        )
        if (c.connections[s1.id]?.connected) connectedAt = performance.now()
      }
      const st = await status(s2).catch(() => null)
      if (
        st &&
        st.state === 'idle' &&
        st.globalFiles === files &&
        st.localFiles === files &&
        st.needTotalItems === 0
      ) {
        doneAt = performance.now()
        break
      }
      if (performance.now() > deadline) throw new Error(`S2 did not hold all ${files} files in time`)
      await sleep(50)
    }
    const c = await s2.api<{ connections: Record<string, { inBytesTotal: number }> }>(
      'GET',
      '/rest/system/connections'
    )
    await s2.stop()
    await s1.stop()
    if (!sameFiles(data1, data2)) throw new Error("S2's files differ from S1's")
    const bytes = files * fileBytes
    const seconds = (doneAt - t0) / 1000
    return {
      seconds: round(seconds),
      fromStartSeconds: round((doneAt - s2.spawnedAt) / 1000),
      connectSeconds: round((connectedAt - t0) / 1000),
      bytes,
      files,
      fileBytes,
      wireRxBytes: c.connections[s1.id]?.inBytesTotal ?? 0,
      mbPerSecond: round(bytes / 1e6 / seconds),
      setupSeconds,
      version
    }
  } catch (err) {
    return { error: (err as Error).message }
  } finally {
    killAll()
    process.removeListener('exit', killAll)
    rmSync(tmp.dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (k: string, d: number) =>
    Number(process.argv.find((x) => x.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d)
  const out = await syncthingResync({
    files: arg('files', 10_005),
    fileBytes: arg('bytes', 692),
    log: (s) => process.stderr.write(`bench: syncthing: ${s}\n`)
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  process.exit(0)
}
