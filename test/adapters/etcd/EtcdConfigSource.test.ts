import { assert, layer } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { Range } from "etcd3"
import * as EtcdConfigSource from "../../../adapters/etcd/EtcdConfigSource.js"
import { captureLogs, configSourceContract, quietLogs, record } from "../../streams/ConfigSource.contract.js"
import * as EtcdSupport from "../../support/etcd.js"
import { Etcd } from "../../support/etcd.js"
import { reservePorts } from "../../support/ports.js"

const fast: EtcdConfigSource.Options = { backoff: { initial: "20 millis", max: "200 millis" }, requestTimeout: "2 seconds" }

const sourceOver = (prefix: string, credentials: { username: string | null; password: string | null } = { username: null, password: null }) =>
  Effect.flatMap(Etcd, (etcd) => EtcdConfigSource.make({ endpoints: [etcd.endpoint], prefix, ...credentials }, fast))

const route = (pool: string) => JSON.stringify({ backends: [{ pool }] })

configSourceContract<Etcd>("EtcdConfigSource", {
  layer: Etcd.layer(),
  kind: "etcd",
  prefix: (id) => `/switchyard-test/${id}/`,
  source: (prefix) => sourceOver(prefix),
  put: (key, value) => Effect.flatMap(Etcd, (etcd) => etcd.put(key, value)),
  remove: (key) => Effect.flatMap(Etcd, (etcd) => etcd.remove(key)),
  stopServer: Effect.flatMap(Etcd, (etcd) => etcd.stop),
  startServer: Effect.flatMap(Etcd, (etcd) => etcd.start),
  disconnect: Effect.flatMap(Etcd, (etcd) => etcd.partition),
  reconnect: Effect.flatMap(Etcd, (etcd) => etcd.heal),
  extraTests: (it) => {
    it.scoped("re-reads at the head when the store was compacted past the revision it would watch from", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const logs = yield* captureLogs
        const prefix = "/switchyard-test/compaction/"
        yield* etcd.put(`${prefix}routes/old`, route("old"))
        const chunks = yield* Effect.gen(function*() {
          const source = yield* sourceOver(prefix)
          // pull-driven: after the first snapshot the consumer pauses, so no watch is open yet
          const pull = yield* Stream.toPull(source.snapshots)
          const first = yield* pull
          yield* etcd.put(`${prefix}routes/new`, route("new"))
          yield* etcd.remove(`${prefix}routes/old`)
          const compacted = yield* etcd.compact
          const next = yield* pull.pipe(Effect.timeout("10 seconds"))
          return { first: Chunk.toReadonlyArray(first), next: Chunk.toReadonlyArray(next), compacted }
        }).pipe(Effect.provide(logs.layer), Effect.orDie)
        assert.deepStrictEqual(chunks.first.map((s) => Object.keys(s.entities.routes)), [["old"]])
        const latest = chunks.next[chunks.next.length - 1]!
        assert.deepStrictEqual(Object.keys(latest.entities.routes), ["new"])
        assert.isAtLeast(Number(latest.revision), Number(chunks.compacted))
        const warnings = (yield* logs.entries).filter((e) => e.level === "WARN")
        assert.deepStrictEqual(warnings.map((e) => e.annotations["error.type"]), ["Compacted"])
        assert.strictEqual(warnings[0]?.annotations["switchyard.config.source"], `etcd:${prefix}`)
      }))

    it.scoped("skips re-reads that find the same revision and content (a reconnection to an unchanged store)", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const prefix = "/switchyard-test/unchanged/"
        yield* etcd.put(`${prefix}routes/api`, route("api"))
        const recorder = yield* record(yield* sourceOver(prefix))
        yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
        yield* etcd.partition
        yield* Effect.sleep("300 millis")
        yield* etcd.heal
        // a write elsewhere proves the source is watching again before we count
        yield* etcd.put(`${prefix}routes/probe`, route("probe"))
        yield* recorder.awaitSnapshot("routes.probe", (s) => "probe" in s.entities.routes)
        const emitted = yield* recorder.snapshots
        assert.deepStrictEqual(emitted.map((s) => Object.keys(s.entities.routes).sort()), [["api"], ["api", "probe"]])
      }))

    it.scoped("applies the watch's events in order, several in one revision, to the state it read", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const prefix = "/switchyard-test/events/"
        yield* etcd.put(`${prefix}routes/a`, route("a"))
        yield* etcd.put(`${prefix}routes/b`, route("b"))
        const recorder = yield* record(yield* sourceOver(prefix))
        yield* recorder.awaitSnapshot("routes a and b", (s) => "a" in s.entities.routes && "b" in s.entities.routes)
        // one transaction: three events with the same revision, in one watch response
        yield* etcd.withClient((client) =>
          client.if(`${prefix}routes/a`, "Create", ">", 0)
            .then(
              client.delete().key(`${prefix}routes/a`),
              client.put(`${prefix}routes/b`).value(route("b2")),
              client.put(`${prefix}pools/p`).value(JSON.stringify({ servers: [{ url: "http://127.0.0.1:1" }] }))
            )
            .commit()
        )
        // deleted and written again
        yield* etcd.put(`${prefix}routes/c`, route("c"))
        yield* etcd.remove(`${prefix}routes/c`)
        yield* etcd.put(`${prefix}routes/c`, route("c2"))
        const revision = yield* etcd.revision
        const latest = yield* recorder.awaitSnapshot("the last write", (s) => s.revision === revision)
        assert.deepStrictEqual(latest.entities.routes, {
          b: { backends: [{ pool: "b2" }] },
          c: { backends: [{ pool: "c2" }] }
        })
        assert.deepStrictEqual(Object.keys(latest.entities.pools), ["p"])
        // what a new source reads from scratch at the same revision
        const fresh = yield* record(yield* sourceOver(prefix))
        const read = yield* fresh.awaitSnapshot("a full read", () => true)
        assert.strictEqual(read.revision, revision)
        assert.deepStrictEqual(read.entities, latest.entities)
      }))

    it.scoped("ends its stream (and closes its client) when the scope of make closes", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const source = yield* sourceOver("/switchyard-test/closing/").pipe(Scope.extend(scope))
        const first = yield* Deferred.make<void>()
        const fiber = yield* source.snapshots.pipe(
          Stream.runForEach(() => Deferred.succeed(first, undefined)),
          Effect.fork
        )
        yield* Deferred.await(first)
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("5 seconds"))
        assert.isTrue(Exit.isSuccess(exit), "the stream ended")
      }))

    it.scoped("ends its stream at once when the scope closes during a backoff (no server answers)", () =>
      Effect.gen(function*() {
        const [port] = yield* Effect.promise(() => reservePorts(1))
        const logs = yield* captureLogs
        const scope = yield* Scope.make()
        const source = yield* EtcdConfigSource.make(
          { endpoints: [`http://127.0.0.1:${port}`], prefix: "/switchyard-test/nowhere/", username: null, password: null },
          { backoff: { initial: "20 seconds", max: "20 seconds" }, requestTimeout: "500 millis" }
        ).pipe(Scope.extend(scope))
        const fiber = yield* source.snapshots.pipe(Stream.runDrain, Effect.provide(logs.layer), Effect.fork)
        // the first read fails (connection refused): the next session waits 16–24 s
        for (let i = 0; i < 100 && (yield* logs.entries).every((e) => e.level !== "WARN"); i++) yield* Effect.sleep("50 millis")
        assert.isTrue((yield* logs.entries).some((e) => e.level === "WARN"), "the first session failed")
        const started = Date.now()
        yield* Scope.close(scope, Exit.void)
        const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("3 seconds"))
        assert.isTrue(Exit.isSuccess(exit), "the stream ended")
        assert.isBelow(Date.now() - started, 2000)
      }))
  }
})

