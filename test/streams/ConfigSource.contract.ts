/**
 * The contract every KV `ConfigSource` keeps (CONTRACT §3, streams/ConfigSource.ts), written once and
 * run against each adapter with a harness for its store (real etcd, the Consul emulator).
 *
 * Real time throughout (`excludeTestServices`): the stores are real servers. Waits are bounded and
 * event-driven: the latest snapshot lives in a `SubscriptionRef` fed by the stream, and a test waits
 * for the snapshot it expects with a deadline. The only fixed waits are short observation windows
 * that check that *nothing* happens (no snapshot while the store is unreachable).
 */
import { assert, layer, type Vitest } from "@effect/vitest"
import { Duration, Effect, Fiber, HashMap, Layer, Logger, Option, Ref, type Scope, Stream, SubscriptionRef } from "effect"
import type { ConfigSnapshot, ConfigSource } from "../../streams/ConfigSource.js"

export interface ContractHarness<R> {
  /** The store (built once for the suite). */
  readonly layer: Layer.Layer<R, unknown>
  /** `etcd` or `consul`: a problem's `file` is `<kind>:<key>`. */
  readonly kind: string
  /** A prefix of the store's style, unique to `id` (tests share the store). */
  readonly prefix: (id: string) => string
  /** A source over `prefix`, with small backoffs so the suite stays fast. */
  readonly source: (prefix: string) => Effect.Effect<ConfigSource, never, R | Scope.Scope>
  readonly put: (key: string, value: string) => Effect.Effect<void, never, R>
  readonly remove: (key: string) => Effect.Effect<void, never, R>
  /** The store stops serving (process or server down); `put`/`remove` need not work meanwhile. */
  readonly stopServer: Effect.Effect<void, never, R>
  readonly startServer: Effect.Effect<void, never, R>
  /** The source can no longer reach the store, while `put`/`remove` keep working. */
  readonly disconnect: Effect.Effect<void, never, R>
  readonly reconnect: Effect.Effect<void, never, R>
  /** Adapter-specific tests sharing the suite's store. */
  readonly extraTests?: (it: Vitest.MethodsNonLive<R, true>) => void
}

/** What a test observes of a running source. */
export interface Recorder {
  /** Every snapshot emitted so far, in order. */
  readonly snapshots: Effect.Effect<ReadonlyArray<ConfigSnapshot>>
  /** Waits (at most `timeout`, default 10 s) for a snapshot satisfying `predicate`, latest first. */
  readonly awaitSnapshot: (
    description: string,
    predicate: (snapshot: ConfigSnapshot) => boolean,
    timeout?: Duration.DurationInput
  ) => Effect.Effect<ConfigSnapshot>
  /** Fails the test if the stream ended or failed. */
  readonly assertRunning: Effect.Effect<void>
}

/** Runs `source.snapshots` in the background (scoped) and records what it emits. */
export const record = (source: ConfigSource): Effect.Effect<Recorder, never, Scope.Scope> =>
  Effect.gen(function*() {
    const latest = yield* SubscriptionRef.make<Option.Option<ConfigSnapshot>>(Option.none())
    const all = yield* Ref.make<ReadonlyArray<ConfigSnapshot>>([])
    const fiber = yield* source.snapshots.pipe(
      Stream.runForEach((snapshot) =>
        Ref.update(all, (xs) => [...xs, snapshot]).pipe(Effect.zipRight(SubscriptionRef.set(latest, Option.some(snapshot))))
      ),
      Effect.forkScoped
    )
    return {
      snapshots: Ref.get(all),
      awaitSnapshot: (description, predicate, timeout = "10 seconds") =>
        latest.changes.pipe(
          Stream.filterMap(Option.filter(predicate)),
          Stream.runHead,
          Effect.map(Option.getOrThrow),
          Effect.timeoutOption(timeout),
          Effect.flatMap(Option.match({
            onSome: Effect.succeed,
            onNone: () =>
              Effect.flatMap(SubscriptionRef.get(latest), (last) =>
                Effect.dieMessage(
                  `timed out after ${Duration.format(timeout)} waiting for ${description}; last snapshot: ${
                    JSON.stringify(Option.getOrNull(last))
                  }`
                ))
          }))
        ),
      assertRunning: Effect.flatMap(Fiber.poll(fiber), (exit) =>
        Effect.sync(() => assert.isTrue(Option.isNone(exit), `the snapshot stream stopped: ${JSON.stringify(exit)}`)))
    }
  })

