/**
 * The errors of the request path. A few classes, each with a `reason`, mapped to HTTP in one place
 * (`ErrorResponse.ts`). Upstream errors record the phase they happened in (Pingora's classification):
 * a `connect`-phase failure proves nothing was sent, which is what makes a retry safe.
 */
import * as Data from "effect/Data"

/** The request itself is refused before routing or forwarding (400, 408, 413, 431, 429). */
export class RequestRejected extends Data.TaggedError("RequestRejected")<{
  readonly reason:
    | "BadRequest"
    | "Timeout"
    | "PayloadTooLarge"
    | "HeadersTooLarge"
    | "ExpectationFailed"
    | "RateLimited"
    | "Forbidden"
    | "Unauthorized"
  readonly detail: string
  /** Seconds, for `retry-after` on 429. */
  readonly retryAfter?: number
}> {
  override get message() {
    return this.detail
  }
}

/** No route matches the request (404). */
export class RouteNotFound extends Data.TaggedError("RouteNotFound")<{
  readonly host: string
  readonly path: string
}> {
  override get message() {
    return `no route matches ${this.host}${this.path}`
  }
}

/** Nothing to send the request to (503 with `retry-after`). */
export class NoHealthyBackend extends Data.TaggedError("NoHealthyBackend")<{
  readonly pool: string
  readonly reason: "NoHealthyServer" | "CircuitOpen" | "NotReady"
}> {
  override get message() {
    switch (this.reason) {
      case "NotReady":
        return "the proxy has no valid configuration yet"
      case "CircuitOpen":
        return `the circuit of pool ${this.pool} is open`
      case "NoHealthyServer":
        return `pool ${this.pool} has no healthy server`
    }
  }
}

/** Failure talking to an upstream server. */
export class UpstreamError extends Data.TaggedError("UpstreamError")<{
  /** e.g. `127.0.0.1:9000 (pool api)` */
  readonly backend: string
  /** `connect`: nothing was sent; `send`: while sending the request; `headers`: waiting for the response head; `body`: after the head. */
  readonly phase: "connect" | "send" | "headers" | "body"
  readonly reason: "Refused" | "Timeout" | "Reset" | "Protocol" | "Tls"
  readonly cause?: unknown
}> {
  override get message() {
    return `${this.reason} during ${this.phase} to ${this.backend}`
  }
}

/** Every error a request handler may fail with. */
export type ProxyError = RequestRejected | RouteNotFound | NoHealthyBackend | UpstreamError
