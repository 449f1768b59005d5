import { z } from 'zod'
import type { ApplyContext } from './apply-context.js'
import { type SignedCard, verifyCard } from './contact-card.js'
import { FRIEND } from './entries.js'
import { ClusterErrors } from './errors.js'
import { friendDeviceKey, friendKey } from './view-layout.js'

/**
 * Friends: contact cards added with `conclave friend add`, stored in the
 * cluster view so every own device learns them. Friendship is mutual: each
 * side adds the other's card. A newer card of the same account replaces the
 * older one (devices added or revoked since).
 */

export interface FriendDevice {
  deviceId: string
  device: number
  signingKey: string
  xwingKey: string
  roles: Array<'access' | 'relay'>
}

/** Value of `friend/<accountId>`. */
export interface FriendRecord {
  accountId: string
  name: string | null
  topic: string
  devices: FriendDevice[]
  addresses: Array<{ deviceId: string; address: string }>
  issuedAt: number
  card: SignedCard
}

export const FriendEntrySchema = z
  .object({ type: z.literal(FRIEND), v: z.literal(1), card: z.unknown() })
  .strict()
  .transform((e) => e as { type: typeof FRIEND; v: 1; card: unknown })

export function friendRecord(card: SignedCard, devices: FriendDevice[]): FriendRecord {
  return {
    accountId: card.card.accountId,
    name: card.card.name ?? null,
    topic: card.card.topic,
    devices,
    addresses: card.card.addresses,
    issuedAt: card.card.issuedAt,
    card
  }
}

export async function applyFriend(ctx: ApplyContext, entry: { card: unknown }): Promise<void> {
  const { signed, certificates } = verifyCard(entry.card)
  const accountId = signed.card.accountId
  if (accountId === ctx.rules.accountId) {
    throw ClusterErrors.CLUSTER_FRIEND_SELF('a card of this account cannot be a friend')
  }
  const old = await ctx.get<FriendRecord>(friendKey(accountId))
  if (old && old.issuedAt >= signed.card.issuedAt) {
    throw ClusterErrors.CLUSTER_FRIEND_STALE('this card is not newer than the one stored for that friend')
  }
  const devices: FriendDevice[] = certificates
    .map(({ cert }) => ({
      deviceId: cert.deviceId,
      device: cert.device,
      signingKey: cert.signingKey,
      xwingKey: cert.xwingKey,
      roles: [...cert.roles]
    }))
    .sort((a, b) => a.device - b.device)
  if (old) {
    for (const d of old.devices) await ctx.del(friendDeviceKey(d.signingKey))
  }
  for (const d of devices) {
    await ctx.put(friendDeviceKey(d.signingKey), { accountId, deviceId: d.deviceId })
  }
  await ctx.put(friendKey(accountId), friendRecord(signed, devices))
}
