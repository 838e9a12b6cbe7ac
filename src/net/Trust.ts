/** Which peers are trusted to send `X-Forwarded-*` (listener `trustedProxies`), compiled once per listener. */
import { BlockList, isIPv4, isIPv6 } from "node:net"

export interface Trust {
  readonly isTrusted: (address: string) => boolean
}

const never: Trust = { isTrusted: () => false }

/** Unwraps IPv4-mapped IPv6 (`::ffff:127.0.0.1` → `127.0.0.1`) so one CIDR list serves both stacks. */
export const normaliseAddress = (address: string | undefined): string => {
  if (address === undefined) return ""
  return address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address
}

/** Compiles CIDRs (`10.0.0.0/8`, `::1/128`) and plain addresses. Entries were validated by the schema. */
export const make = (cidrs: ReadonlyArray<string>): Trust => {
  if (cidrs.length === 0) return never
  const list = new BlockList()
  for (const entry of cidrs) {
    const slash = entry.indexOf("/")
    const address = slash === -1 ? entry : entry.slice(0, slash)
    const family = isIPv6(address) ? "ipv6" : "ipv4"
    if (slash === -1) list.addAddress(address, family)
    else list.addSubnet(address, Number(entry.slice(slash + 1)), family)
  }
  return {
    isTrusted: (address) => {
      if (isIPv4(address)) return list.check(address, "ipv4")
      return isIPv6(address) && list.check(address, "ipv6")
    }
  }
}
