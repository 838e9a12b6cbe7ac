/**
 * The whole proxy following real configuration stores: a real etcd and the Consul HTTP API emulator
 * (test/support/consulEmulator.ts), layered with the file document and the admin API.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Backends from "../support/backends.js"
import { request } from "../support/client.js"
import * as ConsulEmulator from "../support/consulEmulator.js"
import * as Etcd from "../support/etcd.js"
import { eventually } from "../support/gateway.js"
import * as Proxy from "../support/proxy.js"

const route = (pool: string) => JSON.stringify({ match: { path: "/*" }, backends: [{ pool }] })
const pool = (url: string) => JSON.stringify({ servers: [{ url }] })

/** `explain` adds the state behind a failure to its message (this test has failed rarely, only in full runs). */
const servedBy = (url: string, server: string, explain: Effect.Effect<string> = Effect.succeed("")) =>
  eventually(Effect.flatMap(request(url), (r) => r.json?.server === server ? Effect.void : Effect.fail(`got ${r.status} ${r.text}`)), 20_000).pipe(
    Effect.catchAll((error) => Effect.flatMap(explain, (state) => Effect.fail(`${error}${state === "" ? "" : `\n${state}`}`)))
  )

describe("dynamic sources", () => {
  it.scopedLive("layers file < etcd < consul < admin per entity and follows each store's changes", () =>
    Effect.gen(function*() {
      const etcd = yield* Etcd.make()
      const consul = yield* ConsulEmulator.make()
      const [a, b, c, d] = yield* Effect.all([Backends.make("a"), Backends.make("b"), Backends.make("c"), Backends.make("d")])
      const proxy = yield* Proxy.make({
        listeners: { web: { address: "127.0.0.1:0" } },
        admin: { address: "127.0.0.1:0" },
        observability: { logs: { level: process.env.DEBUG_SOURCES ? "debug" : "silent" }, metrics: { enabled: false } },
        routes: { r: { match: { path: "/*" }, backends: [{ pool: "file" }] } },
        pools: { file: { servers: [{ url: a.url }] } },
        sources: {
          etcd: { endpoints: [etcd.endpoint], prefix: "/switchyard/" },
          consul: { address: consul.address, prefix: "switchyard/" }
        }
      })
      yield* servedBy(proxy.url, "a")

      yield* etcd.put("/switchyard/pools/etcd", pool(b.url))
      yield* etcd.put("/switchyard/routes/r", route("etcd"))
      yield* servedBy(proxy.url, "b")

      yield* consul.put("switchyard/pools/consul", pool(c.url))
      yield* consul.put("switchyard/routes/r", route("consul"))
      yield* servedBy(proxy.url, "c")

      const put = yield* request(`${proxy.adminUrl}/config/pools/admin`, { method: "PUT", body: pool(d.url) })
      assert.strictEqual(put.status, 200, put.text)
      const putRoute = yield* request(`${proxy.adminUrl}/config/routes/r`, { method: "PUT", body: route("admin") })
      assert.strictEqual(putRoute.status, 200, putRoute.text)
      yield* servedBy(proxy.url, "d")

      assert.strictEqual((yield* request(`${proxy.adminUrl}/config/routes/r`, { method: "DELETE" })).status, 200)
      yield* servedBy(proxy.url, "c")
      yield* consul.remove("switchyard/routes/r")
      yield* servedBy(proxy.url, "b")

      // an invalid value: rejected as a whole, the last good config keeps serving
      yield* etcd.put("/switchyard/routes/r", "{ not: [valid")
      yield* Effect.sleep("300 millis")
      assert.strictEqual((yield* request(proxy.url)).json.server, "b")
      const config = yield* request(`${proxy.adminUrl}/config`)
      assert.strictEqual(config.json.config.routes.r.backends[0].pool, "etcd")

      // etcd goes away: everything keeps serving and Consul changes still apply; changes made while it was
      // down (a deletion included) are picked up when it is back
      yield* etcd.put("/switchyard/routes/r", route("etcd"))
      yield* servedBy(proxy.url, "b")
      yield* etcd.stop
      assert.strictEqual((yield* request(proxy.url)).json.server, "b")
      yield* consul.put("switchyard/routes/other", JSON.stringify({ match: { path: "/other/*" }, backends: [{ pool: "consul" }] }))
      yield* servedBy(
        `${proxy.url}/other/x`,
        "c",
        Effect.gen(function*() {
          const config = yield* request(`${proxy.adminUrl}/config`).pipe(Effect.orElseSucceed(() => undefined))
          const keys = (yield* consul.entries).map((e) => `${e.Key}@${e.ModifyIndex}`)
          return `proxy config: version ${config?.json?.version}, routes ${JSON.stringify(Object.keys(config?.json?.config?.routes ?? {}))}; consul: ${keys.join(", ")}`
        })
      )
      yield* etcd.start
      yield* etcd.remove("/switchyard/routes/r")
      yield* servedBy(proxy.url, "a")
    }), { timeout: 60_000 })

  it.scopedLive("is not ready and answers 503 not_ready while a configured store has never answered", () =>
    Effect.gen(function*() {
      const consul = yield* ConsulEmulator.make()
      yield* consul.stop
      const proxy = yield* Proxy.make({
        listeners: { web: { address: "127.0.0.1:0" } },
        admin: { address: "127.0.0.1:0" },
        sources: { consul: { address: consul.address, prefix: "switchyard/" } }
      })
      const before = yield* request(proxy.url)
      assert.strictEqual(before.status, 503)
      assert.strictEqual(before.json.error, "not_ready")
      assert.strictEqual((yield* request(`${proxy.adminUrl}/readyz`)).status, 503)
      yield* consul.start
      yield* eventually(Effect.flatMap(request(`${proxy.adminUrl}/readyz`), (r) => r.status === 200 ? Effect.void : Effect.fail(r.status)), 15_000)
      assert.strictEqual((yield* request(proxy.url)).json.error, "no_route")
    }), { timeout: 60_000 })
})
