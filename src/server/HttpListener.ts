/**
 * Binds one listener on `node:http` (HTTP/1.1) and applies the listener `limits`. Errors llhttp reports
 * before a request exists (malformed framing, oversized headers, slow clients) are answered here with the
 * contract's JSON errors and the connection is closed.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import type { Socket } from "node:net"
import type { ListenerConfig } from "../config/Schema.js"
import { parseAddress } from "../config/Address.js"
import type { ListenerState } from "../proxy/Dispatcher.js"
import type { Gauge } from "../observability/Metrics.js"

export class ListenError extends Data.TaggedError("ListenError")<{
  readonly listener: string
  readonly address: string
  readonly cause: unknown
}> {
  override get message() {
    return `listener ${this.listener} cannot bind ${this.address}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export interface BoundListener {
  readonly name: string
  readonly host: string
  readonly port: number
  /** Stops accepting, lets requests in flight finish within `timeoutMs`, then closes every connection. */
  readonly drain: (timeoutMs: number) => Effect.Effect<void>
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 431: "Request Header Fields Too Large" }

const clientErrorStatus = (code: string | undefined): [number, string] => {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "headers_too_large"]
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "request_timeout"]
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, "payload_too_large"]
    default:
      return [400, "bad_request"]
  }
}

/** Answers a client error on the raw socket (no request object exists yet, or it is unusable). */
const answerClientError = (error: Error & { code?: string }, socket: Socket) => {
  const pending = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage ?? undefined
  if (pending !== undefined && pending.req.complete) {
    // The bytes at fault come after a request that was received whole and is still being answered (a
    // pipelined request, or anything after `Connection: close` / HTTP/1.0: RFC 9112 §9.6). That request
    // gets its whole response; nothing after it is processed (the parser stopped), and the connection
    // closes once the response is sent.
    if (!pending.headersSent) pending.shouldKeepAlive = false // Node then closes after it
    else pending.once("finish", () => socket.destroySoon())
    return
  }
  if (!socket.writable || error.code === "HPE_CLOSED_CONNECTION" || pending?.headersSent === true) {
    socket.destroy()
    return
  }
  const [status, code] = clientErrorStatus(error.code)
  const id = randomUUID()
  const body = JSON.stringify({
    error: code,
    message: code === "bad_request" ? "malformed request" : code === "request_timeout" ? "request not received in time" : code === "headers_too_large" ? "request headers too large" : "request too large",
    requestId: id
  })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`
  )
  socket.destroySoon?.()
}

/**
 * Binds `server` to `address` (`host:port`, port 0 = any free port) and returns the bound host and port;
 * closing the scope closes the server and every connection it still has.
 */
export const listen = (
  server: http.Server,
  name: string,
  address: string
): Effect.Effect<{ readonly host: string; readonly port: number }, ListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const { host, port } = parseAddress(address)
    yield* Effect.async<void, ListenError>((resume) => {
      const onError = (cause: Error) => resume(Effect.fail(new ListenError({ listener: name, address, cause })))
      server.once("error", onError)
      server.listen({ host: host === "" ? undefined : host, port, exclusive: true }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
    )
    const bound = server.address()
    return { host, port: typeof bound === "object" && bound !== null ? bound.port : port }
  })

/** Binds the listener; the scope unbinds it (abruptly: call `drain` first for a graceful stop). */
export const bind = (
  name: string,
  config: ListenerConfig,
  state: ListenerState,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  openConnections: Gauge
): Effect.Effect<BoundListener, ListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const limits = config.limits
    const requestTimeout = limits.requestTimeout
    const server = http.createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout,
      // Node requires headersTimeout <= requestTimeout when both are set.
      headersTimeout: requestTimeout > 0 ? Math.min(limits.headersTimeout, requestTimeout) : limits.headersTimeout,
      keepAliveTimeout: limits.idleTimeout,
      // The timeouts above are checked on this period: it bounds how late a 408 can come.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeout / 4)),
      // checked by the dispatcher, which answers with the contract's JSON error
      requireHostHeader: false,
      noDelay: true
    }, handler)
    // one more than allowed, so that "too many" can be told apart from "exactly the limit" (→ 431)
    server.maxHeadersCount = limits.maxHeaderCount + 1
    if (limits.maxConnections !== null) server.maxConnections = limits.maxConnections
    server.on("clientError", answerClientError)
    // an Expect other than 100-continue: the dispatcher answers 417 with the contract's JSON error
    server.on("checkExpectation", handler)
    server.on("connection", (socket: Socket) => {
      openConnections.inc()
      socket.once("close", () => openConnections.dec())
    })
    // CONNECT tunnels are not a reverse proxy's business.
    server.on("connect", (_req: http.IncomingMessage, socket: Socket) => answerClientError(Object.assign(new Error("CONNECT"), { code: "CONNECT" }), socket))

    const bound = yield* listen(server, name, config.address)
    state.port = String(bound.port)

    const drain = (timeoutMs: number) =>
      Effect.async<void>((resume) => {
        state.draining = true
        server.close()
        server.closeIdleConnections()
        let timer: ReturnType<typeof setTimeout> | undefined
        const done = () => {
          if (timer !== undefined) clearTimeout(timer)
          state.onIdle = undefined
          server.closeAllConnections()
          resume(Effect.void)
        }
        if (state.active === 0) return done()
        state.onIdle = () => setImmediate(done)
        timer = setTimeout(done, timeoutMs)
      })

    return { name, host: bound.host, port: bound.port, drain }
  })
