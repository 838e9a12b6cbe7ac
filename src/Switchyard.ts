/**
 * The data plane as one scoped resource: pools, listeners and the active config, written
 * against ports only (`Upstream`, `Metrics`, `AccessLog`); `Main.ts` provides the adapters.
 *
 * `apply` is the one way a configuration becomes active, at start and on every reload: open the pools
 * the config adds or changes (the old ones keep serving), compile routes and middleware chains, swap the
 * compiled snapshot in one assignment, then bind/drain listeners that were added/removed/changed and
 * retire pools that are gone. Any failure before the swap leaves the running config untouched.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { compile } from "./config/Compile.js"
import type { ConfigError } from "./config/ConfigError.js"
import type { ListenerConfig, SwitchyardConfig } from "./config/Schema.js"
import * as Trust from "./net/Trust.js"
import { AccessLog } from "./observability/AccessLog.js"
import { Metrics } from "./observability/Metrics.js"
import * as PoolRegistry from "./pool/PoolRegistry.js"
import { canonical } from "./config/Canonical.js"
import type { ActiveConfigState } from "./proxy/ActiveConfig.js"
import * as Dispatcher from "./proxy/Dispatcher.js"
import * as RequestRuntime from "./proxy/RequestRuntime.js"
import type { Upstream } from "./proxy/Upstream.js"
import * as FiberRoots from "./runtime/FiberRoots.js"
import * as HttpListener from "./server/HttpListener.js"

export interface ListenerAddress {
  readonly host: string
  readonly port: number
  /** `http://host:port` (IPv6 hosts bracketed). */
  readonly url: string
}

export interface Instance {
  /** The compiled config the request path reads. */
  readonly active: ActiveConfigState
  /** Bound listeners by name. */
  readonly listeners: () => Readonly<Record<string, ListenerAddress>>
  /** Ready: a valid config is applied and every listener is bound. */
  readonly ready: () => boolean
  /** Validates, compiles and swaps in a new config; returns the new version. Rejects and keeps the old on error. */
  readonly apply: (config: SwitchyardConfig) => Effect.Effect<number, ConfigError | HttpListener.ListenError>
}

export const urlOf = (host: string, port: number, scheme = "http") => {
  const h = host === "" || host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host
  return `${scheme}://${h}:${port}`
}

interface ListenerEntry {
  readonly definition: string
  /** The decoded spec (shared across reloads while unchanged: then no comparison is needed). */
  readonly spec: ListenerConfig
  readonly bound: HttpListener.BoundListener
  readonly scope: Scope.CloseableScope
  /** `http://host:port` (or https) of the bound listener. */
  readonly url: string
}

/**
 * Binds the listeners of `config` and returns the instance; routes, pools and middlewares become active
 * with the first `apply`. Closing the scope drains listeners (up to `shutdownTimeout`) and closes pools.
 */
export const make = (
  config: SwitchyardConfig
): Effect.Effect<Instance, HttpListener.ListenError, Upstream | Metrics | AccessLog | Scope.Scope> =>
  Effect.gen(function*() {
    // a fiber per request: keep Effect's root-fiber set out of V8's hash tables (see FiberRoots.ts)
    const roots = FiberRoots.install()
    if (roots === "unexpected-shape") yield* Effect.logDebug("Effect's global fiber scope has an unexpected shape; left as it is")
    const metrics = yield* Metrics
    const accessLog = yield* AccessLog
    const registry = yield* PoolRegistry.make
    const active: ActiveConfigState = { current: undefined }
    const dispatcher = Dispatcher.make({ active, fork: RequestRuntime.fork, accessLog: accessLog.write })
    const lock = yield* Effect.makeSemaphore(1)
    const context = yield* Effect.context<Upstream | Metrics>()
    const listeners = new Map<string, ListenerEntry>()
    let shutdownTimeout = config.shutdownTimeout

    const bindListener = (name: string, spec: ListenerConfig) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const state: Dispatcher.ListenerState = {
          name,
          scheme: spec.tls === null ? "http" : "https",
          trust: Trust.make(spec.trustedProxies),
          limits: spec.limits,
          port: "",
          inFlight: metrics.inFlight(name),
          unrouted: metrics.requests(name, ""),
          draining: false,
          active: 0,
          onIdle: undefined
        }
        const bound = yield* Scope.extend(
          HttpListener.bind(name, spec, state, dispatcher(state), metrics.openConnections(name)),
          scope
        ).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
        return { definition: canonical(spec), spec, bound, scope, url: urlOf(bound.host, bound.port, state.scheme) } satisfies ListenerEntry
      })

    const closeListener = (entry: ListenerEntry) =>
      entry.bound.drain(shutdownTimeout).pipe(Effect.zipRight(Scope.close(entry.scope, Exit.void)))

    /** Listeners that are new or changed are bound; removed or changed ones drained. Unchanged ones are untouched. */
    const reconcileListeners = (next: SwitchyardConfig) =>
      Effect.gen(function*() {
        for (const [name, entry] of listeners) {
          const spec = next.listeners[name]
          if (spec === undefined || (spec !== entry.spec && canonical(spec) !== entry.definition)) {
            listeners.delete(name)
            yield* closeListener(entry)
          }
        }
        for (const [name, spec] of Object.entries(next.listeners)) {
          if (!listeners.has(name)) listeners.set(name, yield* bindListener(name, spec))
        }
      })

    let version = 0
    const apply = (next: SwitchyardConfig) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const prepared = yield* registry.prepare(next.pools)
        const compiled = yield* compile(next, prepared.pools, version + 1).pipe(Effect.tapError(() => prepared.abort))
        version++
        active.current = compiled
        shutdownTimeout = next.shutdownTimeout
        yield* prepared.commit
        metrics.configVersion(version)
        yield* reconcileListeners(next)
        return version
      })).pipe(Effect.provide(context))

    let stopping = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => (stopping = true)).pipe(
        Effect.zipRight(Effect.forEach(listeners.values(), closeListener, { concurrency: "unbounded", discard: true })),
        Effect.zipRight(Effect.sync(() => listeners.clear()))
      )
    )

    // Listeners are bound at once, before any route config is applied: until then requests get
    // 503 not_ready (fail closed), never a refused connection or a 404.
    yield* reconcileListeners(config)

    const ready = () => {
      const current = active.current
      if (current === undefined || stopping) return false
      for (const name of Object.keys(current.config.listeners)) if (!listeners.has(name)) return false
      return true
    }

    return {
      active,
      ready,
      apply,
      listeners: () => {
        const out: Record<string, ListenerAddress> = {}
        for (const [name, entry] of listeners) {
          out[name] = { host: entry.bound.host, port: entry.bound.port, url: entry.url }
        }
        return out
      }
    } satisfies Instance
  })
