import type { Test } from 'brittle'
import { join } from 'node:path'
import { conclave, tmpHome } from './cli.js'
import type { NodeProcess } from './node-process.js'

export interface Joined {
  accountId: string
  deviceId: string
  device: number
  /** The invite that was used (spent now). */
  invite: string
}

/**
 * Adds a device: `conclave invite` on the running `inviter`, then
 * `conclave join INVITE` on the empty `home` (a separate process). The new
 * device is not started.
 */
export async function inviteAndJoin(
  t: Test,
  inviter: NodeProcess,
  home: string,
  bootstrap: string,
  extra: string[] = []
): Promise<Joined> {
  const inv = await inviter.cli(['invite', '--json', ...extra])
  t.is(inv.code, 0, `invite: ${inv.stderr}`)
  const { invite, expires, device } = JSON.parse(inv.stdout)
  t.ok(invite.startsWith('cinv1_') && expires > Date.now(), `invite for device ${device}`)
  // finding the inviter on the DHT can take longer than join's default 20 s on a loaded machine
  // (the process is killed after 90 s: after join's own bound)
  const joined = await conclave(
    ['--home', home, 'join', invite, '--bootstrap', bootstrap, '--timeout', '60', '--json'],
    { timeoutMs: 90_000 }
  )
  t.is(joined.code, 0, `join: ${joined.stderr}`)
  if (joined.code !== 0) throw new Error(`join failed: ${joined.stderr.trim()}`)
  return { ...(JSON.parse(joined.stdout) as Omit<Joined, 'invite'>), invite }
}

export /** A fresh account on its own home (never run) and its contact card: something to write into a cluster. */
async function strangerCard(t: Test, name: string): Promise<{ accountId: string; card: string }> {
  const home = join(tmpHome(t, name), 'h')
  const init = await conclave(['--home', home, 'init', '--json'])
  t.is(init.code, 0, `init ${name}: ${init.stderr}`)
  const card = await conclave(['--home', home, 'card', '--json'])
  t.is(card.code, 0, `card ${name}: ${card.stderr}`)
  return JSON.parse(card.stdout) as { accountId: string; card: string }
}
