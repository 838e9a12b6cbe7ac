/**
 * The consistent-hash key: `hashOn` is parsed once into an extractor, and per request the extractor
 * scans the one place the key lives without splitting or copying anything but the key itself.
 * An absent or empty key is `undefined` (the balancer then picks at random).
 */
import type { Headers } from "../../proxy/Message.js"

export interface KeySource {
  readonly clientAddress: string
  readonly path: string
  readonly headers: Headers
  readonly query: string
}

export type HashOn =
  | { readonly _tag: "ClientIp" }
  | { readonly _tag: "Path" }
  | { readonly _tag: "Header"; readonly name: string }
  | { readonly _tag: "Cookie"; readonly name: string }
  | { readonly _tag: "Query"; readonly name: string }

/** Parses `client-ip | path | header:NAME | cookie:NAME | query:NAME`; `undefined` when malformed. */
export const parse = (hashOn: string): HashOn | undefined => {
  const spec = hashOn.trim()
  if (spec === "client-ip") return { _tag: "ClientIp" }
  if (spec === "path") return { _tag: "Path" }
  const colon = spec.indexOf(":")
  if (colon <= 0 || colon === spec.length - 1) return undefined
  const kind = spec.slice(0, colon)
  const name = spec.slice(colon + 1)
  switch (kind) {
    case "header":
      return { _tag: "Header", name: name.toLowerCase() }
    case "cookie":
      return { _tag: "Cookie", name }
    case "query":
      return { _tag: "Query", name }
    default:
      return undefined
  }
}

const nonEmpty = (value: string | undefined): string | undefined => value === undefined || value === "" ? undefined : value

/** Builds the per-request extractor for a parsed `hashOn`. */
export const extractor = (hashOn: HashOn): (source: KeySource) => string | undefined => {
  switch (hashOn._tag) {
    case "ClientIp":
      return (source) => nonEmpty(source.clientAddress)
    case "Path":
      return (source) => nonEmpty(source.path)
    case "Header": {
      const name = hashOn.name
      return (source) => {
        const value = source.headers[name]
        return nonEmpty(typeof value === "string" ? value : value?.[0])
      }
    }
    case "Cookie": {
      const name = hashOn.name
      return (source) => {
        const value = source.headers["cookie"]
        if (value === undefined) return undefined
        if (typeof value === "string") return nonEmpty(cookieValue(value, name))
        for (let i = 0; i < value.length; i++) {
          const found = cookieValue(value[i]!, name)
          if (found !== undefined) return nonEmpty(found)
        }
        return undefined
      }
    }
    case "Query": {
      const name = hashOn.name
      return (source) => nonEmpty(queryValue(source.query, name))
    }
  }
}

const isSpace = (code: number): boolean => code === 0x20 || code === 0x09

/** RFC 6265 §5.4 `cookie-string`: `name=value` pairs separated by `;` and optional spaces; names are case-sensitive. */
export const cookieValue = (header: string, name: string): string | undefined => {
  const length = header.length
  let start = 0
  while (start < length) {
    while (start < length && isSpace(header.charCodeAt(start))) start++
    let end = header.indexOf(";", start)
    if (end === -1) end = length
    const equals = header.indexOf("=", start)
    if (equals !== -1 && equals < end) {
      let nameEnd = equals
      while (nameEnd > start && isSpace(header.charCodeAt(nameEnd - 1))) nameEnd--
      if (nameEnd - start === name.length && header.startsWith(name, start)) {
        let valueStart = equals + 1
        let valueEnd = end
        while (valueStart < valueEnd && isSpace(header.charCodeAt(valueStart))) valueStart++
        while (valueEnd > valueStart && isSpace(header.charCodeAt(valueEnd - 1))) valueEnd--
        // RFC 6265 §4.1.1: a cookie-value may be wrapped in DQUOTEs, which are not part of the value
        if (valueEnd - valueStart >= 2 && header.charCodeAt(valueStart) === 0x22 && header.charCodeAt(valueEnd - 1) === 0x22) {
          valueStart++
          valueEnd--
        }
        return header.slice(valueStart, valueEnd)
      }
    }
    start = end + 1
  }
  return undefined
}

/** First value of `name` in a raw query string (no leading `?`); the name is matched as sent. */
export const queryValue = (query: string, name: string): string | undefined => {
  const length = query.length
  let start = 0
  while (start < length) {
    let end = query.indexOf("&", start)
    if (end === -1) end = length
    if (query.startsWith(name, start)) {
      const after = start + name.length
      if (after === end) return ""
      if (query.charCodeAt(after) === 0x3d) return decode(query.slice(after + 1, end))
    }
    start = end + 1
  }
  return undefined
}

// `a+b`, `a%20b` and `a b` are the same value; only encoded values pay for decoding.
const decode = (value: string): string => {
  if (value.indexOf("%") === -1 && value.indexOf("+") === -1) return value
  try {
    return decodeURIComponent(value.replace(/\+/g, " "))
  } catch {
    return value
  }
}