const rootPassword = "root-secret"

layer(Layer.merge(Etcd.layer({ auth: { rootPassword } }), quietLogs), { excludeTestServices: true, timeout: "60 seconds" })(
  "EtcdConfigSource with authentication",
  (it) => {
    const addReader = (user: string, password: string, prefix: string) =>
      Effect.flatMap(Etcd, (etcd) =>
        etcd.withClient(async (client) => {
          await client.role(`${user}-role`).create()
          await client.role(`${user}-role`).grant({ permission: "Read", range: Range.prefix(prefix) })
          await client.user(user).create(password)
          await client.user(user).addRole(`${user}-role`)
        }))

    it.scoped("keeps retrying with a wrong password, emitting nothing, and recovers once the password is right", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const logs = yield* captureLogs
        const prefix = "/switchyard-auth/wrong/"
        yield* addReader("wrong", "actual-password", prefix)
        yield* etcd.put(`${prefix}routes/api`, route("api"))
        const recorder = yield* record(yield* sourceOver(prefix, { username: "wrong", password: "configured-password" })).pipe(
          Effect.provide(logs.layer)
        )
        yield* Effect.sleep("800 millis")
        assert.deepStrictEqual(yield* recorder.snapshots, [])
        yield* recorder.assertRunning
        const warnings = (yield* logs.entries).filter((e) => e.level === "WARN")
        assert.isAtLeast(warnings.length, 2, "it retried")
        assert.isTrue(warnings.every((e) => e.annotations["error.type"] === "Unauthorized"))
        yield* etcd.withClient((client) => client.user("wrong").setPassword("configured-password"))
        const snapshot = yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
        assert.deepStrictEqual(Object.keys(snapshot.entities.routes), ["api"])
      }))

    it.scoped("keeps working when its token is invalidated while it watches (auth disabled and re-enabled)", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const prefix = "/switchyard-auth/cycle-live/"
        yield* addReader("live", "pw", prefix)
        const recorder = yield* record(yield* sourceOver(prefix, { username: "live", password: "pw" }))
        yield* recorder.awaitSnapshot("a first snapshot", () => true)
        // a reflected write proves the watch is open before the tokens die
        yield* etcd.put(`${prefix}routes/probe`, route("probe"))
        yield* recorder.awaitSnapshot("routes.probe", (s) => "probe" in s.entities.routes)
        yield* etcd.cycleAuth
        yield* etcd.put(`${prefix}routes/api`, route("api"))
        yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
        yield* etcd.put(`${prefix}routes/later`, route("later"))
        yield* recorder.awaitSnapshot("routes.later", (s) => "later" in s.entities.routes)
        yield* recorder.assertRunning
      }))

    it.scoped("authenticates again when its token died between its read and its watch", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const logs = yield* captureLogs
        const prefix = "/switchyard-auth/cycle-gap/"
        yield* addReader("gap", "pw", prefix)
        const chunks = yield* Effect.gen(function*() {
          const source = yield* sourceOver(prefix, { username: "gap", password: "pw" })
          const pull = yield* Stream.toPull(source.snapshots)
          const first = yield* pull
          // the read authenticated; the watch (opened on the next pull) would reuse the dead token
          yield* etcd.cycleAuth
          yield* etcd.put(`${prefix}routes/api`, route("api"))
          const next = yield* pull.pipe(Effect.timeout("10 seconds"))
          return [...Chunk.toReadonlyArray(first), ...Chunk.toReadonlyArray(next)]
        }).pipe(Effect.provide(logs.layer), Effect.orDie)
        assert.deepStrictEqual(chunks.map((s) => Object.keys(s.entities.routes)), [[], ["api"]])
        // etcd refused the watch ("invalid auth token"); the next session authenticated again
        const warnings = (yield* logs.entries).filter((e) => e.level === "WARN")
        assert.deepStrictEqual(warnings.map((e) => e.annotations["error.type"]), ["Unauthorized"])
        assert.match(String(warnings[0]?.annotations["exception.message"]), /invalid auth token/)
      }))

    it.scoped("re-authenticates once its token expired (--auth-token-ttl)", () =>
      Effect.gen(function*() {
        // its own etcd: the TTL is a server flag
        const etcd = yield* EtcdSupport.make({ auth: { rootPassword }, authTokenTtlSeconds: 1 })
        const prefix = "/switchyard-auth/ttl/"
        const recorder = yield* record(
          yield* EtcdConfigSource.make({ endpoints: [etcd.endpoint], prefix, username: "root", password: rootPassword }, fast)
        )
        yield* recorder.awaitSnapshot("a first snapshot", () => true)
        // simple tokens expire after the TTL without use
        yield* Effect.sleep("1500 millis")
        yield* etcd.put(`${prefix}routes/api`, route("api"))
        yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
        yield* recorder.assertRunning
      }))

    it.scoped("re-authenticates after etcd restarts (simple tokens do not survive a restart)", () =>
      Effect.gen(function*() {
        const etcd = yield* Etcd
        const prefix = "/switchyard-auth/restart/"
        yield* addReader("restart", "pw", prefix)
        const recorder = yield* record(yield* sourceOver(prefix, { username: "restart", password: "pw" }))
        yield* recorder.awaitSnapshot("a first snapshot", () => true)
        yield* etcd.stop
        yield* etcd.start
        yield* etcd.put(`${prefix}routes/api`, route("api"))
        const latest = yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes, "15 seconds")
        assert.deepStrictEqual(latest.problems, [])
      }))
  }
)
