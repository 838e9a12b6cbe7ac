import { assert, describe, it } from "@effect/vitest"
import ConsulClient from "consul"
import { Effect } from "effect"
import * as ConsulConfigSource from "../../../adapters/consul/ConsulConfigSource.js"
import { captureLogs, configSourceContract, eventually, record } from "../../streams/ConfigSource.contract.js"
import * as ConsulEmulator from "../../support/consulEmulator.js"
import { Consul } from "../../support/consulEmulator.js"

const fast: ConsulConfigSource.Options = {
  backoff: { initial: "20 millis", max: "200 millis" },
  minInterval: "50 millis",
  requestTimeout: "2 seconds"
}

const sourceFor = (address: string, prefix: string, token: string | null = null) =>
  ConsulConfigSource.make({ address, prefix, token, wait: "1s" }, fast)

const route = (pool: string) => JSON.stringify({ backends: [{ pool }] })

configSourceContract<Consul>("ConsulConfigSource", {
  layer: Consul.layer(),
  kind: "consul",
  prefix: (id) => `switchyard-test/${id}/`,
  source: (prefix) => Effect.flatMap(Consul, (consul) => sourceFor(consul.address, prefix)),
  // straight into the emulator's store: works while its HTTP server is down (a partition, as seen by the source)
  put: (key, value) => Effect.flatMap(Consul, (consul) => consul.put(key, value)),
  remove: (key) => Effect.flatMap(Consul, (consul) => consul.remove(key)),
  stopServer: Effect.flatMap(Consul, (consul) => consul.stop),
  startServer: Effect.flatMap(Consul, (consul) => consul.start),
  disconnect: Effect.flatMap(Consul, (consul) => consul.stop),
  reconnect: Effect.flatMap(Consul, (consul) => consul.start)
})

