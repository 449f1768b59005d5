import type { Test } from 'brittle'
import { conclave } from './cli.js'
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
  const joined = await conclave(['--home', home, 'join', invite, '--bootstrap', bootstrap, '--json'])
  t.is(joined.code, 0, `join: ${joined.stderr}`)
  if (joined.code !== 0) throw new Error(`join failed: ${joined.stderr.trim()}`)
  return { ...(JSON.parse(joined.stdout) as Omit<Joined, 'invite'>), invite }
}
