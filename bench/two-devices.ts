// Two own devices of one account in a discussion with a friend, as bench/recovery.ts and
// bench/archive-open.ts start them: A (device 0) creates the account, B (device 1, an
// indexer) joins it with an invite; A starts a discussion (lazy consensus, deadline in
// 24 h) with the card of a friend's account that never runs. Each device is a real
// ConclaveNode in its own process (bench/recovery-peer.ts, mode "node").
import { join } from 'node:path'
import { identityFromSeed, writeIdentity } from '../src/kernel/identity/home-store.js'
import { generateMnemonic, mnemonicToSeed } from '../src/kernel/identity/mnemonic.js'
import { offlineCard } from '../src/node/card.js'
import { type Peer, until } from './common.js'

export interface TwoDevices {
  a: Peer
  b: Peer
  /** the conversation's id; B is a writer of it */
  id: string
  mnemonic: string
  homeA: string
  homeB: string
}

/** What the recovery peer's `show` op answers. */
export interface Shown {
  total: number
  viewHash: string
  at: number
  log: { writable: boolean; viewLength: number; viewSignedLength: number }
}

/** Starts A and B in `dir` (homes `a`, `b`, `friend`) with `start`, and the conversation. */
export async function twoDevicesInConversation(
  dir: string,
  start: (mode: 'node') => Promise<Peer>
): Promise<TwoDevices> {
  // a friend whose account never runs: its card is all a conversation needs
  const friendHome = join(dir, 'friend')
  const f = identityFromSeed(mnemonicToSeed(generateMnemonic()), { device: 0 })
  writeIdentity(friendHome, f.identity, f.secrets)
  const friend = offlineCard(friendHome, Date.now())

  const homeA = join(dir, 'a')
  const homeB = join(dir, 'b')
  const mnemonic = generateMnemonic()
  const a = await start('node')
  const b = await start('node')
  await a.call('create', { home: homeA, mnemonic })
  const { invite } = await a.call<{ invite: string }>('invite')
  await b.call('join', { home: homeB, invite })
  type St = { writable: boolean; devices: number }
  await until(
    'B writable, two devices on both',
    async () => {
      const [sa, sb] = await Promise.all([a.call<St>('status'), b.call<St>('status')])
      return sb.writable && sa.devices === 2 && sb.devices === 2
    },
    120_000
  )
  await a.call('addFriend', { card: friend.card })
  const { id } = await a.call<{ id: string }>('startConvo', { with: friend.accountId })
  await until(
    'B a writer of the conversation',
    async () => (await b.call<Shown>('show', { id }).catch(() => null))?.log.writable ?? false,
    120_000
  )
  return { a, b, id, mnemonic, homeA, homeB }
}
