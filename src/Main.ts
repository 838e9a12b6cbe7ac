/**
 * Composition root: the only file in `src/` that imports `adapters/`. It wires the ports to undici,
 * prom-client, pino and the configuration sources' clients, and exposes the programmatic API
 * (`Switchyard.layer`, `Switchyard.start`) and the CLI's `run`.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as Scope from "effect/Scope"
import * as FileConfigSource from "../adapters/file/FileConfigSource.js"
import * as PinoLogger from "../adapters/pino/PinoLogger.js"
import * as PromMetrics from "../adapters/prometheus/PromMetrics.js"
import * as UndiciUpstream from "../adapters/undici/UndiciUpstream.js"
import type { ConfigSource } from "../streams/ConfigSource.js"
import * as Gateway from "../streams/Gateway.js"
import * as InlineSource from "../streams/InlineSource.js"
import { constants } from "node:fs"
import { access } from "node:fs/promises"
import { resolve } from "node:path"
import * as ConfigWatcher from "../streams/ConfigWatcher.js"
import { ConfigError as ConfigErrorClass, type ConfigError, type ConfigProblem } from "./config/ConfigError.js"
import * as Load from "./config/Load.js"
import type { SwitchyardConfig } from "./config/Schema.js"
import { Events } from "./observability/Events.js"
import { Metrics, noop as noopMetrics } from "./observability/Metrics.js"
import type { ListenError } from "./server/HttpListener.js"
import type { ListenerAddress } from "./Switchyard.js"

/** A running proxy, as a service. */
export class Proxy extends Context.Tag("switchyard/Switchyard")<Proxy, Gateway.Gateway & {
  /** Replaces the base document (the inline config); validated like a file edit. */
  readonly reload: (input: unknown) => Effect.Effect<number, ConfigError>
}>() {}

/** The adapters for one config: undici upstreams, Prometheus metrics, pino logs, the event bus. */
export const adapters = (config: SwitchyardConfig) =>
  Layer.mergeAll(
    // Effect's per-fiber runtime metrics are on by default; nothing reads them here, and they cost
    // allocations on every fiber (config reloads included)
    RuntimeFlags.disableRuntimeMetrics,
    UndiciUpstream.layer,
    config.observability.metrics.enabled ? PromMetrics.layer({ defaultMetrics: true }) : Layer.succeed(Metrics, noopMetrics),
    PinoLogger.layer(config.observability.logs),
    Events.layer
  )

/** The dynamic sources a config names, in layer order: etcd, then Consul (after the base document). */
const dynamicSources = (config: SwitchyardConfig): Effect.Effect<ReadonlyArray<ConfigSource>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const sources: Array<ConfigSource> = []
    // loaded only when configured: the etcd client (gRPC) alone costs ~25 MiB of RSS
    if (config.sources.etcd !== null) {
      const etcd = config.sources.etcd
      const { make } = yield* Effect.promise(() => import("../adapters/etcd/EtcdConfigSource.js"))
      sources.push(yield* make(etcd))
    }
    if (config.sources.consul !== null) {
      const consul = config.sources.consul
      const { make } = yield* Effect.promise(() => import("../adapters/consul/ConsulConfigSource.js"))
      sources.push(yield* make(consul))
    }
    return sources
  })

const env = process.env

const isDocument = (input: unknown): input is Record<string, unknown> =>
  input !== null && typeof input === "object" && !Array.isArray(input)

/**
 * The proxy as a scoped `Layer`: listening and serving the given config once built; drained and closed
 * when its scope closes. Fails with a `ConfigError` listing every problem of the document.
 *
 * @example
 * import { Effect } from "effect"
 * import { Switchyard } from "switchyard"
 * const program = Effect.gen(function*() {
 *   const proxy = yield* Switchyard.Proxy
 *   console.log(proxy.core.listeners().web?.url)
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Switchyard.layer(doc))))
 */
export const layer = (input: unknown, origin = "<inline config>"): Layer.Layer<Proxy, ConfigError | ListenError> =>
  Layer.unwrapEffect(
    Effect.map(Load.decode(input, origin), (config) =>
      Layer.scoped(
        Proxy,
        Effect.gen(function*() {
          const inline = yield* InlineSource.make(origin, isDocument(input) ? input : {})
          const sources = [inline.source, ...(yield* dynamicSources(config))]
          const gateway = yield* Gateway.make(config, sources, env)
          // With only the given document, fail fast when it cannot be applied. With etcd/Consul sources the
          // proxy listens at once and becomes ready when they have answered (503 not_ready until then).
          if (sources.length === 1) yield* gateway.plane.first
          return {
            ...gateway,
            reload: (next: unknown) =>
              Effect.gen(function*() {
                yield* Load.decode(next, origin)
                const document = isDocument(next) ? next : {}
                yield* inline.set(document)
                return yield* gateway.plane.submit(origin, InlineSource.snapshotOf(origin, document))
              })
          }
        })
      ).pipe(Layer.provide(adapters(config))))
  )

