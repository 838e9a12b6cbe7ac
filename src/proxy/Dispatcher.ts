/**
 * The request path of a listener: from a parsed `node:http` request to a response.
 *
 * Per request: validate what llhttp lets through (two Host fields, odd transfer codings, header count),
 * read the active config once, route, build the `ProxyRequest` (hop-by-hop fields removed first, then the
 * proxy's own `x-forwarded-*` and `x-request-id`), and run the route's compiled handler in one fiber. The
 * fiber is interrupted when the client goes away, which aborts the upstream request. The response body
 * is copied with backpressure (`ResponseFlow`); a client that reads nothing for `sendTimeout` is disconnected.
 */
import * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Transform, type Readable } from "node:stream"
import type { ListenerConfig } from "../config/Schema.js"
import type { AccessRecord } from "../observability/AccessLog.js"
import type { Gauge, RequestRecorder } from "../observability/Metrics.js"
import type { Trust } from "../net/Trust.js"
import { normaliseAddress } from "../net/Trust.js"
import type { ActiveConfigState } from "./ActiveConfig.js"
import * as ErrorResponse from "./ErrorResponse.js"
import * as HopByHop from "./HopByHop.js"
import { type BodySink, type BodySource, isBodySource, open, proceed } from "./BodySource.js"
import type { Exchange, Headers, ProxyRequest, ProxyResponse } from "./Message.js"
import { NoHealthyBackend, RequestRejected, RouteNotFound, UpstreamError, type ProxyError } from "./ProxyError.js"

/** Per-listener state the request path needs; built when the listener is bound. */
export interface ListenerState {
  readonly name: string
  readonly scheme: "http" | "https"
  readonly trust: Trust
  readonly limits: ListenerConfig["limits"]
  /** The bound port as text (`x-forwarded-port`); set once the listener is bound. */
  port: string
  readonly inFlight: Gauge
  /** Recorder for requests that matched no route (or were rejected before routing). */
  readonly unrouted: RequestRecorder
  /** Set while the listener drains: responses then carry `connection: close`. */
  draining: boolean
  /** Requests of this listener not finished yet. */
  active: number
  /** Called when `active` drops to zero. */
  onIdle: (() => void) | undefined
}

export interface DispatcherDeps {
  readonly active: ActiveConfigState
  /** Starts a request's fiber (`RequestRuntime.fork`). */
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  readonly accessLog: ((record: AccessRecord) => void) | undefined
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,200}$/
const HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/i

/** Lower-case host without port and trailing dot; `undefined` when the value is not a valid authority. */
export const normaliseHost = (authority: string): string | undefined => {
  if (authority === "") return ""
  if (!HOST.test(authority)) return undefined
  let host = authority
  if (host.charCodeAt(0) === 91 /* [ */) {
    host = host.slice(0, host.indexOf("]") + 1)
  } else {
    const colon = host.indexOf(":")
    if (colon !== -1) host = host.slice(0, colon)
    if (host.endsWith(".")) host = host.slice(0, -1)
  }
  return host.toLowerCase()
}

const ignore = (): void => {}

/** Takes a body that has no place in the response (204, 304) so that its connection can be reused. */
const discardSink: BodySink = { data: () => true, end: ignore, error: ignore }

