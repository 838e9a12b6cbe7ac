/**
 * The `Upstream` port over undici: one keep-alive `Pool` per server. undici error codes map to
 * `UpstreamError{phase, reason}`. The route timeout (`headersTimeout`) is a native timer per request,
 * armed once the request body has been sent, like undici's own; undici's is coarse by design (its
 * "fast timers" tick every ≈500 ms), which let a `100ms` route timeout fire anywhere up to a second.
 *
 * The idle timeout of a pooled connection is kept below what the backend announces in
 * `Keep-Alive: timeout=` (undici's `keepAliveTimeoutThreshold`), which avoids most of the keep-alive race
 * of HOSTILE-INPUTS §4.2.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import undiciRequest from "undici/lib/api/api-request.js"
import Pool from "undici/lib/dispatcher/pool.js"
import type { ProxyResponse } from "../../src/proxy/Message.js"
import { UpstreamError } from "../../src/proxy/ProxyError.js"
import {
  Upstream,
  type ConnectionOptions,
  type UpstreamCallback,
  type UpstreamClient,
  type UpstreamRequest
} from "../../src/proxy/Upstream.js"

/** undici error code → where and what (Pingora-style classification). */
export const classify = (
  backend: string,
  cause: unknown
): UpstreamError => {
  const raw = (cause as { code?: unknown } | null)?.code
  const code = typeof raw === "string" ? raw : ""
  const make = (phase: UpstreamError["phase"], reason: UpstreamError["reason"]) =>
    new UpstreamError({ backend, phase, reason, cause })
  switch (code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
      return make("connect", "Refused")
    case "UND_ERR_CONNECT_TIMEOUT":
      return make("connect", "Timeout")
    case "UND_ERR_HEADERS_TIMEOUT":
      return make("headers", "Timeout")
    case "UND_ERR_BODY_TIMEOUT":
      return make("body", "Timeout")
    case "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH":
    case "UND_ERR_REQ_RETRY":
      return make("send", "Protocol")
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
    case "UND_ERR_DESTROYED":
      return make("headers", "Reset")
    default:
      if (code.startsWith("HPE_") || code === "UND_ERR_INVALID_ARG" || code === "UND_ERR_INFO") {
        return make("headers", "Protocol")
      }
      if (code.startsWith("ERR_TLS") || code.includes("CERT") || code.startsWith("ERR_SSL") || code === "EPROTO") {
        return make("connect", "Tls")
      }
      return make("headers", "Reset")
  }
}

/**
 * The smallest abort signal undici accepts (it takes any EventTarget-like object). An `AbortController`
 * per request costs an allocation-heavy `AbortSignal`, and aborting it builds a `DOMException`; this
 * handle is a plain object, and only an interrupted request ever calls its listener.
 */
class AbortHandle {
  aborted = false
  reason: unknown = undefined
  /** Set when the route timeout, not the caller, aborted the request. */
  timedOut = false
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  private listener: (() => void) | undefined = undefined
  addEventListener(_type: "abort", listener: () => void) {
    this.listener = listener
  }
  removeEventListener(_type: "abort", listener: () => void) {
    if (this.listener === listener) this.listener = undefined
  }
  abort() {
    if (this.aborted) return
    this.aborted = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    const listener = this.listener
    this.listener = undefined
    listener?.()
  }
}

const headersTimedOut = (handle: AbortHandle) => {
  handle.timer = undefined
  handle.timedOut = true
  handle.abort()
}

const armHeadersTimeout = (handle: AbortHandle, ms: number) => {
  if (!handle.aborted) handle.timer = setTimeout(headersTimedOut, ms, handle)
}

const makeClient = (origin: string, label: string, options: ConnectionOptions) => {
  const tls = options.tls
  const pool = new Pool(origin, {
    connections: options.maxConnectionsPerServer,
    connect: {
      timeout: options.connectTimeout,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      ...(tls.serverName !== undefined ? { servername: tls.serverName } : {}),
      rejectUnauthorized: !tls.insecureSkipVerify
    },
    keepAliveTimeout: options.idleTimeout,
    keepAliveMaxTimeout: options.idleTimeout,
    keepAliveTimeoutThreshold: 1000,
    // Streaming responses (SSE, long downloads) are bounded by idleness, not by total time (Envoy's stream idle timeout).
    bodyTimeout: 300_000,
    pipelining: 1
  })
  const dispatch = (request: UpstreamRequest, callback: UpstreamCallback) => {
    const signal = new AbortHandle()
    const body = request.body
    const ms = request.headersTimeout
    if (ms > 0) {
      if (body === undefined || body.readableEnded) armHeadersTimeout(signal, ms)
      else body.once("end", () => armHeadersTimeout(signal, ms))
    }
    undiciRequest.call(pool, {
      method: request.method as "GET",
      path: request.path,
      headers: request.headers as Record<string, string>,
      body: body ?? null,
      headersTimeout: 0, // ours, armed above
      signal: signal as unknown as AbortSignal
    }, (err, data) => {
      if (signal.timer !== undefined) clearTimeout(signal.timer)
      if (signal.timedOut) {
        data?.body?.destroy()
        callback(new UpstreamError({ backend: label, phase: "headers", reason: "Timeout" }), undefined)
        return
      }
      if (err) {
        if (!signal.aborted) callback(classify(label, err), undefined)
        return
      }
      if (signal.aborted) {
        data.body.destroy()
        return
      }
      callback(undefined, { status: data.statusCode, headers: data.headers as ProxyResponse["headers"], body: data.body })
    })
    return () => signal.abort()
  }
  const client: UpstreamClient = {
    origin,
    dispatch
  }
  return { pool, client }
}

/** The undici-backed `Upstream`. */
export const layer: Layer.Layer<Upstream> = Layer.succeed(
  Upstream,
  Upstream.of({
    connect: (origin, label, options) =>
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => makeClient(origin, label, options)),
          // close() lets requests in flight finish; destroy() is the bound when it takes too long.
          ({ pool }) =>
            Effect.promise(() => pool.close()).pipe(
              Effect.timeoutTo({ duration: "30 seconds", onSuccess: () => Effect.void, onTimeout: () => Effect.promise(() => pool.destroy()) }),
              Effect.flatten
            )
        ),
        ({ client }) => client
      )
  })
)
