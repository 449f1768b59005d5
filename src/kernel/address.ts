import { isIPv4, isIPv6 } from 'node:net'

/**
 * The one textual form of a peer address, shared by the heartbeat wire, the
 * cluster's address book and status: `host:port`, where host is a dotted-quad
 * IPv4 address, a bracketed IPv6 address or a DNS name (a `.onion` name is
 * one), and port is 1–65535 without leading zeros.
 */

/** `host:port` with a DNS name of at most 253 characters or a bracketed IPv6 literal. */
export const MAX_ADDRESS_CHARS = 262

const HOSTNAME_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/i
const PORT_RE = /^[1-9][0-9]{0,4}$/

/** `host:port`: IPv4, `[IPv6]` or a DNS name, and a port in 1–65535. */
export function isAddress(s: string): boolean {
  if (typeof s !== 'string' || s.length > MAX_ADDRESS_CHARS) return false
  const i = s.lastIndexOf(':')
  if (i <= 0) return false
  const host = s.slice(0, i)
  const port = s.slice(i + 1)
  if (!PORT_RE.test(port) || Number(port) > 65535) return false
  if (host.startsWith('[')) return host.endsWith(']') && isIPv6(host.slice(1, -1))
  if (isIPv4(host)) return true
  // a dotted quad that is not a valid IPv4 address is not a host name either
  return !/^[0-9.]+$/.test(host) && HOSTNAME_RE.test(host)
}
