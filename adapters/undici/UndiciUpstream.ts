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
import type { IncomingHttpHeaders } from "node:http"
import { Readable } from "node:stream"
import type { Dispatcher } from "undici"
import Pool from "undici/lib/dispatcher/pool.js"
import { type BodySink, type BodySource, open, proceed } from "../../src/proxy/BodySource.js"
import type { Headers } from "../../src/proxy/Message.js"
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

/** Response bytes held for a body nobody reads yet before undici is paused (as a stream's highWaterMark). */
const HIGH_WATER_MARK = 64 * 1024

const aborted = new Error("request aborted")

// The exchange's flags, in one small-integer field (`Exchange.state`). Separate boolean fields that only
// rare paths write (a cancel, backpressure, a body read as a stream) changed the object's hidden class
// on their first write (V8 tracks whether a field was ever written again), and that deoptimized every
// optimized function using the exchange: a proxy slowed down for ≈0.5 s the first time clients went
// away mid-request (bench/README.md). One field that every request writes keeps one shape.
/** The caller aborted, the route timeout fired or the body was destroyed: nothing more is reported. */
const CANCELLED = 1
/** The head was reported (response or error): the callback is not called again. */
const REPORTED = 2
/** Over, whatever the outcome: `onDone` was called. */
const SETTLED = 4
/** Read as a stream: chunks are pushed. */
const STREAMING = 8
/** The sink refused a chunk: undici is paused until it asks for more. */
const SINK_PAUSED = 16
/** undici delivered the end of the body. */
const ENDED = 32

const listened = (body: Readable) =>
  body.listenerCount("data") + body.listenerCount("readable") + body.listenerCount("end") +
      body.listenerCount("error") + body.listenerCount("close") > 0

/**
 * One upstream exchange: an undici dispatch handler, and the response body (a `BodySource`).
 *
 * Why a handler and not undici's `request()`: `request()` makes an `AsyncResource`, an abort-signal
 * registration and a result object per request, and its body's chunks travel as stream events; a
 * request path that writes the body straight to the client needs none of it (≈15 % less CPU per
 * request). Until the body is opened into a sink or read as a stream, chunks are held here, up to
 * {@link HIGH_WATER_MARK}. The route timeout is a native timer, armed once the request body has been sent.
 */
class Exchange extends Readable implements Dispatcher.DispatchHandler, BodySource {
  private controller: Dispatcher.DispatchController | undefined = undefined
  /** CANCELLED, REPORTED, SETTLED, STREAMING, SINK_PAUSED, ENDED (above). */
  private state = 0
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  // the body: delivered into `sink`, or pushed as a stream once read as one
  private sink: BodySink | undefined = undefined
  private pending: Array<Buffer> | undefined = undefined
  private pendingBytes = 0
  private failure: Error | undefined = undefined

  constructor(
    private readonly label: string,
    private readonly callback: UpstreamCallback,
    private readonly onDone: () => void
  ) {
    super()
  }

  /** Called once the exchange is over, whatever its outcome. */
  private settle() {
    if ((this.state & SETTLED) !== 0) return
    this.state |= SETTLED
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.onDone()
  }

  /** Stops the request: queued, in flight or mid-body. */
  cancel() {
    if ((this.state & CANCELLED) !== 0) return
    this.state |= CANCELLED
    this.sink = undefined
    this.pending = undefined
    this.controller?.abort(aborted)
    this.settle()
  }

  timeout() {
    this.timer = undefined
    if ((this.state & REPORTED) === 0) {
      this.state |= REPORTED
      this.callback(new UpstreamError({ backend: this.label, phase: "headers", reason: "Timeout" }), undefined)
    }
    this.cancel()
  }

  /** Neither answered nor cancelled yet. */
  waiting(): boolean {
    return (this.state & (REPORTED | CANCELLED)) === 0
  }

  // --- undici's side

