/**
 * Features the schema knows but the proxy does not build yet. Using one (setting it to a value that enables
 * it) is a problem `"<path>: not supported yet (<feature>)"`, so a config never silently lacks what it asks for.
 *
 * When a feature lands, delete its line from {@link notSupportedYet}.
 */
import type {
  EntityConfig,
  EntityKind,
  ListenerConfig,
  MiddlewareConfig,
  PoolConfig,
  RouteConfig,
  SwitchyardConfig
} from "./Schema.js"
import type { Path, PathProblem } from "./Validate.js"

export interface Unsupported<A> {
  /** Where the feature is switched on, relative to the entity (or to the document for `document`). */
  readonly path: Path
  /** What is missing, as shown in the problem: `not supported yet (<feature>)`. */
  readonly feature: string | ((value: A) => string)
  /** Whether `value` uses the feature. */
  readonly used: (value: A) => boolean
}

export interface UnsupportedTable {
  readonly listeners: ReadonlyArray<Unsupported<ListenerConfig>>
  readonly routes: ReadonlyArray<Unsupported<RouteConfig>>
  readonly pools: ReadonlyArray<Unsupported<PoolConfig>>
  readonly middlewares: ReadonlyArray<Unsupported<MiddlewareConfig>>
  readonly document: ReadonlyArray<Unsupported<SwitchyardConfig>>
}

export const notSupportedYet: UnsupportedTable = {
  listeners: [
    { path: ["tls"], feature: "TLS listeners", used: (l) => l.tls !== null },
    { path: ["http2"], feature: "HTTP/2 without TLS (h2c)", used: (l) => l.http2 && l.tls === null }
  ],
  routes: [
    { path: ["retry"], feature: "retries", used: (r) => r.retry !== null },
    { path: ["websocket"], feature: "WebSocket", used: (r) => r.websocket }
  ],
  pools: [
    { path: ["discovery"], feature: "service discovery", used: (p) => p.discovery !== null },
    { path: ["healthCheck"], feature: "health checks", used: (p) => p.healthCheck !== null },
    { path: ["circuitBreaker"], feature: "circuit breakers", used: (p) => p.circuitBreaker !== null },
    { path: ["panicThreshold"], feature: "panic mode", used: (p) => p.panicThreshold > 0 },
    { path: ["connection", "http2"], feature: "HTTP/2 to upstreams", used: (p) => p.connection.http2 }
  ],
  middlewares: [
    { path: ["type"], feature: (m) => `middleware type "${m.type}"`, used: (m) => m.type !== "headers" }
  ],
  document: [
    {
      path: ["observability", "tracing", "endpoint"],
      feature: "tracing export",
      used: (c) => c.observability.tracing.endpoint !== null
    }
  ]
}

const problemsOf = <A>(entries: ReadonlyArray<Unsupported<A>>, at: Path, value: A): ReadonlyArray<PathProblem> =>
  entries.filter((entry) => entry.used(value)).map((entry) => ({
    path: [...at, ...entry.path],
    message: `not supported yet (${typeof entry.feature === "string" ? entry.feature : entry.feature(value)})`
  }))

/** Unsupported features one entity uses. */
export const checkEntity = <K extends EntityKind>(
  kind: K,
  name: string,
  value: EntityConfig[K],
  table: UnsupportedTable = notSupportedYet
): ReadonlyArray<PathProblem> => {
  const at = [kind, name]
  switch (kind) {
    case "routes":
      return problemsOf(table.routes, at, value as RouteConfig)
    case "pools":
      return problemsOf(table.pools, at, value as PoolConfig)
    default:
      return problemsOf(table.middlewares, at, value as MiddlewareConfig)
  }
}

/** Unsupported features a document uses. */
export const check = (config: SwitchyardConfig, table: UnsupportedTable = notSupportedYet): ReadonlyArray<PathProblem> => [
  ...Object.entries(config.listeners).flatMap(([name, l]) => problemsOf(table.listeners, ["listeners", name], l)),
  ...Object.entries(config.routes).flatMap(([name, r]) => problemsOf(table.routes, ["routes", name], r)),
  ...Object.entries(config.pools).flatMap(([name, p]) => problemsOf(table.pools, ["pools", name], p)),
  ...Object.entries(config.middlewares).flatMap(([name, m]) => problemsOf(table.middlewares, ["middlewares", name], m)),
  ...problemsOf(table.document, [], config)
]
