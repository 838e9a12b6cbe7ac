/**
 * The configuration plane: every source's snapshots merged in the contract's layer order
 * (file < env < etcd < consul < admin API, later wins per entity name), bursts coalesced, unchanged
 * results skipped, the result decoded and validated as a whole, then applied — or rejected, logged,
 * counted and published as `config.rejected` while the last good config keeps serving.
 *
 * Nothing is applied until every source has delivered its first snapshot (fail closed: the proxy is
 * not ready rather than serving a partial config). A source that is down keeps its last snapshot.
 * Admin writes go through the same merge and validation synchronously, so `PUT /config/...` can answer
 * 400 with the problems and change nothing.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { ConfigError, type ConfigProblem } from "../src/config/ConfigError.js"
import * as Env from "../src/config/Env.js"
import * as Load from "../src/config/Load.js"
import { type EntityKind, entityKinds, type SwitchyardConfig } from "../src/config/Schema.js"
import { Events, now } from "../src/observability/Events.js"
import { Metrics } from "../src/observability/Metrics.js"
import { canonical } from "../src/config/Canonical.js"
import { type ConfigSnapshot, type ConfigSource, type DynamicEntities, emptyEntityMaps } from "./ConfigSource.js"

export interface ConfigPlane {
  /** Version of the config being served; 0 before the first one. */
  readonly version: () => number
  /** Upserts one entity in the admin layer; fails (changing nothing) when it or the merged config is invalid. */
  readonly put: (kind: EntityKind, name: string, raw: unknown) => Effect.Effect<number, ConfigError>
  /** Removes one entity from the admin layer; `undefined` when the admin layer does not have it. */
  readonly remove: (kind: EntityKind, name: string) => Effect.Effect<number | undefined, ConfigError>
  /**
   * Takes a new snapshot of one source at once, rather than through its stream, and answers with the
   * outcome: the version being served, or why the merged config was rejected (nothing changes then).
   */
  readonly submit: (source: string, snapshot: ConfigSnapshot) => Effect.Effect<number, ConfigError>
  /** The outcome of the first complete merge: the applied version, or why it was rejected. */
  readonly first: Effect.Effect<number, ConfigError>
}

export interface WatcherOptions {
  /** Sources in layer order; exactly one (the first) carries the base `document`. */
  readonly sources: ReadonlyArray<ConfigSource>
  readonly env: Load.Env
  readonly apply: (config: SwitchyardConfig) => Effect.Effect<number, unknown>
  /** Coalescing window for bursts of changes. */
  readonly debounce?: number
}

type Layer = { readonly origin: string; readonly entities: DynamicEntities }


interface Merged {
  readonly raw: Record<string, unknown>
  readonly problems: ReadonlyArray<ConfigProblem>
  readonly origin: (path: ReadonlyArray<PropertyKey>) => string
  readonly key: string
}

/** Layers → one undecoded document, plus who owns each entity (for naming the origin of a problem). */
export const merge = (
  base: ConfigSnapshot,
  layers: ReadonlyArray<Layer>,
  env: Load.Env
): Merged => {
  const document = base.document ?? {}
  const sources = document["sources"] as { env?: { prefix?: unknown } } | undefined
  const prefix = typeof sources?.env?.prefix === "string" ? sources.env.prefix : "SWITCHYARD__"
  const envResult = Env.overrides(env, prefix)
  const withEnv = Env.apply(document, envResult.overrides)
  const owners = new Map<string, string>()
  const raw: Record<string, unknown> = { ...withEnv }
  const problems: Array<ConfigProblem> = [...base.problems, ...envResult.problems]
  for (const kind of entityKinds) {
    const own = withEnv[kind]
    const entities: Record<string, unknown> = own !== null && typeof own === "object" && !Array.isArray(own) ? { ...own as object } : {}
    for (const layer of layers) {
      for (const [name, value] of Object.entries(layer.entities[kind])) {
        entities[name] = value
        owners.set(`${kind}\u0000${name}`, `${layer.origin}${kind}/${name}`)
      }
    }
    if (own !== undefined || Object.keys(entities).length > 0) raw[kind] = entities
  }
  const origin = (path: ReadonlyArray<PropertyKey>) => {
    if (path.length >= 2) {
      const owner = owners.get(`${String(path[0])}\u0000${String(path[1])}`)
      if (owner !== undefined) return owner
    }
    return Env.originOf(envResult.overrides, path, document) ?? base.source.replace(/^file:/, "")
  }
  return { raw, problems, origin, key: canonical(raw) }
}

