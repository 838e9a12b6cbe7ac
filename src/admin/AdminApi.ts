/**
 * The admin API (CONTRACT §5) on its own listener, never on a data-plane port. When `admin.token` is set,
 * every endpoint but `/healthz` needs `Authorization: Bearer <token>`.
 */
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { timingSafeEqual } from "node:crypto"
import * as http from "node:http"
import type { ActiveConfigState } from "../proxy/ActiveConfig.js"
import { Metrics } from "../observability/Metrics.js"
import { type ListenError, listen } from "../server/HttpListener.js"
import * as Redact from "./Redact.js"

export interface AdminResponse {
  readonly status: number
  readonly headers?: Record<string, string>
  /** JSON-serialised unless a string. */
  readonly body: unknown
}

/** An extra endpoint (the config plane adds `PUT/DELETE /config/...` and `/events`). */
export interface AdminRoute {
  readonly method: string
  /** Matched against the path; groups are passed to the handler. */
  readonly path: RegExp
  readonly handle: (request: http.IncomingMessage, response: http.ServerResponse, groups: ReadonlyArray<string>) => Effect.Effect<AdminResponse | "handled">
}

export interface AdminDeps {
  readonly active: ActiveConfigState
  readonly ready: () => boolean
  readonly token: string | null
  /** `observability.metrics.enabled`: when false `/metrics` answers 404. */
  readonly metricsEnabled: boolean
  readonly routes: ReadonlyArray<AdminRoute>
}

const json = (status: number, body: unknown): AdminResponse => ({ status, body })

const authorized = (header: string | undefined, token: string): boolean => {
  // the scheme is case-insensitive (RFC 9110 §11.1)
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== "bearer ") return false
  const given = Buffer.from(header.slice(7))
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export const bind = (address: string, deps: AdminDeps): Effect.Effect<{ readonly host: string; readonly port: number }, ListenError, Scope.Scope | Metrics> =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const runtime = yield* Effect.runtime<never>()
    const runPromise = Runtime.runPromise(runtime)

    const builtin = (method: string, path: string): Effect.Effect<AdminResponse> | undefined => {
      if (method !== "GET" && method !== "HEAD") return undefined
      switch (path) {
        case "/healthz":
          return Effect.succeed(json(200, { status: "ok" }))
        case "/readyz":
          return Effect.sync(() => deps.ready() ? json(200, { status: "ready" }) : json(503, { status: "not_ready" }))
        case "/metrics":
          if (!deps.metricsEnabled) return Effect.succeed(json(404, { error: "not_found", message: "metrics are disabled (observability.metrics.enabled: false)" }))
          return Effect.map(metrics.render, ({ body, contentType }) => ({ status: 200, headers: { "content-type": contentType }, body }))
        case "/config":
          return Effect.sync(() => {
            const current = deps.active.current
            return current === undefined
              ? json(503, { error: "not_ready", message: "no configuration applied yet" })
              : json(200, { version: current.version, config: Redact.config(current.config) })
          })
        case "/pools":
          return Effect.sync(() => {
            const out: Record<string, unknown> = {}
            for (const [name, pool] of deps.active.current?.pools ?? []) {
              out[name] = {
                circuit: "closed",
                servers: pool.servers.map((s) => ({ url: s.key, healthy: s.healthy, ejected: s.ejected, activeRequests: s.activeRequests }))
              }
            }
            return json(200, out)
          })
        default:
          return undefined
      }
    }

    const write = (res: http.ServerResponse, response: AdminResponse) => {
      const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body)
      res.writeHead(response.status, {
        "content-type": "application/json",
        ...response.headers,
        "content-length": String(Buffer.byteLength(text))
      })
      res.end(text)
    }

    const server = http.createServer((req, res) => {
      const method = req.method ?? "GET"
      const path = (req.url ?? "/").split("?")[0]!
      if (path !== "/healthz" && deps.token !== null && !authorized(req.headers.authorization, deps.token)) {
        req.resume()
        return write(res, { status: 401, headers: { "www-authenticate": "Bearer" }, body: { error: "unauthorized", message: "a valid bearer token is required" } })
      }
      let effect: Effect.Effect<AdminResponse | "handled"> | undefined = builtin(method, path)
      if (effect === undefined) {
        for (const route of deps.routes) {
          if (route.method !== method) continue
          const m = route.path.exec(path)
          if (m !== null) {
            effect = route.handle(req, res, m.slice(1))
            break
          }
        }
      }
      if (effect === undefined) {
        req.resume()
        const known = builtin("GET", path) !== undefined || deps.routes.some((r) => r.path.test(path))
        return write(res, known
          ? json(405, { error: "method_not_allowed", message: `${method} is not allowed on ${path}` })
          : json(404, { error: "not_found", message: `no admin endpoint ${path}` }))
      }
      runPromise(effect).then(
        (response) => {
          if (response !== "handled") write(res, response)
        },
        () => write(res, json(500, { error: "internal_error", message: "admin request failed" }))
      )
    })

    return yield* listen(server, "admin", address)
  })
