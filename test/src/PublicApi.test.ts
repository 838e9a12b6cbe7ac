/** What users import: `import { Switchyard } from "switchyard"` (the built package), as in the README. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { chain, ConfigError, Switchyard, type Middleware } from "switchyard"
import * as Backends from "../support/backends.js"
import { request } from "../support/client.js"

describe("public API", () => {
  it.scopedLive("starts a proxy from a config value and closes it", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() =>
          Switchyard.start({
            listeners: { web: { address: "127.0.0.1:0" } },
            routes: { all: { backends: [{ pool: "app" }] } },
            pools: { app: { servers: [{ url: a.url }] } },
            admin: { address: null },
            observability: { logs: { level: "silent" } }
          })
        ),
        (p) => Effect.promise(() => p.close())
      )
      assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual((yield* request(proxy.url)).json.server, "a")
    }))

  it("rejects an invalid config value with a ConfigError listing every problem", async () => {
    const error = await Switchyard.start({ listeners: {}, routes: { r: { backends: [] } } }).catch((e: unknown) => e)
    assert.instanceOf(error, ConfigError)
    assert.isAbove((error as ConfigError).problems.length, 1)
  })

  it("composes middleware with chain", () => {
    const tag = (name: string): Middleware => (next) => (req) => Effect.map(next(req), (res) => {
      res.headers["x-order"] = `${res.headers["x-order"] ?? ""}${name}`
      return res
    })
    const handler = chain([tag("a"), tag("b")])(() => Effect.succeed({ status: 200, headers: {}, body: undefined }))
    const res = Effect.runSync(handler({} as never))
    assert.strictEqual(res.headers["x-order"], "ba")
  })
})

describe("public API reload", () => {
  it.scopedLive("applies a new document, answers at once for an unchanged one, and rejects an invalid one", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const b = yield* Backends.make("b")
      const doc = (url: string) => ({
        listeners: { web: { address: "127.0.0.1:0" } },
        routes: { all: { backends: [{ pool: "app" }] } },
        pools: { app: { servers: [{ url }] } },
        admin: { address: null },
        observability: { logs: { level: "silent" } }
      })
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() => Switchyard.start(doc(a.url))),
        (p) => Effect.promise(() => p.close())
      )
      const next = doc(b.url)
      const version = yield* Effect.promise(() => proxy.reload(next))
      assert.strictEqual((yield* request(proxy.url)).json.server, "b")
      const started = Date.now()
      assert.strictEqual(yield* Effect.promise(() => proxy.reload(next)), version)
      assert.isBelow(Date.now() - started, 1000)
      const error = yield* Effect.promise(() => proxy.reload({ ...next, routes: { all: { backends: [{ pool: "nope" }] } } }).catch((e: unknown) => e))
      assert.instanceOf(error, ConfigError)
      assert.strictEqual((yield* request(proxy.url)).json.server, "b")
    }))
})
