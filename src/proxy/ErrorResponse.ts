/** The one place where request-path errors become HTTP responses (CONTRACT §4). */
import type { ProxyError } from "./ProxyError.js"

export interface ErrorBody {
  readonly status: number
  readonly code: string
  readonly message: string
  readonly retryAfter?: number
}

const rejected = {
  BadRequest: [400, "bad_request"],
  Timeout: [408, "request_timeout"],
  PayloadTooLarge: [413, "payload_too_large"],
  HeadersTooLarge: [431, "headers_too_large"],
  ExpectationFailed: [417, "expectation_failed"],
  RateLimited: [429, "rate_limited"],
  Forbidden: [403, "forbidden"],
  Unauthorized: [401, "unauthorized"]
} as const

const UPSTREAM_FAILURE = {
  Refused: "the upstream refused the connection",
  Timeout: "the upstream did not accept the connection in time",
  Reset: "the upstream closed the connection",
  Protocol: "the upstream sent an invalid response",
  Tls: "TLS with the upstream failed"
} as const

/** Status, `error` code and message for a request-path error. */
export const fromError = (error: ProxyError): ErrorBody => {
  switch (error._tag) {
    case "RequestRejected": {
      const [status, code] = rejected[error.reason]
      return error.retryAfter !== undefined
        ? { status, code, message: error.detail, retryAfter: error.retryAfter }
        : { status, code, message: error.detail }
    }
    case "RouteNotFound":
      return { status: 404, code: "no_route", message: error.message }
    case "NoHealthyBackend":
      return {
        status: 503,
        code: error.reason === "CircuitOpen" ? "circuit_open" : error.reason === "NotReady" ? "not_ready" : "no_healthy_upstream",
        message: error.message,
        retryAfter: error.reason === "NotReady" ? 1 : 5
      }
    // the client is told what failed, not where: upstream addresses stay in the access log and metrics
    case "UpstreamError":
      return error.reason === "Timeout" && error.phase !== "connect"
        ? { status: 504, code: "upstream_timeout", message: "no response head from the upstream within the route timeout" }
        : { status: 502, code: "bad_gateway", message: UPSTREAM_FAILURE[error.reason] }
  }
}

/** The JSON body of a proxy-generated error. */
export const render = (body: ErrorBody, requestId: string): string =>
  JSON.stringify({ error: body.code, message: body.message, requestId })
