/**
 * Hop-by-hop header removal (RFC 9110 §7.6.1), done before the proxy adds its own headers so that a client
 * can never remove what the proxy adds (GHSA-gwhp-pf74-vj37 in @fastify/reply-from).
 */
import type { Headers } from "./Message.js"

/** Always hop-by-hop (RFC 9110 §7.6.1 and the RFC 2616 §13.5.1 list). Framing is rebuilt, never copied. */
const ALWAYS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate"
])

/** End-to-end fields the proxy relies on; `Connection` may not name them away (they are kept). */
const PROTECTED = new Set(["host", "content-length", "authorization"])

/** Field names listed in `Connection` (all instances, comma-split, case-insensitive). */
const connectionListed = (value: string | Array<string> | undefined): Set<string> | undefined => {
  if (value === undefined) return undefined
  // nearly every message says one of these, which name no end-to-end field: no split, no Set
  if (typeof value === "string" && value.length <= 10) {
    const v = value.toLowerCase()
    if (v === "keep-alive" || v === "close") return undefined
  }
  let names: Set<string> | undefined
  const values = typeof value === "string" ? [value] : value
  for (const v of values) {
    for (const token of v.split(",")) {
      const name = token.trim().toLowerCase()
      if (name === "" || PROTECTED.has(name) || ALWAYS.has(name)) continue
      ;(names ??= new Set()).add(name)
    }
  }
  return names
}

/**
 * Copies the end-to-end fields of `source` into a new object: hop-by-hop fields and the fields named in
 * `Connection` are left out.
 */
export const endToEnd = (source: Headers): Headers => {
  const listed = connectionListed(source["connection"])
  const out: Headers = {}
  for (const name in source) {
    if (ALWAYS.has(name) || (listed !== undefined && listed.has(name))) continue
    out[name] = source[name]
  }
  return out
}

/**
 * Like `endToEnd`, but returns `headers` itself when it has no hop-by-hop field (responses from upstreams).
 * A copy, not `delete`: deleting a property turns a V8 object into a slow dictionary, which cost more (in
 * time and allocation) than the copy on the response path.
 */
export const endToEndResponse = (headers: Headers): Headers => {
  if (headers["connection"] !== undefined) return endToEnd(headers)
  for (const name in headers) if (ALWAYS.has(name)) return endToEnd(headers)
  return headers
}
