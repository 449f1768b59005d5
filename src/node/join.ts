import HyperDHT from 'hyperdht'
import { joinWithInvite } from '../../cluster/pairing.js'
import { dhtBindHost, dhtDirect, type HostPort } from '../kernel/config.js'
import { KernelErrors } from '../kernel/errors.js'
import { hasIdentity, writeIdentity } from '../kernel/identity/home-store.js'
import { NodeErrors } from './errors.js'
import { JoinPackageSchema } from './join-package.js'
import { writeTrusted } from './trusted.js'

export interface JoinResult {
  accountId: string
  deviceId: string
  device: number
}

/**
 * `conclave join`: on an empty home, pair with the inviting device over the
 * DHT, receive this device's identity, secrets and certificate, store them,
 * and return. The next `run` starts it as a writer that syncs.
 */
export async function joinCluster(
  home: string,
  inviteText: string,
  opts: { bootstrap: HostPort[] | null; name?: string; timeoutMs?: number }
): Promise<JoinResult> {
  if (hasIdentity(home)) {
    throw KernelErrors.IDENTITY_EXISTS(`${home} already holds an identity; join needs an empty home`, {
      data: { home }
    })
  }
  const bind = { dhtHost: null, bootstrap: opts.bootstrap, dhtReachable: false }
  const host = dhtBindHost(bind)
  const dht = new HyperDHT({
    ...(opts.bootstrap ? { bootstrap: opts.bootstrap } : {}),
    ...(host ? { host } : {}),
    ...(dhtDirect(bind) ? { firewalled: false } : {})
  })
  try {
    const bytes = await joinWithInvite(dht, inviteText, {
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {})
    })
    let pkg
    try {
      pkg = JoinPackageSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')))
    } catch (err) {
      throw NodeErrors.NODE_API_ERROR('the inviting device sent a package this version cannot read', {
        cause: err
      })
    }
    writeIdentity(home, pkg.identity, pkg.secrets)
    writeTrusted(home, pkg.trustedSigningKeys)
    return { accountId: pkg.identity.accountId, deviceId: pkg.identity.deviceId, device: pkg.identity.device }
  } finally {
    await dht.destroy().catch(() => {})
  }
}
