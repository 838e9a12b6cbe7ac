import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub, Queue } from "effect"
import { mkdtempSync, renameSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as FileConfigSource from "../../adapters/file/FileConfigSource.js"
import * as ConfigWatcher from "../../streams/ConfigWatcher.js"
import * as InlineSource from "../../streams/InlineSource.js"
import * as Backends from "../support/backends.js"
import { request } from "../support/client.js"
import { eventually, make as gateway } from "../support/gateway.js"
import * as MemorySource from "../support/memorySource.js"
import { withTestDefaults } from "../support/proxy.js"

const listenerOnly = { listeners: { web: { address: "127.0.0.1:0" } } }

const expectServer = (url: string, server: string) =>
  eventually(Effect.flatMap(request(url), (r) => r.json?.server === server ? Effect.void : Effect.fail(`got ${r.status} ${r.text}`)))

describe("ConfigWatcher.merge", () => {
  it("layers file < env < later sources per entity name, and applies env overrides to the document", () => {
    const base = {
      source: "file:/etc/s.yaml",
      revision: "1",
      entities: { routes: {}, pools: {}, middlewares: {} },
      problems: [],
      document: {
        listeners: { web: { address: "127.0.0.1:0" } },
        routes: { a: { backends: [{ pool: "p" }] }, b: { backends: [{ pool: "p" }] } },
        pools: { p: { servers: [{ url: "http://127.0.0.1:1" }] } }
      }
    }
    const etcd = { origin: "etcd:/s/", entities: { routes: { b: { backends: [{ pool: "q" }] } }, pools: { q: { servers: [] } }, middlewares: {} } }
    const admin = { origin: "admin:", entities: { routes: { b: { backends: [{ pool: "p" }], timeout: "1s" } }, pools: {}, middlewares: {} } }
    const merged = ConfigWatcher.merge(base, [etcd, admin], {
      SWITCHYARD__routes__a__timeout: "5s",
      SWITCHYARD__routes__c__timeout: "2s", // a route only the environment defines
      SWITCHYARD__pools__p__loadBalancer: "random",
      OTHER: "x"
    })
    const routes = merged.raw["routes"] as Record<string, any>
    assert.deepStrictEqual(routes["a"], { backends: [{ pool: "p" }], timeout: "5s" })
    assert.deepStrictEqual(routes["b"], { backends: [{ pool: "p" }], timeout: "1s" })
    assert.deepStrictEqual(Object.keys(merged.raw["pools"] as object).sort(), ["p", "q"])
    assert.strictEqual(merged.origin(["routes", "b", "timeout"]), "admin:routes/b")
    assert.strictEqual(merged.origin(["pools", "q", "servers"]), "etcd:/s/pools/q")
    assert.strictEqual(merged.origin(["routes", "a", "timeout"]), "env:SWITCHYARD__routes__a__timeout")
    assert.strictEqual(merged.origin(["listeners", "web"]), "/etc/s.yaml")
    // problems about keys the file does not have: the override that created them, else the file
    assert.strictEqual(merged.origin(["routes", "c", "backends"]), "env:SWITCHYARD__routes__c__timeout")
    assert.strictEqual(merged.origin(["routes", "c"]), "env:SWITCHYARD__routes__c__timeout")
    assert.strictEqual(merged.origin(["pools", "p", "healthCheck"]), "/etc/s.yaml")
    assert.strictEqual(merged.origin(["routes", "a", "match"]), "/etc/s.yaml")
  })
})

describe("ConfigWatcher", () => {
  it.scopedLive("is not ready and answers 503 not_ready until every source has delivered; then serves", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const inline = yield* InlineSource.make("<test>", withTestDefaults({ ...listenerOnly, admin: { address: "127.0.0.1:0" } }))
      const kv = yield* MemorySource.make("etcd:/switchyard/")
      const gw = yield* gateway({ ...listenerOnly, admin: { address: "127.0.0.1:0" } }, [inline.source, kv.source])
      const url = gw.core.listeners()["web"]!.url
      const before = yield* request(`${url}/x`)
      assert.strictEqual(before.status, 503)
      assert.strictEqual(before.json.error, "not_ready")
      assert.isDefined(before.headers["retry-after"])
      assert.strictEqual((yield* request(`${gw.admin!.url}/readyz`)).status, 503)
      yield* kv.emit({ routes: { r: { backends: [{ pool: "p" }] } }, pools: { p: { servers: [{ url: a.url }] } } })
      yield* expectServer(`${url}/x`, "a")
      assert.strictEqual((yield* request(`${gw.admin!.url}/readyz`)).status, 200)
    }))

  it.scopedLive("a valid config with no routes is ready and answers 404 no_route", () =>
    Effect.gen(function*() {
      const inline = yield* InlineSource.make("<test>", withTestDefaults(listenerOnly))
      const gw = yield* gateway(listenerOnly, [inline.source])
      yield* gw.plane.first
      const reply = yield* request(`${gw.core.listeners()["web"]!.url}/x`)
      assert.strictEqual(reply.status, 404)
      assert.strictEqual(reply.json.error, "no_route")
      assert.isTrue(gw.core.ready())
    }))

  it.scopedLive("rejects an invalid snapshot, keeps serving the last good one and publishes config.rejected", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const b = yield* Backends.make("b")
      const inline = yield* InlineSource.make("<test>", withTestDefaults(listenerOnly))
      const kv = yield* MemorySource.make("etcd:/switchyard/")
      const gw = yield* gateway(listenerOnly, [inline.source, kv.source])
      const subscription = yield* PubSub.subscribe(gw.events)
      const url = gw.core.listeners()["web"]!.url
      yield* kv.emit({ routes: { r: { backends: [{ pool: "p" }] } }, pools: { p: { servers: [{ url: a.url }] } } })
      yield* expectServer(url, "a")
      const version = gw.plane.version()
      // dangling reference: rejected as a whole
      yield* kv.emit({ routes: { r: { backends: [{ pool: "missing" }] } }, pools: { p: { servers: [{ url: b.url }] } } })
      const rejected = yield* eventually(Effect.flatMap(Queue.take(subscription), (e) => e.type === "config.rejected" ? Effect.succeed(e) : Effect.fail("other")))
      assert.strictEqual(rejected.type, "config.rejected")
      if (rejected.type === "config.rejected") {
        assert.strictEqual(rejected.errors[0]!.path, "routes.r.backends[0].pool")
        assert.strictEqual(rejected.errors[0]!.file, "etcd:/switchyard/routes/r")
      }
      assert.strictEqual(gw.plane.version(), version)
      assert.strictEqual((yield* request(url)).json.server, "a")
      // a value that did not parse is a problem of the snapshot
      yield* kv.emit({ routes: {} }, [{ file: "etcd:/switchyard/routes/r", path: "routes.r", message: "expected JSON or YAML" }])
      yield* Effect.sleep("100 millis")
      assert.strictEqual((yield* request(url)).json.server, "a")
      // fixed: applied
      yield* kv.emit({ routes: { r: { backends: [{ pool: "p" }] } }, pools: { p: { servers: [{ url: b.url }] } } })
      yield* expectServer(url, "b")
      assert.isAbove(gw.plane.version(), version)
    }))

  it.scopedLive("keeps an unchanged pool's connections across reloads and finishes requests in flight on the old config", () =>
    Effect.gen(function*() {
      const connections = { count: 0 }
      const a = yield* Backends.make("a", (req, res) => {
        const delay = req.url === "/slow" ? 400 : 0
        setTimeout(() => res.end(JSON.stringify({ server: "a" })), delay)
      })
      a.server.on("connection", () => connections.count++)
      const b = yield* Backends.make("b")
      const inline = yield* InlineSource.make("<test>", withTestDefaults(listenerOnly))
      const kv = yield* MemorySource.make("etcd:/switchyard/")
      const gw = yield* gateway(listenerOnly, [inline.source, kv.source])
      const url = gw.core.listeners()["web"]!.url
      const pools = { p: { servers: [{ url: a.url }] }, q: { servers: [{ url: b.url }] } }
      yield* kv.emit({ routes: { r: { backends: [{ pool: "p" }] } }, pools })
      yield* expectServer(url, "a")
      const before = connections.count
      // only the route changes: pool p keeps its connection
      yield* kv.emit({ routes: { r: { backends: [{ pool: "p" }], timeout: "20s" } }, pools })
      yield* eventually(Effect.suspend(() => gw.plane.version() >= 2 ? Effect.void : Effect.fail("not yet")))
      yield* request(url)
      assert.strictEqual(connections.count, before)
      // a request in flight on pool p finishes after p is removed from the config
      const slow = yield* Effect.fork(request(`${url}/slow`))
      yield* Effect.sleep("100 millis")
      yield* kv.emit({ routes: { r: { backends: [{ pool: "q" }] } }, pools: { q: pools.q } })
      yield* expectServer(url, "b")
      const reply = yield* slow.await
      assert.strictEqual(reply._tag, "Success")
      if (reply._tag === "Success") assert.strictEqual(reply.value.status, 200)
    }))

  it.scopedLive("follows the file: in-place writes, replacement by rename, invalid edits rejected", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const b = yield* Backends.make("b")
      const dir = mkdtempSync(join(tmpdir(), "switchyard-file-"))
      const file = join(dir, "switchyard.yaml")
      const doc = (server: string) =>
        `listeners:\n  web: { address: "127.0.0.1:0" }\nadmin: { address: null }\nobservability: { logs: { level: silent } }\n` +
        `routes:\n  r: { backends: [{ pool: p }] }\npools:\n  p: { servers: [{ url: "${server}" }] }\n`
      writeFileSync(file, doc(a.url))
      const source = FileConfigSource.make(file, { watch: true, env: {}, pollMs: 200 })
      const gw = yield* gateway({ listeners: { web: { address: "127.0.0.1:0" } } }, [source])
      const url = gw.core.listeners()["web"]!.url
      yield* expectServer(url, "a")
      writeFileSync(file, doc(b.url))
      yield* expectServer(url, "b")
      // editors: write a temp file and rename it over the original
      writeFileSync(join(dir, ".tmp"), doc(a.url))
      renameSync(join(dir, ".tmp"), file)
      yield* expectServer(url, "a")
      const version = gw.plane.version()
      writeFileSync(file, "routes: [unclosed")
      yield* Effect.sleep("400 millis")
      assert.strictEqual(gw.plane.version(), version)
      assert.strictEqual((yield* request(url)).json.server, "a")
      writeFileSync(file, doc(b.url))
      yield* expectServer(url, "b")
    }))

  it.scopedLive("binds listeners added to the file and drains removed ones, leaving unchanged ones alone", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const base = (extra: Record<string, unknown>) =>
        withTestDefaults({
          listeners: { web: { address: "127.0.0.1:0" }, ...extra },
          routes: { r: { backends: [{ pool: "p" }] } },
          pools: { p: { servers: [{ url: a.url }] } }
        })
      const inline = yield* InlineSource.make("<test>", base({}))
      const gw = yield* gateway(base({}), [inline.source])
      yield* gw.plane.first
      const web = gw.core.listeners()["web"]!
      yield* inline.set(base({ extra: { address: "127.0.0.1:0" } }))
      const extra = yield* eventually(Effect.suspend(() => {
        const l = gw.core.listeners()["extra"]
        return l === undefined ? Effect.fail("not bound") : Effect.succeed(l)
      }))
      assert.strictEqual((yield* request(extra.url)).json.server, "a")
      assert.strictEqual(gw.core.listeners()["web"]!.port, web.port)
      yield* inline.set(base({}))
      yield* eventually(Effect.suspend(() => gw.core.listeners()["extra"] === undefined ? Effect.void : Effect.fail("still bound")))
      const refused = yield* Effect.either(Effect.tryPromise(() => fetch(extra.url)))
      assert.strictEqual(refused._tag, "Left")
      assert.strictEqual((yield* request(web.url)).json.server, "a")
    }))
})
