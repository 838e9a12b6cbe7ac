/**
 * A backend pool at run time: its servers (each with a pooled connection set), their live state and the
 * load balancer over them. A pool lives in its own scope; closing it closes the connection sets gracefully.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { readFile } from "node:fs/promises"
import { canonical } from "../config/Canonical.js"
import { ConfigError } from "../config/ConfigError.js"
import type { PoolConfig } from "../config/Schema.js"
import { Metrics } from "../observability/Metrics.js"
import { Upstream, type ConnectionOptions, type UpstreamClient } from "../proxy/Upstream.js"
import * as LoadBalancer from "./LoadBalancer.js"

/** One server of a pool; `activeRequests` and health fields change at run time. */
export class Server implements LoadBalancer.BalancedServer {
  activeRequests = 0
  healthy = true
  ejected = false
  constructor(
    /** Identity on the consistent-hash ring: the server URL. */
    readonly key: string,
    /** `host:port`, as used in metrics labels. */
    readonly label: string,
    readonly weight: number,
    readonly client: UpstreamClient,
    /** Upstream attempt metrics, bound to this pool and server. */
    readonly attempts: ReturnType<Metrics["Type"]["upstream"]>
  ) {}
  get available(): boolean {
    return this.healthy && !this.ejected
  }
}

export interface Pool {
  readonly name: string
  /** Canonical JSON of the pool's definition: an unchanged definition keeps its pool across reloads. */
  readonly definition: string
  /** The decoded definition (decoding shares an unchanged one across reloads: then no comparison is needed). */
  readonly config: PoolConfig
  readonly servers: ReadonlyArray<Server>
  readonly pick: (context: LoadBalancer.PickContext) => Server | undefined
  /** Whether any server can take a request now. */
  readonly hasAvailable: () => boolean
  /** Requests that hold this pool (forwarded and not finished). */
  inFlight: number
}

const readOptional = (pool: string, key: string, file: string | null) =>
  file === null ? Effect.succeed(undefined) : Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (cause) =>
      new ConfigError({
        problems: [{
          file,
          path: `pools.${pool}.tls.${key}`,
          message: `expected a readable file, found: ${cause instanceof Error ? cause.message : String(cause)}`
        }]
      })
  })


/** Opens a pool: one connection set per server, closed with the scope. */
export const make = (name: string, config: PoolConfig): Effect.Effect<Pool, ConfigError, Upstream | Metrics | Scope.Scope> =>
  Effect.gen(function*() {
    const upstream = yield* Upstream
    const metrics = yield* Metrics
    const options: ConnectionOptions = {
      maxConnectionsPerServer: config.connection.maxConnectionsPerServer,
      connectTimeout: config.connection.connectTimeout,
      idleTimeout: config.connection.idleTimeout,
      tls: {
        ca: yield* readOptional(name, "caFile", config.tls.caFile),
        cert: yield* readOptional(name, "certFile", config.tls.certFile),
        key: yield* readOptional(name, "keyFile", config.tls.keyFile),
        serverName: config.tls.serverName ?? undefined,
        insecureSkipVerify: config.tls.insecureSkipVerify
      }
    }
    const servers: Array<Server> = []
    for (const spec of config.servers) {
      const url = new URL(spec.url)
      const client = yield* upstream.connect(url.origin, `${url.host} (pool ${name})`, options)
      servers.push(new Server(spec.url, url.host, spec.weight, client, metrics.upstream(name, url.host)))
      // no health checking yet: a configured server counts as up
      metrics.backendUp(name, url.host, true)
    }
    // no circuit breaker yet: the circuit is closed (as GET /pools says)
    metrics.circuitState(name, 0)
    const balancer = LoadBalancer.make(config.loadBalancer, config.hashOn, servers)
    const pool: Pool = {
      name,
      definition: canonical(config),
      config,
      servers,
      pick: balancer.pick,
      hasAvailable: balancer.hasAvailable,
      inFlight: 0
    }
    return pool
  })