describe("ConsulConfigSource against Consul's failure modes", () => {
  it.scopedLive("restarts its blocking loop from index 0 when X-Consul-Index goes backwards (snapshot restore)", () =>
    Effect.gen(function*() {
      const logs = yield* captureLogs
      const consul = yield* ConsulEmulator.make()
      const prefix = "switchyard/"
      for (let i = 0; i < 5; i++) yield* consul.put(`${prefix}routes/a`, route(`a${i}`))
      const recorder = yield* record(yield* sourceFor(consul.address, prefix)).pipe(Effect.provide(logs.layer))
      const before = yield* recorder.awaitSnapshot("routes.a", (s) => "a" in s.entities.routes)
      assert.strictEqual(before.revision, String(yield* consul.index))
      yield* consul.resetIndex(1)
      yield* consul.clearRequests
      yield* consul.put(`${prefix}routes/b`, route("b"))
      // the source's blocking query (index 6) only returns after its wait (1 s), with index 2
      const after = yield* recorder.awaitSnapshot("routes.b", (s) => "b" in s.entities.routes, "5 seconds")
      assert.strictEqual(after.revision, "2")
      const requests = yield* eventually("the query after the reset", consul.requests, (rs) => rs.length >= 2)
      assert.deepStrictEqual(requests.slice(0, 2).map((r) => r.query["index"]), [before.revision, "0"])
      const reset = (yield* logs.entries).find((e) => e.annotations["switchyard.consul.index"] === "2")
      assert.strictEqual(reset?.annotations["switchyard.consul.index.previous"], before.revision)
    }))

  it.scopedLive("treats a zero or invalid X-Consul-Index as 0 and rate-limits the loop it causes", () =>
    Effect.gen(function*() {
      const logs = yield* captureLogs
      const consul = yield* ConsulEmulator.make()
      yield* consul.forceIndexHeader("0")
      const recorder = yield* record(
        yield* ConsulConfigSource.make({ address: consul.address, prefix: "switchyard/", token: null, wait: "1s" }, {
          ...fast,
          minInterval: "100 millis"
        })
      ).pipe(Effect.provide(logs.layer))
      const first = yield* recorder.awaitSnapshot("a first snapshot", () => true)
      assert.strictEqual(first.revision, "0")
      yield* consul.forceIndexHeader("not-a-number")
      yield* consul.clearRequests
      yield* Effect.sleep("1 second")
      const requests = yield* consul.requests
      // non-blocking queries, but at most one per 100 ms
      assert.isAtLeast(requests.length, 5)
      assert.isAtMost(requests.length, 11)
      assert.isTrue(requests.every((r) => r.query["index"] === "0"))
      yield* consul.put("switchyard/routes/api", route("api"))
      const next = yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
      assert.strictEqual(next.revision, "0")
      // no snapshot for the identical answers in between
      assert.strictEqual((yield* recorder.snapshots).length, 2)
    }))

  it.scopedLive("sends its ACL token in X-Consul-Token; without it, it retries and emits nothing", () =>
    Effect.gen(function*() {
      const logs = yield* captureLogs
      const consul = yield* ConsulEmulator.make({ acl: { token: "s3cret" } })
      yield* consul.put("switchyard/routes/api", route("api"))
      const anonymous = yield* record(yield* sourceFor(consul.address, "switchyard/")).pipe(Effect.provide(logs.layer))
      yield* Effect.sleep("800 millis")
      assert.deepStrictEqual(yield* anonymous.snapshots, [])
      yield* anonymous.assertRunning
      const refused = yield* consul.requests
      assert.isAtLeast(refused.length, 2, "it retried")
      assert.isTrue(refused.every((r) => r.status === 403 && r.token === null))
      const warnings = (yield* logs.entries).filter((e) => e.level === "WARN")
      assert.isTrue(warnings.length >= 2 && warnings.every((e) => e.annotations["error.type"] === "Unauthorized"))
      assert.strictEqual(warnings[0]?.annotations["http.response.status_code"], 403)

      yield* consul.clearRequests
      const authorized = yield* record(yield* sourceFor(consul.address, "switchyard/", "s3cret"))
      const snapshot = yield* authorized.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
      assert.deepStrictEqual(snapshot.problems, [])
      const sent = (yield* consul.requests).filter((r) => r.status !== 403)
      assert.isTrue(sent.length > 0 && sent.every((r) => r.token === "s3cret" && r.tokenFrom === "header"))
    }))

  it.scopedLive("reports keys hidden by ACLs as a problem rather than as deletions", () =>
    Effect.gen(function*() {
      const consul = yield* ConsulEmulator.make({ acl: { token: "s3cret", anonymous: "filter" } })
      yield* consul.put("switchyard/routes/api", route("api"))
      const recorder = yield* record(yield* sourceFor(consul.address, "switchyard/"))
      const snapshot = yield* recorder.awaitSnapshot("a snapshot", () => true)
      assert.deepStrictEqual(snapshot.entities.routes, {})
      assert.strictEqual(snapshot.problems.length, 1)
      assert.strictEqual(snapshot.problems[0]?.file, "consul:switchyard/")
      assert.match(snapshot.problems[0]?.message ?? "", /X-Consul-Results-Filtered-By-ACLs/)
    }))

  it.scopedLive("retries 500 \"No cluster leader\" with a backoff, then delivers the state", () =>
    Effect.gen(function*() {
      const logs = yield* captureLogs
      const consul = yield* ConsulEmulator.make()
      yield* consul.put("switchyard/routes/api", route("api"))
      yield* consul.failNext(3, 500, "No cluster leader")
      const recorder = yield* record(yield* sourceFor(consul.address, "switchyard/")).pipe(Effect.provide(logs.layer))
      const snapshot = yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
      assert.deepStrictEqual(Object.keys(snapshot.entities.routes), ["api"])
      assert.strictEqual((yield* recorder.snapshots).length, 1)
      const statuses = (yield* consul.requests).map((r) => r.status)
      assert.deepStrictEqual(statuses.slice(0, 4), [500, 500, 500, 200])
      const warnings = (yield* logs.entries).filter((e) => e.level === "WARN")
      assert.deepStrictEqual(
        warnings.map((e) => [e.annotations["error.type"], e.annotations["http.response.status_code"]]),
        Array.from({ length: 3 }, () => ["Unreachable", 500])
      )
      assert.isTrue(warnings.every((e) => /No cluster leader/.test(String(e.annotations["exception.message"]))))
      assert.deepStrictEqual(warnings.map((e) => e.annotations["switchyard.config.failures"]), [1, 2, 3])
    }))

  it.scopedLive("emits nothing for blocking queries that time out without a change", () =>
    Effect.gen(function*() {
      const consul = yield* ConsulEmulator.make()
      yield* consul.put("switchyard/routes/api", route("api"))
      const recorder = yield* record(
        yield* ConsulConfigSource.make({ address: consul.address, prefix: "switchyard", token: null, wait: "100ms" }, fast)
      )
      const first = yield* recorder.awaitSnapshot("routes.api", (s) => "api" in s.entities.routes)
      assert.strictEqual(first.source, "consul:switchyard/")
      yield* Effect.sleep("600 millis")
      assert.isAtLeast((yield* consul.requests).filter((r) => r.query["index"] === first.revision).length, 3)
      assert.strictEqual((yield* recorder.snapshots).length, 1)
    }))
})

