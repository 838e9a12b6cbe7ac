/**
 * The pools of the running proxy, each in its own scope. Reloads are make-before-break: `prepare` opens
 * the pools a new config adds or changes while the old ones keep serving; `commit` then retires the pools
 * that are gone, closing each only after its last request in flight has finished. A pool whose definition
 * did not change is kept as it is, with its connections and server state.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { ConfigError } from "../config/ConfigError.js"
import type { PoolConfig } from "../config/Schema.js"
import { Metrics } from "../observability/Metrics.js"
import type { Upstream } from "../proxy/Upstream.js"
import { canonical } from "../config/Canonical.js"
import * as Pool from "./Pool.js"

interface Entry {
  readonly pool: Pool.Pool
  readonly scope: Scope.CloseableScope
}

export interface Prepared {
  readonly pools: ReadonlyMap<string, Pool.Pool>
  /** Makes the prepared set current and retires the pools it no longer has. */
  readonly commit: Effect.Effect<void>
  /** Closes the pools `prepare` opened (the config was rejected after all). */
  readonly abort: Effect.Effect<void>
}

export interface PoolRegistry {
  readonly prepare: (configs: Readonly<Record<string, PoolConfig>>) => Effect.Effect<Prepared, ConfigError, Upstream | Metrics>
  readonly current: () => ReadonlyMap<string, Pool.Pool>
}

/** How long a retired pool may take to finish its requests before it is closed anyway. */
const DRAIN_LIMIT_MS = 300_000

const drainThenClose = (entry: Entry) =>
  Effect.gen(function*() {
    const deadline = Date.now() + DRAIN_LIMIT_MS
    while (entry.pool.inFlight > 0 && Date.now() < deadline) yield* Effect.sleep("50 millis")
    yield* Scope.close(entry.scope, Exit.void)
  })

export const make: Effect.Effect<PoolRegistry, never, Scope.Scope> = Effect.gen(function*() {
  const entries = new Map<string, Entry>()
  const registryScope = yield* Effect.scope
  yield* Effect.addFinalizer(() =>
    Effect.forEach(entries.values(), (entry) => Scope.close(entry.scope, Exit.void), { discard: true, concurrency: "unbounded" })
  )

  const prepare = (configs: Readonly<Record<string, PoolConfig>>) =>
    Effect.gen(function*() {
      const metrics = yield* Metrics
      const next = new Map<string, Entry>()
      const opened: Array<Entry> = []
      const abort = Effect.forEach(opened, (entry) => Scope.close(entry.scope, Exit.void), { discard: true })
      for (const [name, config] of Object.entries(configs)) {
        const existing = entries.get(name)
        if (existing !== undefined && (existing.pool.config === config || existing.pool.definition === canonical(config))) {
          next.set(name, existing)
          continue
        }
        const scope = yield* Scope.make()
        const exit = yield* Effect.exit(Scope.extend(Pool.make(name, config), scope))
        if (Exit.isFailure(exit)) {
          yield* Scope.close(scope, Exit.void)
          yield* abort
          return yield* Effect.failCause(exit.cause)
        }
        const entry = { pool: exit.value, scope }
        opened.push(entry)
        next.set(name, entry)
      }
      const commit = Effect.suspend(() => {
        const retired: Array<Entry> = []
        for (const [name, entry] of entries) {
          if (next.get(name) !== entry) retired.push(entry)
          if (!next.has(name)) metrics.forgetPool(name)
        }
        entries.clear()
        for (const [name, entry] of next) entries.set(name, entry)
        return Effect.forEach(retired, (entry) => Effect.forkIn(drainThenClose(entry), registryScope), { discard: true })
      })
      const pools = new Map<string, Pool.Pool>()
      for (const [name, entry] of next) pools.set(name, entry.pool)
      return { pools, commit, abort } satisfies Prepared
    })

  return {
    prepare,
    current: () => {
      const pools = new Map<string, Pool.Pool>()
      for (const [name, entry] of entries) pools.set(name, entry.pool)
      return pools
    }
  }
})
