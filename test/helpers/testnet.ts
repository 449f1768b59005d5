import type { Test } from 'brittle'
import HyperDHT from 'hyperdht'
import createHyperTestnet from 'hyperdht/testnet.js'
import Hyperswarm from 'hyperswarm'

const HOST = '127.0.0.1'

export interface Testnet {
  /** For `new HyperDHT({ bootstrap })` / `new Hyperswarm({ bootstrap })`. */
  readonly bootstrap: { host: string; port: number }[]
  /** For the CLI's `--bootstrap` flag: 'host:port,host:port'. */
  readonly bootstrapFlag: string
  /**
   * A DHT node bound to 127.0.0.1 (a 0.0.0.0 node here completes the client
   * side of a connection while the server never sees it) that takes
   * connections directly (`firewalled: false`, as a node on loopback does:
   * holepunching on loopback leaves most first dials with the same ghost
   * stream for ≈ 15 s). Destroyed at teardown.
   */
  createDHT(opts?: HyperDHT.Options): HyperDHT
  /**
   * A Hyperswarm on its own 127.0.0.1 DHT node, destroyed at teardown (before
   * the testnet). Join the server side first (`await swarm.join(topic,
   * { server: true, client: false }).flushed()`), then the clients.
   */
  createSwarm(opts?: Omit<Hyperswarm.Options, 'dht' | 'bootstrap'>): Hyperswarm
  /** Stops the bootstrap nodes now (a DHT outage); idempotent, also run at teardown. */
  destroy(): Promise<void>
}

/** A loopback hyperdht testnet of `size` bootstrap nodes, torn down with the test. */
export async function createTestnet(t: Test, size = 3): Promise<Testnet> {
  const net = await createHyperTestnet(size, { host: HOST })
  let destroyed: Promise<void> | null = null
  const destroy = (): Promise<void> => (destroyed ??= net.destroy())
  // after every swarm and store teardown (default order 0), before temp folders
  t.teardown(destroy, { order: 1000 })
  const bootstrap = net.bootstrap.map(({ host, port }) => ({ host, port }))

  const createDHT = (opts: HyperDHT.Options = {}): HyperDHT => {
    const dht = new HyperDHT({ bootstrap, host: HOST, firewalled: false, ...opts })
    t.teardown(() => dht.destroy(), { order: 999 })
    return dht
  }

  return {
    destroy,
    bootstrap,
    bootstrapFlag: bootstrap.map(({ host, port }) => `${host}:${port}`).join(','),
    createDHT,
    createSwarm(opts = {}) {
      const swarm = new Hyperswarm({
        ...opts,
        dht: new HyperDHT({ bootstrap, host: HOST, firewalled: false })
      })
      t.teardown(() => swarm.destroy(), { order: 500 })
      return swarm
    }
  }
}