/**
 * Reads, interpolates, applies the environment overrides to, decodes and validates a config file — the
 * same path the config plane takes on every reload. Fails with every problem found.
 */
export const loadFile = (file: string): Effect.Effect<SwitchyardConfig, ConfigError> =>
  Effect.gen(function*() {
    const snapshot = yield* FileConfigSource.read(resolve(file), env)
    const merged = ConfigWatcher.merge(snapshot, [], env)
    const config = yield* Load.decodeAfter(merged.raw, merged.origin, merged.problems)
    yield* readableFiles(config, merged.origin)
    return config
  })

/**
 * The files a config refers to (pool TLS material) must be readable: `validate` reports them with the
 * other problems, and `run` does not start on a config it could not apply.
 */
const readableFiles = (config: SwitchyardConfig, origin: (path: ReadonlyArray<string | number>) => string) =>
  Effect.gen(function*() {
    const problems: Array<ConfigProblem> = []
    for (const [name, pool] of Object.entries(config.pools)) {
      for (const key of ["caFile", "certFile", "keyFile"] as const) {
        const path = pool.tls[key]
        if (path === null) continue
        const error = yield* Effect.promise(() => access(path, constants.R_OK).then(() => undefined, (e: Error) => e))
        if (error !== undefined) {
          const at = ["pools", name, "tls", key]
          problems.push({ file: origin(at), path: at.join("."), message: `expected a readable file, found: ${error.message}` })
        }
      }
    }
    if (problems.length > 0) return yield* new ConfigErrorClass({ problems })
  })

/**
 * Runs the proxy on a config file until interrupted (the CLI's `run`). `serving` runs once, after every
 * listener is bound.
 */
export const runFile = (
  file: string,
  serving: Effect.Effect<void> = Effect.void
): Effect.Effect<never, ConfigError | ListenError, never> =>
  Effect.gen(function*() {
    const config = yield* loadFile(file)
    const source = FileConfigSource.make(file, { watch: config.sources.file.watch, env })
    return yield* Effect.gen(function*() {
      const sources = [source, ...(yield* dynamicSources(config))]
      const gateway = yield* Gateway.make(config, sources, env)
      // With the file as the only source, a first config that cannot be applied (checked above as far as
      // reading can tell) ends the run: never half-configured. With etcd or Consul layers the proxy stays
      // up, not ready, until they deliver a valid whole (CONTRACT §3).
      if (sources.length === 1) yield* gateway.plane.first
      yield* serving
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.provide(adapters(config)))
  })

/** A running proxy started from a promise-based API (for embedding in test suites). */
export interface Handle {
  /** URL of the first listener, e.g. `http://127.0.0.1:54321`. */
  readonly url: string
  /** Every listener's address by name. */
  readonly listeners: Readonly<Record<string, ListenerAddress>>
  /** The admin API's URL, when enabled. */
  readonly adminUrl: string | undefined
  /** Applies a new config document (validated; the old one keeps serving when it is invalid). */
  readonly reload: (input: unknown) => Promise<number>
  /** Drains (up to `shutdownTimeout`) and stops. */
  readonly close: () => Promise<void>
}

/** Runs an effect and rejects with its own error (a `ConfigError`, `ListenError`…), not Effect's wrapper. */
const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}

/**
 * Starts a proxy from a config document value and resolves once it serves it.
 * Rejects with a `ConfigError` (every problem listed) or a `ListenError`.
 *
 * @example
 * import { Switchyard } from "switchyard"
 * const proxy = await Switchyard.start({
 *   listeners: { web: { address: "127.0.0.1:0" } },
 *   routes: { all: { backends: [{ pool: "app" }] } },
 *   pools: { app: { servers: [{ url: "http://127.0.0.1:3000" }] } },
 *   admin: { address: null }
 * })
 * await fetch(proxy.url)
 * await proxy.close()
 */
export const start = async (input: unknown, origin = "<inline config>"): Promise<Handle> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const context = await run(Layer.buildWithScope(layer(input, origin), scope))
    const proxy = Context.get(context, Proxy)
    const listeners = proxy.core.listeners()
    const first = Object.values(listeners)[0]
    return {
      url: first?.url ?? "",
      listeners,
      adminUrl: proxy.admin?.url,
      reload: (next) => run(proxy.reload(next)),
      close: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}
