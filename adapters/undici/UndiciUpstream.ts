/**
 * The `Upstream` port over undici: one keep-alive `Pool` per server. The route timeout becomes undici's
 * per-request `headersTimeout` (no extra timer per request); undici error codes map to
 * `UpstreamError{phase, reason}`.
 *
 * The idle timeout of a pooled connection is kept below what the backend announces in
 * `Keep-Alive: timeout=` (undici's `keepAliveTimeoutThreshold`), which avoids most of the keep-alive race
 * of HOSTILE-INPUTS §4.2.
 */
import { Effect, Layer } from "effect"
import { Pool } from "undici"
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
    const listener = this.listener
    this.listener = undefined
    listener?.()
  }
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
    pool.request({
      method: request.method as "GET",
      path: request.path,
      headers: request.headers as Record<string, string>,
      body: request.body ?? null,
      headersTimeout: request.headersTimeout,
      signal: signal as unknown as AbortSignal
    }, (err, data) => {
      if (err) {
        if (!signal.aborted) callback(classify(label, err), undefined)
        return
      }
      const body = data.body
      if (signal.aborted) {
        body.destroy()
        return
      }
      callback(undefined, { status: data.statusCode, headers: data.headers as ProxyResponse["headers"], body })
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
