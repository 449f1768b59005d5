import { join } from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import type { ClusterInit } from '../../cluster/cluster.js'
import { type Config, dhtBindHost, dhtDirect } from '../kernel/config.js'
import type { Ed25519KeyPair } from '../kernel/crypto/ed25519.js'
import { unhex } from '../kernel/encoding.js'
import type { LoadedIdentity } from '../kernel/identity/home-store.js'
import { swarmFirewall } from '../kernel/substrate/index.js'
import { NodeErrors } from './errors.js'

/**
 * The pieces a node and a recovery both open the same way: the home's
 * store, the cluster log's settings, and a swarm with the device key behind
 * the firewall.
 */

/** HOME/store with the device's primary key; NODE_STORE_FAILED when it cannot be opened. */
export async function openHomeStore(home: string, loaded: LoadedIdentity): Promise<Corestore> {
  const dir = join(home, 'store')
  const store = new Corestore(dir, {
    primaryKey: unhex(loaded.secrets.device.corestorePrimaryKey),
    unsafe: true
  })
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    throw NodeErrors.NODE_STORE_FAILED(`cannot open the store in ${dir}: ${(err as Error).message}`, {
      cause: err
    })
  }
  return store
}

/** The cluster log's settings for this account, writing through `writerKeyPair`. */
export function clusterInitFor(
  loaded: LoadedIdentity,
  config: Pick<Config, 'ackIntervalMs'>,
  writerKeyPair: Ed25519KeyPair
): ClusterInit {
  const { identity, secrets } = loaded
  return {
    accountId: identity.accountId,
    rootPublic: {
      ed25519: unhex(identity.rootPublic.ed25519),
      mldsa: unhex(identity.rootPublic.mldsa)
    },
    bootstrapPublicKey: unhex(identity.cluster.bootstrap),
    writerKeyPair,
    encryptionKey: unhex(secrets.cluster.encryptionKey),
    ackIntervalMs: config.ackIntervalMs
  }
}

/** A swarm on the configured DHT (bound as `dhtBindHost` says) with the device key and a firewall. */
export function createSwarm(
  config: Config,
  keyPair: { publicKey: Buffer; secretKey: Buffer },
  isAllowed: (publicKey: Buffer) => boolean
): Hyperswarm {
  const host = config.onion ? '127.0.0.1' : dhtBindHost(config)
  // onion mode: no DHT node is contacted (and no bootstrap name resolved); peers are reached through Tor
  const bootstrap = config.onion ? [] : config.bootstrap
  return new Hyperswarm({
    keyPair,
    dht: new HyperDHT({
      ...(bootstrap ? { bootstrap } : {}),
      ...(host ? { host } : {}),
      ...(!config.onion && dhtDirect(config) ? { firewalled: false } : {})
    }),
    firewall: swarmFirewall(isAllowed)
  })
}
