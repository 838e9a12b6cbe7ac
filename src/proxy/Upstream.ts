/**
 * The port through which the proxy talks to backend servers. The undici adapter
 * (`adapters/undici/UndiciUpstream.ts`) implements it; tests may provide their own.
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Context from "effect/Context"
import type { Headers, ProxyResponse } from "./Message.js"
import type { UpstreamError } from "./ProxyError.js"
import type { Readable } from "node:stream"

/** What is sent to one server. */
export interface UpstreamRequest {
  readonly method: string
  /** Path and query (`/a/b?x=1`). */
  readonly path: string
  /** End-to-end headers, including `host`; framing headers are rebuilt by the client. */
  readonly headers: Headers
  readonly body: Readable | undefined
  /** Milliseconds to wait for the response head; `0` = no limit. */
  readonly headersTimeout: number
  /**
   * Called once when the exchange is over, whatever the outcome: the response body delivered or
   * abandoned, a failure, or an abort. Connection accounting (least-connections) hangs on it.
   */
  readonly onDone: () => void
}

/** Connection settings for one server (pool `connection` and `tls` keys). */
export interface ConnectionOptions {
  readonly maxConnectionsPerServer: number
  readonly connectTimeout: number
  readonly idleTimeout: number
  readonly tls: {
    readonly ca: string | undefined
    readonly serverName: string | undefined
    readonly cert: string | undefined
    readonly key: string | undefined
    readonly insecureSkipVerify: boolean
  }
}

/** Completion callback of {@link UpstreamClient.dispatch}: exactly one of the two is set. */
export type UpstreamCallback = (error: UpstreamError | undefined, response: ProxyResponse | undefined) => void

/** A pooled, keep-alive connection set to one server. */
export interface UpstreamClient {
  /** Origin (`http://host:port`). */
  readonly origin: string
  /**
   * Sends one request; the callback gets the response head with a streamed body (a `Readable`; the
   * undici adapter's is a `BodySource`), or an `UpstreamError` (phase and reason set).
   * Callback form because the forwarder wraps the whole exchange in one `Effect.async`, which measured
   * cheaper than composing an Effect-returning send with `onExit`.
   * Returns a function that aborts the request (the callback is then not called).
   */
  readonly dispatch: (request: UpstreamRequest, callback: UpstreamCallback) => () => void
}

export class Upstream extends Context.Tag("switchyard/Upstream")<Upstream, {
  /**
   * Opens the connection set for one server. Closing the scope closes it gracefully: requests in flight
   * finish first.
   */
  readonly connect: (
    origin: string,
    label: string,
    options: ConnectionOptions
  ) => Effect.Effect<UpstreamClient, never, Scope.Scope>
}>() {}