export const make = (options: WatcherOptions) =>
  Effect.gen(function*() {
    const events = yield* Events
    const metrics = yield* Metrics
    const lock = yield* Effect.makeSemaphore(1)
    const latest = new Map<string, ConfigSnapshot>()
    const changed = new Set<string>()
    let admin = emptyEntityMaps()
    let version = 0
    let lastKey: string | undefined
    const first = yield* Effect.makeLatch(false)
    let firstOutcome: { readonly version: number } | { readonly error: ConfigError } | undefined

    const complete = () => options.sources.every((s) => latest.has(s.name))

    const mergedWith = (adminLayer: Record<EntityKind, Record<string, unknown>>): Merged | undefined => {
      if (!complete()) return undefined
      const snapshots = options.sources.map((source) => latest.get(source.name)!)
      const base = snapshots.find((s) => s.document !== undefined) ?? snapshots[0]!
      const layers: Array<Layer> = []
      const problems: Array<ConfigProblem> = []
      for (const snapshot of snapshots) {
        if (snapshot === base) continue
        layers.push({ origin: snapshot.source.endsWith("/") ? snapshot.source : `${snapshot.source}/`, entities: snapshot.entities })
        problems.push(...snapshot.problems)
      }
      layers.push({ origin: "admin:", entities: adminLayer })
      const merged = merge(base, layers, options.env)
      return { ...merged, problems: [...merged.problems, ...problems] }
    }

    const settleFirst = (outcome: { readonly version: number } | { readonly error: ConfigError }) =>
      Effect.suspend(() => {
        if (firstOutcome !== undefined) return Effect.void
        firstOutcome = outcome
        return first.open
      })

    /** Counts and publishes a rejection (every rejected change, from a source or the admin API). */
    const announceRejected = (error: ConfigError, sources: ReadonlyArray<string>) =>
      Effect.suspend(() => {
        metrics.configReload("rejected")
        return events.publish({ type: "config.rejected", time: now(), sources, errors: error.problems })
      })

    const reject = (error: ConfigError, sources: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        yield* announceRejected(error, sources)
        yield* Effect.logError("configuration rejected; the last good configuration keeps serving").pipe(
          Effect.annotateLogs({ sources, problems: error.problems })
        )
        yield* settleFirst({ error })
      })

    /** Decodes and applies `merged`; fails with the problems when it is invalid. */
    const attempt = (merged: Merged, sources: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const decoded = yield* Load.decodeAfter(merged.raw, merged.origin, merged.problems)
        const applied = yield* Effect.either(options.apply(decoded))
        if (applied._tag === "Left") {
          const cause = applied.left
          return yield* Effect.fail(cause instanceof ConfigError ? cause : new ConfigError({
            problems: [{ file: merged.origin([]), path: "", message: cause instanceof Error ? cause.message : String(cause) }]
          }))
        }
        version = applied.right
        lastKey = merged.key
        metrics.configReload("applied")
        yield* events.publish({ type: "config.applied", time: now(), version, sources })
        yield* Effect.logInfo("configuration applied").pipe(Effect.annotateLogs({ version, sources }))
        yield* settleFirst({ version })
        return version
      })

    const reconcile = lock.withPermits(1)(Effect.gen(function*() {
      const merged = mergedWith(admin)
      if (merged === undefined) return
      const sources = [...changed]
      changed.clear()
      if (merged.key === lastKey && merged.problems.length === 0) return
      yield* attempt(merged, sources).pipe(
        Effect.tap(() => Effect.void),
        Effect.catchAll((error) => {
          // the same broken input is reported once, not on every unrelated event
          lastKey = merged.key
          return reject(error, sources)
        })
      )
    }))

    /**
     * Applies `merged` for a caller that waits for the outcome (admin writes, `submit`): the version being
     * served when nothing changed (or not every source has answered yet), the new version, or the
     * problems (counted and published; nothing changes).
     */
    const decide = (merged: Merged | undefined, source: string) =>
      Effect.gen(function*() {
        if (merged === undefined || (merged.key === lastKey && merged.problems.length === 0)) return version
        const result = yield* Effect.either(attempt(merged, [source]))
        if (result._tag === "Left") {
          yield* announceRejected(result.left, [source])
          return yield* Effect.fail(result.left)
        }
        return result.right
      })

    // An admin write that is rejected is not kept; one made before every source has answered is kept
    // and takes part in the first merge.
    const writeAdmin = (next: Record<EntityKind, Record<string, unknown>>, source: string) =>
      lock.withPermits(1)(decide(mergedWith(next), source).pipe(Effect.tap(() => Effect.sync(() => (admin = next)))))

    // A source's snapshot is its latest state whatever the outcome (as when it comes through its stream).
    const submit = (source: string, snapshot: ConfigSnapshot) =>
      lock.withPermits(1)(Effect.suspend(() => {
        latest.set(source, snapshot)
        const merged = mergedWith(admin)
        return decide(merged, snapshot.source).pipe(Effect.tapError(() => Effect.sync(() => (lastKey = merged?.key))))
      }))

    const put = (kind: EntityKind, name: string, raw: unknown) =>
      Effect.gen(function*() {
        const source = `admin:${kind}/${name}`
        yield* Load.decodeEntity(kind, name, raw, source).pipe(Effect.tapError((error) => announceRejected(error, [source])))
        const next = { ...admin, [kind]: { ...admin[kind], [name]: raw } }
        return yield* writeAdmin(next, `admin:${kind}/${name}`)
      })

    const remove = (kind: EntityKind, name: string) =>
      Effect.suspend(() => {
        if (!(name in admin[kind])) return Effect.succeed(undefined)
        const entities = { ...admin[kind] }
        delete entities[name]
        return writeAdmin({ ...admin, [kind]: entities }, `admin:${kind}/${name}`)
      })

    // A change is a signal; the merge reads the latest snapshot of every source. After a signal the loop
    // waits `debounce` to take in the rest of a burst, so a steady flood of changes cannot starve it.
    const signals = yield* Queue.sliding<void>(1)
    // A source's stream is not supposed to end or die; if one does (a bug in an adapter), it is logged
    // and resubscribed (a full re-read), and the other sources are not affected. Each source is followed
    // by its own fiber (not one merged stream): every stream layer is work per snapshot.
    const follow = (source: ConfigSource) =>
      source.snapshots.pipe(
        Stream.runForEach((snapshot) =>
          Effect.suspend(() => {
            latest.set(source.name, snapshot)
            changed.add(snapshot.source)
            return Queue.offer(signals, undefined)
          })
        ),
        Effect.catchAllCause((cause) =>
          Effect.logError("configuration source failed; resubscribing").pipe(
            Effect.annotateLogs({ source: source.name, cause: Cause.pretty(cause) })
          )
        ),
        Effect.zipRight(Effect.sleep("1 second")),
        Effect.forever
      )
    yield* Effect.forEach(options.sources, (source) => Effect.forkScoped(follow(source)), { discard: true })
    yield* Queue.take(signals).pipe(
      Effect.zipRight(Effect.sleep(options.debounce ?? 10)),
      Effect.zipRight(reconcile),
      // a defect in one round (a bug) must not stop the plane from following later changes
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.logError("configuration round failed").pipe(Effect.annotateLogs({ cause: Cause.pretty(cause) }))
      ),
      Effect.forever,
      Effect.forkScoped
    )

    return {
      version: () => version,
      submit,
      put,
      remove,
      first: first.await.pipe(
        Effect.flatMap(() =>
          firstOutcome !== undefined && "version" in firstOutcome ? Effect.succeed(firstOutcome.version) : Effect.fail(
            firstOutcome !== undefined && "error" in firstOutcome ? firstOutcome.error : new ConfigError({ problems: [] })
          )
        )
      )
    } satisfies ConfigPlane
  })