/** Re-runs `effect` (every 20 ms, at most `timeout`) until `predicate` holds for its result. */
export const eventually = <A>(
  description: string,
  effect: Effect.Effect<A>,
  predicate: (a: A) => boolean,
  timeout: Duration.DurationInput = "5 seconds"
): Effect.Effect<A> => {
  const attempt: Effect.Effect<A> = Effect.flatMap(effect, (a) =>
    predicate(a) ? Effect.succeed(a) : Effect.zipRight(Effect.sleep("20 millis"), Effect.suspend(() => attempt)))
  return attempt.pipe(
    Effect.timeoutOption(timeout),
    Effect.flatMap(Option.match({
      onSome: Effect.succeed,
      onNone: () =>
        Effect.flatMap(effect, (last) =>
          Effect.dieMessage(`timed out after ${Duration.format(timeout)} waiting for ${description}; last: ${JSON.stringify(last)}`))
    }))
  )
}

export interface LogEntry {
  readonly level: string
  readonly message: unknown
  readonly annotations: Readonly<Record<string, unknown>>
}

/**
 * A logger that records entries instead of printing them. Provide `layer` around the effect that
 * builds and runs the source (forked fibers inherit it).
 */
export const captureLogs = Effect.sync(() => {
  const entries: Array<LogEntry> = []
  const logger = Logger.make<unknown, void>(({ annotations, logLevel, message }) => {
    entries.push({
      level: logLevel.label,
      message: Array.isArray(message) && message.length === 1 ? message[0] : message,
      annotations: Object.fromEntries(HashMap.toEntries(annotations))
    })
  })
  return {
    layer: Logger.replace(Logger.defaultLogger, logger),
    entries: Effect.sync((): ReadonlyArray<LogEntry> => [...entries])
  }
})

/** Logs are silenced in the suites; tests that check them capture them. */
export const quietLogs = Logger.replace(Logger.defaultLogger, Logger.none)

const route = (pool: string, extra: Record<string, unknown> = {}) => ({ backends: [{ pool }], ...extra })

const isEmpty = (snapshot: ConfigSnapshot) =>
  Object.keys(snapshot.entities.routes).length === 0 && Object.keys(snapshot.entities.pools).length === 0 &&
  Object.keys(snapshot.entities.middlewares).length === 0 && snapshot.problems.length === 0

/** A short window in which the store is unreachable and nothing may be emitted. */
const quietWindow = "800 millis"

