/**
 * Listener addresses (`host:port`, IPv6 as `[::1]:8080`) and trusted-proxy CIDRs, parsed without `node:net`
 * so `src/` stays platform-free.
 */

export interface HostPort {
  /** Hostname, IPv4 address or IPv6 address (without brackets). */
  readonly host: string
  readonly port: number
}

export interface Cidr {
  /** The address as written (IPv6 without brackets). */
  readonly address: string
  readonly family: 4 | 6
  /** Prefix length; a plain address has the full length (32 or 128). */
  readonly prefix: number
}

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`)
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

export const isIPv4 = (s: string): boolean => IPV4.test(s)

export const isIPv6 = (s: string): boolean => {
  let text = s
  let width = 8
  if (text.includes(".")) {
    // RFC 4291 §2.2: the last 32 bits may be written as dotted IPv4 (::ffff:10.0.0.1)
    const colon = text.lastIndexOf(":")
    if (colon < 0 || !isIPv4(text.slice(colon + 1))) return false
    const head = text.slice(0, colon + 1)
    text = head.endsWith("::") ? head : head.slice(0, -1)
    width = 6
  }
  const halves = text.split("::")
  if (halves.length > 2) return false
  const groups = (half: string): Array<string> | undefined => {
    if (half === "") return []
    const parts = half.split(":")
    return parts.every((p) => HEX_GROUP.test(p)) ? parts : undefined
  }
  if (halves.length === 2) {
    const head = groups(halves[0]!)
    const tail = groups(halves[1]!)
    return head !== undefined && tail !== undefined && head.length + tail.length < width
  }
  const all = groups(halves[0]!)
  return all !== undefined && all.length === width
}

/** A DNS hostname (letters, digits, hyphens; dot-separated labels of at most 63 characters). */
export const isHostname = (s: string): boolean => {
  if (s.length === 0 || s.length > 253) return false
  const labels = (s.endsWith(".") ? s.slice(0, -1) : s).split(".")
  // all-numeric dotted names are IPv4 addresses, which must then be valid ones
  if (labels.every((l) => /^\d+$/.test(l))) return false
  return labels.every((l) => LABEL.test(l))
}

/** Why `text` is not a valid `host:port` listener address, or `undefined` when it is. */
export const addressProblem = (text: string): string | undefined => {
  const result = parse(text)
  return typeof result === "string" ? result : undefined
}

/** Parses a validated `host:port` (`[::1]:8080` for IPv6). Throws on invalid input: validate first with {@link addressProblem}. */
export const parseAddress = (text: string): HostPort => {
  const result = parse(text)
  if (typeof result === "string") throw new Error(`invalid address ${JSON.stringify(text)}: ${result}`)
  return result
}

const EXPECTED = `host:port such as "127.0.0.1:8080", "localhost:8080", "0.0.0.0:8080" or "[::1]:8080"`

const parse = (text: string): HostPort | string => {
  let host: string
  let portText: string
  if (text.startsWith("[")) {
    const close = text.indexOf("]")
    if (close < 0 || text[close + 1] !== ":") return `expected ${EXPECTED}, found ${JSON.stringify(text)}`
    host = text.slice(1, close)
    portText = text.slice(close + 2)
    if (!isIPv6(host)) return `${JSON.stringify(host)} is not a valid IPv6 address`
  } else {
    const colon = text.lastIndexOf(":")
    if (colon < 0) return `expected ${EXPECTED}, found ${JSON.stringify(text)} (no port)`
    host = text.slice(0, colon)
    portText = text.slice(colon + 1)
    if (host === "") {
      return `expected ${EXPECTED}, found ${JSON.stringify(text)} (no host: use 0.0.0.0 or [::] for every interface)`
    }
    if (host.includes(":")) {
      return `expected ${EXPECTED}, found ${JSON.stringify(text)} (IPv6 addresses go in brackets)`
    }
    if (!isIPv4(host) && !isHostname(host)) return `${JSON.stringify(host)} is not a valid hostname or IPv4 address`
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return `expected a port from 0 to 65535, found ${JSON.stringify(portText)}`
  }
  return { host, port: Number(portText) }
}

/** Parses a CIDR (`10.0.0.0/8`, `fd00::/8`) or a plain IP address; `undefined` when invalid. */
export const parseCidr = (text: string): Cidr | undefined => {
  const slash = text.indexOf("/")
  const address = slash < 0 ? text : text.slice(0, slash)
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined
  if (family === undefined) return undefined
  const max = family === 4 ? 32 : 128
  if (slash < 0) return { address, family, prefix: max }
  const prefixText = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined
  return { address, family, prefix: Number(prefixText) }
}
