import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { ConfigProblem } from "../../../src/config/ConfigError.js"
import * as Load from "../../../src/config/Load.js"
import { SwitchyardConfig } from "../../../src/config/Schema.js"
import * as Validate from "../../../src/config/Validate.js"

const listeners = { web: { address: "127.0.0.1:8080" }, admin: { address: "127.0.0.1:8081" } }
const pools = { a: { servers: [{ url: "http://127.0.0.1:9000" }] }, b: { servers: [{ url: "http://127.0.0.1:9001" }] } }

const problemsOf = (raw: Record<string, unknown>) =>
  Effect.map(Effect.flip(Load.decode({ listeners, pools, ...raw }, "switchyard.yaml")), (e): ReadonlyArray<ConfigProblem> => e.problems)

const only = (problems: ReadonlyArray<ConfigProblem>): readonly [string, string] => {
  assert.lengthOf(problems, 1, problems.map((p) => `${p.path}: ${p.message}`).join("\n"))
  assert.strictEqual(problems[0]!.file, "switchyard.yaml")
  return [problems[0]!.path, problems[0]!.message]
}

describe("Validate", () => {
  it.effect("accepts a document whose references all resolve", () =>
    Effect.gen(function*() {
      const config = yield* Load.decode({
        listeners,
        pools,
        middlewares: { hdrs: { type: "headers" } },
        routes: {
          api: { listeners: ["web"], backends: [{ pool: "a" }, { pool: "b", weight: 0 }], fallback: "b", middlewares: ["hdrs"] }
        }
      }, "switchyard.yaml")
      assert.deepStrictEqual(config.routes.api!.listeners, ["web"])
    }))

  it.effect("reports a backend pool that is not defined, listing the defined pools", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ routes: { api: { backends: [{ pool: "a" }, { pool: "nope" }] } } })
      assert.deepStrictEqual(only(problems), [
        "routes.api.backends[1].pool",
        `pool "nope" is not defined (defined pools: a, b)`
      ])
    }))

  it.effect("reports a fallback pool that is not defined", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ routes: { api: { backends: [{ pool: "a" }], fallback: "static" } } })
      assert.deepStrictEqual(only(problems), ["routes.api.fallback", `pool "static" is not defined (defined pools: a, b)`])
    }))

  it.effect("reports a middleware that is not defined", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ routes: { api: { backends: [{ pool: "a" }], middlewares: ["auth"] } } })
      assert.deepStrictEqual(only(problems), [
        "routes.api.middlewares[0]",
        `middleware "auth" is not defined (no middlewares are defined)`
      ])
    }))

  it.effect("reports a listener that is not defined", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ routes: { api: { backends: [{ pool: "a" }], listeners: ["web", "websecure"] } } })
      assert.deepStrictEqual(only(problems), [
        "routes.api.listeners[1]",
        `listener "websecure" is not defined (defined listeners: admin, web)`
      ])
    }))

  it.effect("refuses two listeners, or a listener and the admin API, on one port", () =>
    Effect.gen(function*() {
      const routes = { api: { backends: [{ pool: "a" }] } }
      const same = yield* Effect.flip(Load.decode({
        listeners: { web: { address: "127.0.0.1:8080" }, other: { address: "127.0.0.1:8080" } },
        pools,
        routes
      }, "switchyard.yaml"))
      assert.deepStrictEqual(only(same.problems), [
        "listeners.other.address",
        `expected a port no other listener uses, found "127.0.0.1:8080" (listeners.web.address has it)`
      ])
      const admin = yield* Effect.flip(Load.decode({
        listeners: { web: { address: "0.0.0.0:8080" } },
        admin: { address: "127.0.0.1:8080" },
        pools,
        routes
      }, "switchyard.yaml"))
      assert.deepStrictEqual(only(admin.problems)[0], "admin.address")
      // port 0 (any free port) twice, or one port on two different hosts, is fine
      yield* Load.decode({
        listeners: { a: { address: "127.0.0.1:0" }, b: { address: "127.0.0.1:0" }, c: { address: "127.0.0.2:8080" }, d: { address: "127.0.0.1:8080" } },
        admin: { address: "127.0.0.1:0" },
        pools,
        routes
      }, "switchyard.yaml")
    }))

  it.effect("requires backend weights with a positive sum", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ routes: { api: { backends: [{ pool: "a", weight: 0 }, { pool: "b", weight: 0 }] } } })
      assert.deepStrictEqual(only(problems), ["routes.api.backends", "expected backend weights with a positive sum, found 0 + 0 = 0"])
      const negative = yield* problemsOf({ routes: { api: { backends: [{ pool: "a", weight: -1 }] } } })
      assert.deepStrictEqual(only(negative), ["routes.api.backends[0].weight", "expected a number of at least 0, found -1"])
    }))

  it.effect("requires a pool to have servers or discovery", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ pools: { empty: { servers: [] } } })
      assert.deepStrictEqual(only(problems), [
        "pools.empty.servers",
        "expected at least one server, or a discovery section, found neither"
      ])
      const discovered = Schema.decodeUnknownSync(SwitchyardConfig)({
        listeners,
        pools: { d: { discovery: { consul: { service: "api" } } } }
      })
      assert.deepStrictEqual(Validate.validate(discovered), [])
    }))

  it.effect("requires an upstream client certificate and key together", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({ pools: { a: { ...pools.a, tls: { certFile: "client.pem" } } } })
      assert.deepStrictEqual(only(problems), ["pools.a.tls.keyFile", "expected certFile and keyFile together, found only certFile"])
    }))

  it("checks limits that depend on each other", () => {
    const config = Schema.decodeUnknownSync(SwitchyardConfig)({
      listeners,
      pools: { a: { ...pools.a, healthCheck: { passive: { baseEjectionTime: "1m", maxEjectionTime: "30s" } } } },
      routes: { api: { backends: [{ pool: "a" }], retry: { backoff: { initial: "1s", max: "100ms" } } } }
    })
    assert.deepStrictEqual(Validate.validate(config), [
      {
        path: ["routes", "api", "retry", "backoff", "max"],
        message: "expected at least backoff.initial (1s), found 100ms"
      },
      {
        path: ["pools", "a", "healthCheck", "passive", "maxEjectionTime"],
        message: "expected at least baseEjectionTime (1m), found 30s"
      }
    ])
  })

  it.effect("accepts hashOn with any load balancer", () =>
    Effect.gen(function*() {
      const config = yield* Load.decode({ listeners, pools: { a: { ...pools.a, hashOn: "header:x-user" } } }, "f.yaml")
      assert.strictEqual(config.pools.a!.loadBalancer, "round-robin")
    }))

  it.effect("reports every broken rule at once", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({
        pools: { ...pools, empty: {} },
        routes: {
          one: { backends: [{ pool: "x" }], fallback: "y", middlewares: ["m"], listeners: ["l"] },
          two: { backends: [{ pool: "a", weight: 0 }] }
        }
      })
      assert.deepStrictEqual(problems.map((p) => p.path), [
        "routes.two.backends",
        "pools.empty.servers",
        "routes.one.listeners[0]",
        "routes.one.backends[0].pool",
        "routes.one.fallback",
        "routes.one.middlewares[0]"
      ])
    }))

  it("checks references against given names", () => {
    const config = Schema.decodeUnknownSync(SwitchyardConfig)({ listeners, routes: { r: { backends: [{ pool: "elsewhere" }] } } })
    assert.lengthOf(Validate.validate(config), 1)
    assert.deepStrictEqual(Validate.validate(config, { listeners: ["web"], pools: ["elsewhere"], middlewares: [] }), [])
  })
})
