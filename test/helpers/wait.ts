import net from 'node:net'

/** Polls a synchronous condition until it holds; throws `timed out waiting for WHAT` after `ms`. */
export async function until(what: string, check: () => boolean, ms = 10_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

/** A loopback TCP port nothing listens on (bound once, then released). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
