/**
 * The proxy's own request/response model. It is protocol-neutral on purpose: an HTTP/1.1 request from
 * `node:http` and an HTTP/2 stream map onto the same shape (authority, path, query, end-to-end headers,
 * a streamed body), so routing, middleware and forwarding never see the wire protocol.
 *
 * Bodies are Node `Readable` streams rather than Effect `Stream`s: piping them keeps Node's own
 * backpressure and costs nothing per chunk, where an Effect stream would add work for every chunk.
 * An upstream response's body is a `BodySource`: a `Readable` that the listener can also have write
 * straight into the client's response when nothing has read it.
 */
import type { Readable } from "node:stream"

/** Header map with lower-case names. Multi-valued fields are arrays (as `node:http` gives them). */
export type Headers = Record<string, string | Array<string> | undefined>

/** One request as the router, the middlewares and the forwarder see it. */
export interface ProxyRequest {
  /** The `x-request-id` this request carries (the client's if well-formed, else a new UUID). */
  readonly id: string
  readonly method: string
  /** Path without the query string, as received (percent-encoding untouched). Middlewares may rewrite it. */
  path: string
  /** Raw query string without the leading `?`; `""` when absent. */
  query: string
  /** Host used for routing: lower-case, without port and trailing dot. */
  readonly host: string
  /** Host (and port) as the client sent it; forwarded as `Host` unless `preserveHost: false`. */
  readonly authority: string
  /** End-to-end request headers (hop-by-hop fields already removed, `x-forwarded-*` already set). */
  readonly headers: Headers
  /** The streamed request body; `undefined` when the request has none. */
  readonly body: Readable | undefined
  /** The client's socket address (IPv4-mapped IPv6 addresses unwrapped). */
  readonly clientAddress: string
  /** `http` or `https`: the scheme the client used. */
  readonly scheme: "http" | "https"
  /** Name of the listener that accepted the request. */
  readonly listener: string
  /** Start time, `performance.now()` milliseconds. */
  readonly startedAt: number
  /** What handling decided (route, pool, server), for the access log and metrics. */
  readonly exchange: Exchange
}

/** Facts gathered while a request is handled; filled in by the router and the forwarder. */
export interface Exchange {
  route: string
  pool: string
  /** The server (`host:port`) of the last attempt. */
  upstream: string
  /**
   * Aborts the upstream request in flight, if any (set by the forwarder while it waits for the response
   * head). The dispatcher calls it when the client goes away, before interrupting the request's fiber.
   */
  abort: (() => void) | undefined
  /** Set once the request's handler has completed: a response arriving later is discarded. */
  finished: boolean
}

/** One response: produced by the upstream or by a middleware that short-circuits. */
export interface ProxyResponse {
  status: number
  headers: Headers
  /** Streamed body, a complete body, or none. */
  body: Readable | Uint8Array | string | undefined
}

/** Builds a complete (non-streamed) response. */
export const response = (status: number, body?: string | Uint8Array, headers: Headers = {}): ProxyResponse => ({
  status,
  headers,
  body
})