const OWN_FORWARDED = new Set(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"])

const CONTINUE = /^\s*100-continue\s*$/i

/** `http://` or `https://` followed by an authority (not by `/`: `http:///p` has no host). */
const ABSOLUTE_FORM = /^https?:\/\/(?=[^/?#])/i

const countHost = (raw: ReadonlyArray<string>): number => {
  let n = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 4 && name.toLowerCase() === "host") n++
  }
  return n
}

/** Only `chunked`, once, is a framing we accept (S6: `gzip, chunked` is rejected, never forwarded). */
const validTransferEncoding = (value: string): boolean => {
  let chunked = 0
  for (const token of value.split(",")) {
    const t = token.trim().toLowerCase()
    if (t === "") continue
    if (t !== "chunked") return false
    chunked++
  }
  return chunked === 1
}

/** A request body not read to the end (it would have to be drained before the connection can be reused). */
const unreadBody = (req: IncomingMessage): boolean => {
  if (req.complete) return false
  const cl = req.headers["content-length"]
  return req.headers["transfer-encoding"] !== undefined || (cl !== undefined && cl !== "0")
}

const firstValue = (value: string | Array<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

const destroyResponse = (res: ServerResponse) => res.destroy()

/**
 * Copies a response body to the client with backpressure, as the body's sink: the body pauses while the
 * client's socket buffer is full and resumes on 'drain'; `sendTimeout` runs while it is paused (a client
 * that reads nothing for that long is disconnected). One object per request, cleaned up by the request's
 * one 'close' handler (which also destroys a body the client did not wait for).
 *
 * An upstream body nobody has read (a `BodySource`) is written straight from undici's callbacks. Any
 * other `Readable` goes through the same sink by its 'data' events: pipe() would do the copy, but registers
 * a dozen listeners and closures per response, a measurable share of the request path for small
 * responses; stream.pipeline() also allocates and aborts an AbortController.
 */
class ResponseFlow implements BodySink {
  private body: Readable | undefined = undefined
  /** `body` is a `BodySource` writing into this sink (else it is copied by its 'data' events). */
  private direct = false
  /** The body delivered its end or failure. */
  private done = false
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private onDrain: (() => void) | undefined = undefined
  constructor(private readonly res: ServerResponse, private readonly sendTimeout: number) {}

  data(chunk: Buffer): boolean {
    const res = this.res
    if (res.write(chunk) || res.destroyed) return true
    if (this.sendTimeout > 0 && this.timer === undefined) this.timer = setTimeout(destroyResponse, this.sendTimeout, res)
    if (this.onDrain === undefined) {
      this.onDrain = () => {
        if (this.timer !== undefined) {
          clearTimeout(this.timer)
          this.timer = undefined
        }
        if (this.direct) (this.body as BodySource)[proceed]()
        else this.body?.resume()
      }
      res.on("drain", this.onDrain)
    }
    return false
  }

  end() {
    this.done = true
    this.res.end()
  }

  error() {
    this.done = true
    this.res.destroy()
  }

  /** The client's response closed (finished or not): a body it did not wait for is abandoned. */
  closed() {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (!this.done) this.body?.destroy()
  }

  /** Copies `body`: straight from its source when it is an unread `BodySource`, else by its events. */
  forward(body: Readable) {
    this.body = body
    if (isBodySource(body) && body[open](this)) {
      this.direct = true
      return
    }
    body.on("data", (chunk: Buffer) => {
      if (!this.data(chunk)) body.pause()
    })
    body.on("end", () => this.end())
    body.on("error", () => this.error())
  }
}

class BodyLimit extends Transform {
  seen = 0
  exceeded = false
  constructor(readonly limit: number) {
    super()
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: unknown) => void) {
    this.seen += chunk.length
    if (this.seen > this.limit) {
      this.exceeded = true
      callback(new Error("request body over maxBodyBytes"))
      return
    }
    callback(null, chunk)
  }
}

/** Builds the request handler of one listener. */
export const make = (deps: DispatcherDeps) => {
  const fork = deps.fork
  const accessLog = deps.accessLog

  return (listener: ListenerState) => {
    const limits = listener.limits
    const maxBodyBytes = limits.maxBodyBytes
    const sendTimeout = limits.sendTimeout

    const finish = (
      req: IncomingMessage,
      res: ServerResponse,
      recorder: RequestRecorder,
      exchange: Exchange,
      id: string,
      host: string,
      path: string,
      client: string,
      started: number,
      error: string | undefined
    ) => {
      listener.inFlight.dec()
      const durationMs = performance.now() - started
      const status = res.headersSent ? res.statusCode : 499
      const aborted = !res.writableFinished
      recorder.record(exchange.pool, req.method ?? "", aborted && !res.headersSent ? 499 : status, durationMs / 1000)
      if (accessLog !== undefined) {
        accessLog({
          requestId: id,
          listener: listener.name,
          route: exchange.route,
          pool: exchange.pool,
          upstream: exchange.upstream,
          method: req.method ?? "",
          path,
          host,
          client,
          status: aborted && !res.headersSent ? 499 : status,
          durationMs: Math.round(durationMs * 1000) / 1000,
          // a connection cut by the end of a drain is the proxy's doing, not the client's
          error: error ?? (aborted ? (listener.draining ? "shutdown" : res.headersSent ? "aborted" : "client_closed") : undefined)
        })
      }
      if (--listener.active === 0 && listener.onIdle !== undefined) listener.onIdle()
    }

    /** Writes a proxy-generated error; after the head was sent, only an abort is possible. */
    const writeError = (res: ServerResponse, error: ProxyError | undefined, id: string, close: boolean) => {
      if (res.headersSent || res.destroyed) {
        res.destroy()
        return
      }
      const body = error === undefined
        ? { status: 500, code: "internal_error", message: "internal error" } as ErrorResponse.ErrorBody
        : ErrorResponse.fromError(error)
      const text = ErrorResponse.render(body, id)
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(text)),
        "x-request-id": id
      }
      if (body.retryAfter !== undefined) headers["retry-after"] = String(body.retryAfter)
      // a request body that was not read to the end would have to be drained first: close instead
      if (close || listener.draining || unreadBody(res.req)) headers["connection"] = "close"
      res.writeHead(body.status, headers)
      res.end(text)
    }

    /**
     * Writes the response head and streams the body. Runs synchronously once the handler's fiber has
     * produced the response; from here on the exchange is callbacks and Node streams: a client that goes
     * away destroys the upstream body (which releases its connection), and an upstream failure mid-body
     * aborts the client.
     */
    const sendResponse = (res: ServerResponse, response: ProxyResponse, id: string, flow: ResponseFlow) => {
      const headers = response.headers
      headers["x-request-id"] = id
      if (listener.draining) headers["connection"] = "close"
      const body = response.body
      // a 204 has no Content-Length (RFC 9110 §8.6); an upstream that sends one gets it dropped, not forwarded
      if (response.status === 204) delete headers["content-length"]
      try {
        res.writeHead(response.status, headers as Record<string, string>)
      } catch {
        // An upstream header value Node refuses to write (CR/LF, invalid characters): invalid response → 502.
        if (body !== undefined && typeof body === "object" && "destroy" in body) body.destroy()
        for (const name of res.getHeaderNames()) res.removeHeader(name)
        writeError(res, new UpstreamError({ backend: "", phase: "headers", reason: "Protocol" }), id, false)
        return
      }
      if (body === undefined) {
        res.end()
        return
      }
      if (response.status === 204 || response.status === 304) {
        // No body whatever the framing says (RFC 9112 §6.3): the head is the whole response. undici still
        // counts a 304's Content-Length (valid there) and fails the body, which must not cost the client it.
        if (typeof body === "object" && "resume" in body && !(isBodySource(body) && body[open](discardSink))) {
          body.on("error", ignore).resume()
        }
        res.end()
        return
      }
      if (typeof body === "string" || body instanceof Uint8Array) {
        res.end(body)
        return
      }
      if (res.destroyed) {
        body.destroy()
        return
      }
      flow.forward(body)
    }

    return (req: IncomingMessage, res: ServerResponse): void => {
      const started = performance.now()
      listener.active++
      listener.inFlight.inc()
      const exchange: Exchange = { route: "", pool: "", upstream: "", abort: undefined, finished: false }
      let recorder = listener.unrouted
      let errorCode: string | undefined
      let id = ""
      let host = ""
      let path = ""
      // now: on a keep-alive connection Node detaches `req.socket` before the response's 'close'
      const peer = normaliseAddress(req.socket.remoteAddress)

      const headers = HopByHop.endToEnd(req.headers as Headers)
      const clientId = firstValue(headers["x-request-id"])
      id = clientId !== undefined && REQUEST_ID.test(clientId) ? clientId : randomUUID()

      let fiber: Fiber.RuntimeFiber<ProxyResponse, ProxyError> | undefined
      const flow = new ResponseFlow(res, sendTimeout)
      // 'close' is emitted once per response: `on`, not `once` (no wrapper, no removal on the hot path)
      res.on("close", () => {
        flow.closed()
        if (fiber !== undefined && !res.writableFinished) {
          exchange.abort?.()
          fiber.unsafeInterruptAsFork(FiberId.none)
        }
        finish(req, res, recorder, exchange, id, host, path, peer, started, errorCode)
      })

      const reject = (error: ProxyError, close: boolean) => {
        errorCode = ErrorResponse.fromError(error).code
        writeError(res, error, id, close)
      }

      // --- what llhttp accepts but a proxy must not (HOSTILE-INPUTS §1.2)
      const raw = req.rawHeaders
      if (raw.length / 2 > limits.maxHeaderCount) {
        return reject(new RequestRejected({ reason: "HeadersTooLarge", detail: `more than ${limits.maxHeaderCount} header fields` }), true)
      }
      if (req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 0 && req.httpVersionMinor !== 1)) {
        return reject(new RequestRejected({ reason: "BadRequest", detail: "unsupported HTTP version" }), true)
      }
      const hosts = countHost(raw)
      if (hosts > 1 || (hosts === 0 && req.httpVersionMinor === 1)) {
        return reject(new RequestRejected({ reason: "BadRequest", detail: hosts > 1 ? "more than one Host header" : "missing Host header" }), true)
      }
      const te = req.headers["transfer-encoding"]
      if (te !== undefined && (req.httpVersionMinor === 0 || !validTransferEncoding(te))) {
        return reject(new RequestRejected({ reason: "BadRequest", detail: "unsupported Transfer-Encoding" }), true)
      }

      // --- request target and host (RFC 9112 §3.2.2: absolute-form wins over Host)
      const url = req.url ?? ""
      let query = ""
      let authority = firstValue(req.headers.host) ?? ""
      if (url.charCodeAt(0) === 47 /* / */) {
        const q = url.indexOf("?")
        if (q === -1) path = url
        else {
          path = url.slice(0, q)
          query = url.slice(q + 1)
        }
      } else if (url === "*" && req.method === "OPTIONS") {
        // asterisk-form asks about the server itself, which a reverse proxy does not forward (nor can undici)
        return reject(new RequestRejected({ reason: "BadRequest", detail: "OPTIONS * is not forwarded" }), true)
      } else {
        // absolute-form: the URL parser checks the authority; the path is taken raw, as in origin-form
        const scheme = ABSOLUTE_FORM.exec(url)
        let parsed: URL | undefined
        try {
          parsed = scheme !== null ? new URL(url) : undefined
        } catch {
          parsed = undefined
        }
        if (parsed === undefined || parsed.host === "") {
          return reject(new RequestRejected({ reason: "BadRequest", detail: "invalid request target" }), true)
        }
        authority = parsed.host
        const slash = url.indexOf("/", scheme![0].length)
        const q = url.indexOf("?", scheme![0].length)
        const end = q === -1 ? url.length : q
        path = slash === -1 || slash > end ? "/" : url.slice(slash, end)
        query = q === -1 ? "" : url.slice(q + 1)
      }
      if (authority === "" && hosts === 1) {
        // present but empty: an http(s) URI has a non-empty host (RFC 9110 §4.2.1)
        return reject(new RequestRejected({ reason: "BadRequest", detail: "empty Host header" }), true)
      }
      const normalised = normaliseHost(authority)
      if (normalised === undefined) {
        return reject(new RequestRejected({ reason: "BadRequest", detail: "invalid Host header" }), true)
      }
      host = normalised

      // --- body framing: one meaning, rebuilt (canonical Content-Length, chunked re-framed by the client)
      const cl = req.headers["content-length"]
      let contentLength = -1
      if (cl !== undefined) {
        contentLength = Number(cl)
        headers["content-length"] = String(contentLength)
      }
      const hasBody = te !== undefined || contentLength > 0
      if (maxBodyBytes !== null && contentLength > maxBodyBytes) {
        return reject(new RequestRejected({ reason: "PayloadTooLarge", detail: `request body over ${maxBodyBytes} bytes` }), true)
      }
      const expect = headers["expect"]
      if (expect !== undefined) {
        // Node has answered `100-continue` with 100 Continue already (no 'checkContinue' listener); the
        // upstream gets the body without the expectation (undici cannot send one), as behind Envoy
        if (!CONTINUE.test(Array.isArray(expect) ? expect.join(",") : expect)) {
          return reject(new RequestRejected({ reason: "ExpectationFailed", detail: "only Expect: 100-continue is supported" }), true)
        }
        delete headers["expect"]
      }

      const active = deps.active.current
      if (active === undefined) {
        return reject(new NoHealthyBackend({ pool: "", reason: "NotReady" }), false)
      }
      const table = active.tables.get(listener.name)
      const match = table?.match({ host, path, method: req.method ?? "GET", headers, query })
      if (match === undefined) {
        return reject(new RouteNotFound({ host, path }), false)
      }
      const route = match.value
      recorder = route.recorder
      exchange.route = route.name

      // --- the proxy's own headers, after hop-by-hop removal so a client cannot remove them
      const trusted = listener.trust.isTrusted(peer)
      const xff = trusted ? headers["x-forwarded-for"] : undefined
      headers["x-forwarded-for"] = xff === undefined ? peer : `${Array.isArray(xff) ? xff.join(", ") : xff}, ${peer}`
      if (!trusted || headers["x-forwarded-proto"] === undefined) headers["x-forwarded-proto"] = listener.scheme
      if (!trusted || headers["x-forwarded-host"] === undefined) headers["x-forwarded-host"] = authority
      if (!trusted || headers["x-forwarded-port"] === undefined) headers["x-forwarded-port"] = listener.port
      if (!trusted) {
        delete headers["forwarded"]
        headers["x-real-ip"] = peer
        // the x-forwarded-* fields set above are overwritten; any other (-prefix, -server, -uri, -ssl…) is
        // an untrusted client's claim too, and goes (as Traefik removes them)
        for (const name in headers) {
          if (name.length > 12 && name.startsWith("x-forwarded-") && !OWN_FORWARDED.has(name)) delete headers[name]
        }
      }
      delete headers["proxy"] // httpoxy (CVE-2016-5385)
      headers["x-request-id"] = id
      if (authority !== "") headers["host"] = authority

      let requestPath = path
      if (route.stripPrefix && match.prefix !== "") {
        requestPath = path.slice(match.prefix.length)
        if (requestPath === "" || requestPath.charCodeAt(0) !== 47) requestPath = "/" + requestPath
        headers["x-forwarded-prefix"] = match.prefix
      }

      let body: Readable | undefined
      let limiter: BodyLimit | undefined
      if (hasBody) {
        if (maxBodyBytes !== null && te !== undefined) {
          limiter = new BodyLimit(maxBodyBytes)
          req.on("error", (error) => limiter!.destroy(error))
          req.pipe(limiter)
          body = limiter
        } else {
          body = req
        }
      }

      const request: ProxyRequest = {
        id,
        method: req.method ?? "GET",
        path: requestPath,
        query,
        host,
        authority,
        headers,
        body,
        clientAddress: peer,
        scheme: listener.scheme,
        listener: listener.name,
        startedAt: started,
        exchange
      }

      fiber = fork(route.handler(request))
      fiber.addObserver((exit) => {
        exchange.finished = true
        // an upstream request still in flight belongs to nobody now (e.g. a middleware timed out)
        exchange.abort?.()
        if (exit._tag === "Success") return sendResponse(res, exit.value, id, flow)
        const cause = exit.cause
        if (Cause.isInterruptedOnly(cause)) return
        if (limiter !== undefined && limiter.exceeded) {
          return reject(new RequestRejected({ reason: "PayloadTooLarge", detail: `request body over ${maxBodyBytes} bytes` }), true)
        }
        const failure = Cause.failureOption(cause)
        if (failure._tag === "Some") {
          reject(failure.value, false)
        } else {
          errorCode = "internal_error"
          writeError(res, undefined, id, true)
        }
      })
    }
  }
}
