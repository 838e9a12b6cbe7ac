/**
 * The innermost handler of a route: picks a pool (smooth weighted round-robin over the route's backends,
 * then the fallback), a server (the pool's load balancer) and forwards the request to it.
 * Built once per route when a config is applied.
 */
import * as Effect from "effect/Effect"
import type { RouteConfig } from "../config/Schema.js"
import type { Handler } from "../middleware/Middleware.js"
import type { Pool, Server } from "../pool/Pool.js"
import * as SmoothWeighted from "../pool/SmoothWeighted.js"
import type { ProxyRequest, ProxyResponse } from "./Message.js"
import * as HopByHop from "./HopByHop.js"
import { NoHealthyBackend, type ProxyError, type UpstreamError } from "./ProxyError.js"
import type { UpstreamRequest } from "./Upstream.js"

const poolAvailable = (pool: Pool) => pool.hasAvailable()

/** Releases the server's and the pool's counters once the exchange is over (the upstream's `onDone`). */
const release = (pool: Pool, server: Server) => {
  server.activeRequests--
  pool.inFlight--
}

const outcomeOf = (error: UpstreamError) =>
  error.phase === "connect" ? "connect_error" as const : error.reason === "Timeout" ? "timeout" as const : "reset" as const

/** The forwarding handler of one route. `pools` holds every pool the route names (checked by validation). */
export const make = (route: RouteConfig, pools: ReadonlyMap<string, Pool>): Handler => {
  const backends = SmoothWeighted.make(route.backends.map((b) => ({ value: pools.get(b.pool)!, weight: b.weight })))
  const fallback = route.fallback === null ? undefined : pools.get(route.fallback)
  const firstPool = route.backends[0]!.pool
  const timeout = route.timeout

  const choosePool = (): Pool | undefined => {
    const pool = backends.next(poolAvailable)
    if (pool !== undefined) return pool
    return fallback !== undefined && fallback.hasAvailable() ? fallback : undefined
  }

  // One Effect.async for the whole exchange (pick, send, account): on the hot path every extra Effect
  // combinator is a measurable share of the per-request cost.
  return (request: ProxyRequest) =>
    Effect.async<ProxyResponse, ProxyError>((resume) => {
      const pool = choosePool()
      if (pool === undefined) return resume(Effect.fail(new NoHealthyBackend({ pool: firstPool, reason: "NoHealthyServer" })))
      const server = pool.pick(request)
      if (server === undefined) return resume(Effect.fail(new NoHealthyBackend({ pool: pool.name, reason: "NoHealthyServer" })))
      request.exchange.pool = pool.name
      request.exchange.upstream = server.label
      const headers = request.headers
      if (!route.preserveHost) headers["host"] = server.label
      else if (headers["host"] === undefined && request.authority !== "") headers["host"] = request.authority
      server.activeRequests++
      pool.inFlight++
      const upstreamRequest: UpstreamRequest = {
        method: request.method,
        path: request.query === "" ? request.path : `${request.path}?${request.query}`,
        headers,
        body: request.body,
        headersTimeout: timeout,
        onDone: () => release(pool, server)
      }
      const started = performance.now()
      const exchange = request.exchange
      let settled = false
      const cancel = server.client.dispatch(upstreamRequest, (error, response) => {
        if (settled) return
        settled = true
        exchange.abort = undefined
        const seconds = (performance.now() - started) / 1000
        if (exchange.finished) {
          // the handler already completed without this answer (a middleware timed out): discard it
          if (response !== undefined) discard(response)
          return
        }
        if (error !== undefined) {
          server.attempts.record(outcomeOf(error), seconds)
          resume(Effect.fail(error))
          return
        }
        server.attempts.record(response!.status >= 500 ? "status_5xx" : "success", seconds)
        response!.headers = HopByHop.endToEndResponse(response!.headers)
        resume(Effect.succeed(response!))
      })
      // No canceler is returned: Effect wraps an async with a canceler in an interruption handler, which
      // measured as a quarter of the request path's cost. The dispatcher aborts through `exchange.abort`
      // when the client goes away, then interrupts the fiber.
      exchange.abort = () => {
        if (settled) return
        settled = true
        exchange.abort = undefined
        cancel()
      }
    })
}

/** Abandons a response nobody will send (its upstream connection is released). */
const discard = (response: ProxyResponse) => {
  const body = response.body
  if (body !== undefined && typeof body === "object" && "destroy" in body) body.destroy()
}