/** Registers the contract tests for one adapter. */
export const configSourceContract = <R>(name: string, harness: ContractHarness<R>): void =>
  layer(Layer.merge(harness.layer, quietLogs), { excludeTestServices: true, timeout: "60 seconds" })(name, (it) => {
    const start = (id: string) =>
      Effect.gen(function*() {
        const prefix = harness.prefix(id)
        const source = yield* harness.source(prefix)
        const recorder = yield* record(source)
        return { prefix, source, recorder }
      })

    it.scoped("emits an empty first snapshot for an empty prefix", () =>
      Effect.gen(function*() {
        const { recorder, source } = yield* start("empty")
        const first = yield* recorder.awaitSnapshot("a first snapshot", () => true)
        assert.strictEqual(first.source, source.name)
        assert.notStrictEqual(first.revision, "")
        assert.deepStrictEqual(first.entities, { routes: {}, pools: {}, middlewares: {} })
        assert.deepStrictEqual(first.problems, [])
        yield* recorder.assertRunning
      }))

    it.scoped("emits a snapshot with a route put after the first snapshot", () =>
      Effect.gen(function*() {
        const { prefix, recorder } = yield* start("put")
        const first = yield* recorder.awaitSnapshot("a first snapshot", () => true)
        yield* harness.put(`${prefix}routes/api`, JSON.stringify(route("api-v1")))
        const next = yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
        assert.deepStrictEqual(next.entities, { routes: { api: route("api-v1") }, pools: {}, middlewares: {} })
        assert.deepStrictEqual(next.problems, [])
        assert.notStrictEqual(next.revision, first.revision)
      }))

    it.scoped("reflects an update of an entity, JSON then YAML", () =>
      Effect.gen(function*() {
        const prefix = harness.prefix("update")
        yield* harness.put(`${prefix}pools/api-v1`, JSON.stringify({ servers: [{ url: "http://127.0.0.1:9001" }] }))
        const recorder = yield* record(yield* harness.source(prefix))
        yield* recorder.awaitSnapshot("the first version", (s) => "api-v1" in s.entities.pools)
        yield* harness.put(`${prefix}pools/api-v1`, "servers:\n  - url: http://127.0.0.1:9002\n")
        const next = yield* recorder.awaitSnapshot(
          "the second version",
          (s) => JSON.stringify(s.entities.pools["api-v1"]).includes("9002")
        )
        assert.deepStrictEqual(next.entities.pools, { "api-v1": { servers: [{ url: "http://127.0.0.1:9002" }] } })
      }))

    it.scoped("reflects the deletion of an entity, keeping the others", () =>
      Effect.gen(function*() {
        const prefix = harness.prefix("delete")
        yield* harness.put(`${prefix}routes/api`, JSON.stringify(route("api-v1")))
        yield* harness.put(`${prefix}pools/api-v1`, JSON.stringify({ servers: [{ url: "http://127.0.0.1:9001" }] }))
        const recorder = yield* record(yield* harness.source(prefix))
        yield* recorder.awaitSnapshot("both entities", (s) => "api" in s.entities.routes && "api-v1" in s.entities.pools)
        yield* harness.remove(`${prefix}routes/api`)
        const next = yield* recorder.awaitSnapshot("routes.api gone", (s) => !("api" in s.entities.routes))
        assert.deepStrictEqual(next.entities, {
          routes: {},
          pools: { "api-v1": { servers: [{ url: "http://127.0.0.1:9001" }] } },
          middlewares: {}
        })
      }))

    it.scoped("reflects the deletion of everything as empty entities", () =>
      Effect.gen(function*() {
        const prefix = harness.prefix("wipe")
        const keys = [`${prefix}routes/api`, `${prefix}pools/api-v1`, `${prefix}middlewares/hdrs`]
        yield* harness.put(keys[0]!, JSON.stringify(route("api-v1")))
        yield* harness.put(keys[1]!, JSON.stringify({ servers: [] }))
        yield* harness.put(keys[2]!, "type: headers")
        const recorder = yield* record(yield* harness.source(prefix))
        yield* recorder.awaitSnapshot("three entities", (s) => "hdrs" in s.entities.middlewares && "api" in s.entities.routes)
        for (const key of keys) yield* harness.remove(key)
        yield* recorder.awaitSnapshot("empty entities", isEmpty)
      }))

    it.scoped("carries a problem for an invalid value, and clears it once the value is fixed", () =>
      Effect.gen(function*() {
        const { prefix, recorder } = yield* start("invalid")
        yield* recorder.awaitSnapshot("a first snapshot", () => true)
        yield* harness.put(`${prefix}routes/api`, "{backends: [")
        const broken = yield* recorder.awaitSnapshot("a problem", (s) => s.problems.length > 0)
        assert.deepStrictEqual(broken.problems.map((p) => [p.file, p.path]), [[`${harness.kind}:${prefix}routes/api`, "routes.api"]])
        assert.match(broken.problems[0]!.message, /expected a JSON or YAML document of one route, found invalid syntax/)
        assert.deepStrictEqual(broken.entities.routes, {})
        yield* harness.put(`${prefix}routes/api`, JSON.stringify(route("api-v1")))
        const fixed = yield* recorder.awaitSnapshot("the problem cleared", (s) => s.problems.length === 0 && "api" in s.entities.routes)
        assert.deepStrictEqual(fixed.entities.routes, { api: route("api-v1") })
      }))

    it.scoped("reflects the final state after a burst of writes", () =>
      Effect.gen(function*() {
        const { prefix, recorder } = yield* start("burst")
        yield* recorder.awaitSnapshot("a first snapshot", () => true)
        for (let i = 0; i < 30; i++) {
          yield* harness.put(`${prefix}routes/api`, JSON.stringify(route("api-v1", { priority: i })))
          yield* harness.put(`${prefix}pools/p${i % 3}`, JSON.stringify({ servers: [], panicThreshold: i }))
        }
        yield* harness.remove(`${prefix}pools/p0`)
        const last = yield* recorder.awaitSnapshot(
          "the last write",
          (s) => (s.entities.routes["api"] as { priority?: number } | undefined)?.priority === 29 && !("p0" in s.entities.pools)
        )
        assert.deepStrictEqual(last.entities.pools, {
          p1: { servers: [], panicThreshold: 28 },
          p2: { servers: [], panicThreshold: 29 }
        })
        const emitted = yield* recorder.snapshots
        // coalescing: never more snapshots than writes (61) plus the first
        assert.isAtMost(emitted.length, 62)
      }))

    it.scoped("emits nothing while the server is stopped, neither ending nor failing, and resumes after it restarts", () =>
      Effect.gen(function*() {
        const prefix = harness.prefix("outage")
        yield* harness.put(`${prefix}routes/api`, JSON.stringify(route("api-v1")))
        const recorder = yield* record(yield* harness.source(prefix))
        yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
        const before = (yield* recorder.snapshots).length
        yield* harness.stopServer
        yield* Effect.ensuring(
          Effect.gen(function*() {
            yield* Effect.sleep(quietWindow)
            assert.strictEqual((yield* recorder.snapshots).length, before, "no snapshot while the server is down")
            yield* recorder.assertRunning
          }),
          harness.startServer
        )
        yield* harness.put(`${prefix}routes/after`, JSON.stringify(route("api-v2")))
        const after = yield* recorder.awaitSnapshot("routes.after", (s) => "after" in s.entities.routes, "15 seconds")
        assert.deepStrictEqual(Object.keys(after.entities.routes).sort(), ["after", "api"])
        yield* recorder.assertRunning
      }))

    it.scoped("reflects changes made while it was cut off, deletions included, once it reconnects", () =>
      Effect.gen(function*() {
        const prefix = harness.prefix("partition")
        yield* harness.put(`${prefix}routes/a`, JSON.stringify(route("a")))
        yield* harness.put(`${prefix}routes/b`, JSON.stringify(route("b")))
        const recorder = yield* record(yield* harness.source(prefix))
        yield* recorder.awaitSnapshot("routes a and b", (s) => "a" in s.entities.routes && "b" in s.entities.routes)
        const before = (yield* recorder.snapshots).length
        yield* harness.disconnect
        yield* Effect.ensuring(
          Effect.gen(function*() {
            yield* harness.put(`${prefix}routes/a`, JSON.stringify(route("a2")))
            yield* harness.remove(`${prefix}routes/b`)
            yield* harness.put(`${prefix}routes/c`, JSON.stringify(route("c")))
            yield* Effect.sleep(quietWindow)
            assert.strictEqual((yield* recorder.snapshots).length, before, "no snapshot while cut off")
            yield* recorder.assertRunning
          }),
          harness.reconnect
        )
        const after = yield* recorder.awaitSnapshot("the changes made meanwhile", (s) => "c" in s.entities.routes, "15 seconds")
        assert.deepStrictEqual(after.entities.routes, { a: route("a2"), c: route("c") })
      }))

    harness.extraTests?.(it)
  })