describe("consul emulator", () => {
  const client = (address: string) => {
    const url = new URL(address)
    return new ConsulClient({ host: url.hostname, port: Number(url.port) })
  }

  it.scopedLive("speaks the KV API as the consul client expects: PUT, GET ?recurse, DELETE ?recurse, 404", () =>
    Effect.gen(function*() {
      const consul = yield* ConsulEmulator.make()
      const kv = client(consul.address).kv
      assert.isTrue(yield* Effect.promise(() => kv.set("app/routes/api", "{\"a\": 1}")))
      assert.isTrue(yield* Effect.promise(() => kv.set("app/pools/p", "servers: []")))
      const listed = yield* Effect.promise(() => kv.get({ key: "app/", recurse: true }))
      assert.deepStrictEqual(
        (listed as ReadonlyArray<{ Key: string; Value: string }>).map((e) => [e.Key, e.Value]),
        [["app/pools/p", "servers: []"], ["app/routes/api", "{\"a\": 1}"]]
      )
      const raw = yield* Effect.promise(() => fetch(`${consul.address}/v1/kv/app/routes/api`))
      const [entry] = (yield* Effect.promise(() => raw.json())) as Array<Record<string, unknown>>
      assert.deepStrictEqual(Object.keys(entry ?? {}).sort(), ["CreateIndex", "Flags", "Key", "LockIndex", "ModifyIndex", "Value"])
      assert.strictEqual(entry?.["Value"], Buffer.from("{\"a\": 1}").toString("base64"))
      assert.strictEqual(raw.headers.get("x-consul-index"), String(entry?.["ModifyIndex"]))
      assert.isTrue(yield* Effect.promise(() => kv.del({ key: "app/", recurse: true })))
      const missing = yield* Effect.promise(() => fetch(`${consul.address}/v1/kv/app/?recurse=true`))
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.headers.get("x-consul-index"), "4")
    }))

  it.scopedLive("blocks a query with ?index until something under the key changes, or until ?wait", () =>
    Effect.gen(function*() {
      const consul = yield* ConsulEmulator.make()
      yield* consul.put("app/routes/api", "{}")
      const index = yield* consul.index
      const started = Date.now()
      const timedOut = yield* Effect.promise(() => fetch(`${consul.address}/v1/kv/app/?recurse&index=${index}&wait=200ms`))
      const waited = Date.now() - started
      assert.strictEqual(timedOut.headers.get("x-consul-index"), String(index))
      assert.isTrue(waited >= 195 && waited < 1_500, `waited ${waited} ms`)
      const blocked = yield* Effect.promise(() => fetch(`${consul.address}/v1/kv/app/?recurse&index=${index}&wait=10s`)).pipe(
        Effect.fork
      )
      yield* Effect.sleep("100 millis")
      yield* consul.put("other/key", "x")
      yield* Effect.sleep("100 millis")
      yield* consul.put("app/routes/api", "{\"b\": 2}")
      const answered = yield* Effect.fromFiber(blocked)
      assert.strictEqual(answered.headers.get("x-consul-index"), String(index + 2))
      assert.isBelow(Date.now() - started, 2_000)
    }))
})
