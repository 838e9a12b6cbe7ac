/**
 * Rules the schema cannot express: references between entities (CONTRACT §2 "References must resolve") and
 * constraints between sibling keys. Pure functions from decoded config to problems; `Load` attaches files.
 */
import { addressProblem, parseAddress } from "./Address.js"
import * as Duration from "./Duration.js"
import type {
  EntityConfig,
  EntityKind,
  MiddlewareConfig,
  PoolConfig,
  RouteConfig,
  SwitchyardConfig
} from "./Schema.js"

export type Path = ReadonlyArray<PropertyKey>

/** A problem before its file is known: the key path from the document root and the message. */
export interface PathProblem {
  readonly path: Path
  readonly message: string
}

/** The names references may point at. */
export interface DefinedNames {
  readonly listeners: ReadonlyArray<string>
  readonly pools: ReadonlyArray<string>
  readonly middlewares: ReadonlyArray<string>
}

export const namesOf = (config: Pick<SwitchyardConfig, "listeners" | "pools" | "middlewares">): DefinedNames => ({
  listeners: Object.keys(config.listeners),
  pools: Object.keys(config.pools),
  middlewares: Object.keys(config.middlewares)
})

const notDefined = (what: string, name: string, defined: ReadonlyArray<string>): string =>
  `${what} ${JSON.stringify(name)} is not defined (${
    defined.length === 0 ? `no ${what}s are defined` : `defined ${what}s: ${[...defined].sort().join(", ")}`
  })`

/** Rules inside one route (no references). */
export const route = (name: string, config: RouteConfig): ReadonlyArray<PathProblem> => {
  const at = ["routes", name]
  const problems: Array<PathProblem> = []
  const total = config.backends.reduce((sum, backend) => sum + backend.weight, 0)
  if (config.backends.length > 0 && !(total > 0)) {
    problems.push({
      path: [...at, "backends"],
      message: `expected backend weights with a positive sum, found ${
        config.backends.map((b) => b.weight).join(" + ")
      } = ${total}`
    })
  }
  const backoff = config.retry?.backoff
  if (backoff !== undefined && backoff.max < backoff.initial) {
    problems.push({
      path: [...at, "retry", "backoff", "max"],
      message: `expected at least backoff.initial (${Duration.format(backoff.initial)}), found ${
        Duration.format(backoff.max)
      }`
    })
  }
  return problems
}

/** Rules inside one pool. */
export const pool = (name: string, config: PoolConfig): ReadonlyArray<PathProblem> => {
  const at = ["pools", name]
  const problems: Array<PathProblem> = []
  if (config.servers.length === 0 && config.discovery === null) {
    problems.push({
      path: [...at, "servers"],
      message: "expected at least one server, or a discovery section, found neither"
    })
  }
  const { certFile, keyFile } = config.tls
  if ((certFile === null) !== (keyFile === null)) {
    problems.push({
      path: [...at, "tls", certFile === null ? "certFile" : "keyFile"],
      message: `expected certFile and keyFile together, found only ${certFile === null ? "keyFile" : "certFile"}`
    })
  }
  const passive = config.healthCheck?.passive
  if (passive != null && passive.maxEjectionTime < passive.baseEjectionTime) {
    problems.push({
      path: [...at, "healthCheck", "passive", "maxEjectionTime"],
      message: `expected at least baseEjectionTime (${Duration.format(passive.baseEjectionTime)}), found ${
        Duration.format(passive.maxEjectionTime)
      }`
    })
  }
  return problems
}

/** Rules inside one middleware (the schema covers the current types entirely). */
export const middleware = (_name: string, _config: MiddlewareConfig): ReadonlyArray<PathProblem> => []

/** The rules of one entity alone, for a value from the admin API or a KV key (references are not checked). */
export const entity = <K extends EntityKind>(kind: K, name: string, config: EntityConfig[K]): ReadonlyArray<PathProblem> => {
  switch (kind) {
    case "routes":
      return route(name, config as RouteConfig)
    case "pools":
      return pool(name, config as PoolConfig)
    default:
      return middleware(name, config as MiddlewareConfig)
  }
}

/** Every route's listeners, pools, fallback and middlewares must be defined. */
export const references = (
  routes: Readonly<Record<string, RouteConfig>>,
  names: DefinedNames
): ReadonlyArray<PathProblem> => {
  const problems: Array<PathProblem> = []
  const listeners = new Set(names.listeners)
  const pools = new Set(names.pools)
  const middlewares = new Set(names.middlewares)
  for (const [name, config] of Object.entries(routes)) {
    const at = ["routes", name]
    config.listeners?.forEach((listener, i) => {
      if (!listeners.has(listener)) {
        problems.push({ path: [...at, "listeners", i], message: notDefined("listener", listener, names.listeners) })
      }
    })
    config.backends.forEach((backend, i) => {
      if (!pools.has(backend.pool)) {
        problems.push({ path: [...at, "backends", i, "pool"], message: notDefined("pool", backend.pool, names.pools) })
      }
    })
    if (config.fallback !== null && !pools.has(config.fallback)) {
      problems.push({ path: [...at, "fallback"], message: notDefined("pool", config.fallback, names.pools) })
    }
    config.middlewares.forEach((middleware, i) => {
      if (!middlewares.has(middleware)) {
        problems.push({
          path: [...at, "middlewares", i],
          message: notDefined("middleware", middleware, names.middlewares)
        })
      }
    })
  }
  return problems
}

const WILDCARD = new Set(["", "0.0.0.0", "::"])

/** Two listeners (or a listener and the admin API) on one port: the second could never bind. */
export const ports = (config: Pick<SwitchyardConfig, "listeners" | "admin">): ReadonlyArray<PathProblem> => {
  const bound: Array<{ readonly at: string; readonly host: string; readonly port: number }> = []
  const problems: Array<PathProblem> = []
  const addresses: Array<readonly [Path, string]> = Object.entries(config.listeners).map(([name, l]) => [["listeners", name, "address"], l.address])
  if (config.admin.address !== null) addresses.push([["admin", "address"], config.admin.address])
  for (const [path, address] of addresses) {
    if (addressProblem(address) !== undefined) continue
    const { host, port } = parseAddress(address)
    if (port === 0) continue
    const other = bound.find((b) => b.port === port && (b.host === host || WILDCARD.has(b.host) || WILDCARD.has(host)))
    if (other !== undefined) {
      problems.push({ path, message: `expected a port no other listener uses, found ${JSON.stringify(address)} (${other.at} has it)` })
    } else {
      bound.push({ at: path.join("."), host, port })
    }
  }
  return problems
}

/**
 * Every rule over a decoded document. `names` are the names references may use; they default to the
 * document's own, and `Load` passes the raw document's keys when some entities failed to decode, so a
 * reference to a broken entity is not also reported as undefined.
 */
export const validate = (config: SwitchyardConfig, names: DefinedNames = namesOf(config)): ReadonlyArray<PathProblem> => [
  ...ports(config),
  ...Object.entries(config.routes).flatMap(([name, r]) => route(name, r)),
  ...Object.entries(config.pools).flatMap(([name, p]) => pool(name, p)),
  ...Object.entries(config.middlewares).flatMap(([name, m]) => middleware(name, m)),
  ...references(config.routes, names)
]