  onRequestStart(controller: Dispatcher.DispatchController) {
    this.controller = controller
    if ((this.state & CANCELLED) !== 0) controller.abort(aborted) // cancelled while queued
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders) {
    if (statusCode < 200 || (this.state & CANCELLED) !== 0) return // 1xx informational: the final head follows
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    this.state |= REPORTED
    this.callback(undefined, { status: statusCode, headers: headers as Headers, body: this })
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer) {
    const state = this.state
    if ((state & CANCELLED) !== 0) return
    if ((state & STREAMING) !== 0) {
      if (!this.push(chunk)) controller.pause()
      return
    }
    const sink = this.sink
    if (sink === undefined || this.pending !== undefined) {
      ;(this.pending ??= []).push(chunk)
      this.pendingBytes += chunk.length
      if (this.pendingBytes >= HIGH_WATER_MARK) controller.pause()
    } else if (!sink.data(chunk)) {
      this.state |= SINK_PAUSED
      controller.pause()
    }
  }

  onResponseEnd() {
    const state = (this.state |= ENDED)
    if ((state & CANCELLED) !== 0) return
    if ((state & STREAMING) !== 0) {
      this.push(null)
      this.settle()
    } else if (this.sink !== undefined && this.pending === undefined) {
      this.sink.end()
      this.settle()
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error) {
    if ((this.state & CANCELLED) !== 0) return this.settle()
    if ((this.state & REPORTED) === 0) {
      this.state |= REPORTED
      this.callback(classify(this.label, error), undefined)
      return this.settle()
    }
    this.failure = error
    if ((this.state & STREAMING) !== 0) {
      this.destroy(error)
    } else if (this.sink !== undefined && this.pending === undefined) {
      this.sink.error(error)
      this.settle()
    }
  }

  // --- the body's side: a sink (BodySource) or a Readable

  [open](sink: BodySink): boolean {
    // a read or a listener means someone uses the body as a stream (listenerCount: Stream's eventNames() is slow)
    if ((this.state & STREAMING) !== 0 || this.sink !== undefined || this.readableDidRead || listened(this)) return false
    if ((this.state & CANCELLED) !== 0) {
      sink.error(aborted)
      return true
    }
    this.sink = sink
    this.flush()
    return true
  }

  [proceed]() {
    // settled with a sink: it has had its end or failure
    if ((this.state & (SINK_PAUSED | SETTLED)) !== SINK_PAUSED || this.sink === undefined) return
    this.state &= ~SINK_PAUSED
    this.flush()
  }

  override _read() {
    if (this.sink !== undefined) return // delivered into a sink: nothing comes this way
    if ((this.state & STREAMING) === 0) {
      this.state |= STREAMING
      const pending = this.pending
      this.pending = undefined
      if (pending !== undefined) for (const chunk of pending) this.push(chunk)
      if ((this.state & ENDED) !== 0) {
        this.push(null)
        return this.settle()
      }
      if (this.failure !== undefined) return void this.destroy(this.failure)
    }
    this.controller?.resume()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    if ((this.state & SETTLED) === 0) this.cancel()
    callback(error)
  }

  /** Delivers what arrived before the sink could take it, then the end (or failure), or lets undici go on. */
  private flush() {
    const sink = this.sink!
    const pending = this.pending
    if (pending !== undefined) {
      while (pending.length > 0) {
        const chunk = pending.shift()!
        this.pendingBytes -= chunk.length
        if (!sink.data(chunk)) {
          this.state |= SINK_PAUSED
          if (pending.length > 0 || this.sink === undefined) return
        }
      }
      this.pending = undefined
    }
    if (this.sink === undefined) return // the sink destroyed the body while taking a chunk
    if ((this.state & ENDED) !== 0) {
      sink.end()
      this.settle()
    } else if (this.failure !== undefined) {
      sink.error(this.failure)
      this.settle()
    } else if ((this.state & SINK_PAUSED) === 0) {
      this.controller?.resume()
    }
  }
}

const headersTimedOut = (exchange: Exchange) => exchange.timeout()

const armHeadersTimeout = (exchange: Exchange, ms: number) => {
  exchange.timer = setTimeout(headersTimedOut, ms, exchange)
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
    const exchange = new Exchange(label, callback, request.onDone)
    const body = request.body
    const ms = request.headersTimeout
    if (ms > 0) {
      if (body === undefined || body.readableEnded) armHeadersTimeout(exchange, ms)
      else body.once("end", () => {
        if (exchange.waiting()) armHeadersTimeout(exchange, ms)
      })
    }
    pool.dispatch({
      method: request.method as "GET",
      path: request.path,
      headers: request.headers as Record<string, string>,
      body: body ?? null,
      headersTimeout: 0 // ours, armed above
    }, exchange)
    return () => exchange.cancel()
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
