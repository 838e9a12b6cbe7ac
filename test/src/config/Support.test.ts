import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Load from "../../../src/config/Load.js"
import { SwitchyardConfig } from "../../../src/config/Schema.js"
import * as Support from "../../../src/config/Support.js"

const listener = { address: "127.0.0.1:8080" }
const pool = { servers: [{ url: "http://127.0.0.1:9000" }] }
const base = { listeners: { web: listener }, pools: { p: pool } }

const problemsOf = (raw: Record<string, unknown>) =>
  Effect.map(
    Effect.flip(Load.decode({ ...base, ...raw }, "switchyard.yaml")),
    (e) => e.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`)
  )

const cases: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
  [
    "TLS listeners",
    { listeners: { web: { ...listener, tls: { certificates: [{ certFile: "a.pem", keyFile: "a-key.pem" }] } } } },
    "listeners.web.tls: not supported yet (TLS listeners)"
  ],
  ["h2c", { listeners: { web: { ...listener, http2: true } } }, "listeners.web.http2: not supported yet (HTTP/2 without TLS (h2c))"],
  ["retries", { routes: { r: { backends: [{ pool: "p" }], retry: {} } } }, "routes.r.retry: not supported yet (retries)"],
  ["WebSocket", { routes: { r: { backends: [{ pool: "p" }], websocket: true } } }, "routes.r.websocket: not supported yet (WebSocket)"],
  [
    "discovery",
    { pools: { p: { discovery: { consul: { service: "api" } } } } },
    "pools.p.discovery: not supported yet (service discovery)"
  ],
  ["health checks", { pools: { p: { ...pool, healthCheck: {} } } }, "pools.p.healthCheck: not supported yet (health checks)"],
  [
    "circuit breakers",
    { pools: { p: { ...pool, circuitBreaker: {} } } },
    "pools.p.circuitBreaker: not supported yet (circuit breakers)"
  ],
  ["panic mode", { pools: { p: { ...pool, panicThreshold: 50 } } }, "pools.p.panicThreshold: not supported yet (panic mode)"],
  [
    "upstream HTTP/2",
    { pools: { p: { ...pool, connection: { http2: true } } } },
    "pools.p.connection.http2: not supported yet (HTTP/2 to upstreams)"
  ],
  [
    "rate limits",
    { middlewares: { rl: { type: "rate-limit", average: 10 } } },
    `middlewares.rl.type: not supported yet (middleware type "rate-limit")`
  ],
  [
    "catalogue middlewares",
    { middlewares: { c: { type: "cors", allowOrigins: ["*"] } } },
    `middlewares.c.type: not supported yet (middleware type "cors")`
  ],
  [
    "tracing",
    { observability: { tracing: { endpoint: "http://127.0.0.1:4318/v1/traces" } } },
    "observability.tracing.endpoint: not supported yet (tracing export)"
  ]
]

describe("Support", () => {
  for (const [feature, raw, expected] of cases) {
    it.effect(`refuses ${feature}`, () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* problemsOf(raw), [`switchyard.yaml: ${expected}`])
      }))
  }

  it.effect("accepts the same keys at their disabled values", () =>
    Effect.gen(function*() {
      const config = yield* Load.decode({
        listeners: { web: { ...listener, tls: null, http2: false } },
        pools: {
          p: {
            ...pool,
            discovery: null,
            healthCheck: null,
            circuitBreaker: null,
            panicThreshold: 0,
            connection: { http2: false }
          }
        },
        middlewares: { h: { type: "headers" } },
        routes: { r: { backends: [{ pool: "p" }], retry: null, websocket: false, middlewares: ["h"] } },
        observability: { tracing: { endpoint: null } },
        sources: { etcd: null, consul: null }
      }, "switchyard.yaml")
      assert.strictEqual(config.routes.r!.websocket, false)
    }))

  it.effect("reports every unsupported feature at once", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf({
        routes: { r: { backends: [{ pool: "p" }], retry: {}, websocket: true } },
        observability: { tracing: { endpoint: "http://127.0.0.1:4318/v1/traces" } }
      })
      assert.lengthOf(problems, 3)
    }))

  it("is a table that can be edited", () => {
    const config = Schema.decodeUnknownSync(SwitchyardConfig)({ ...base, observability: { tracing: { endpoint: "http://127.0.0.1:4318/v1/traces" } } })
    assert.lengthOf(Support.check(config), 1)
    assert.deepStrictEqual(Support.check(config, { ...Support.notSupportedYet, document: [] }), [])
  })

  it.effect("checks a single entity", () =>
    Effect.gen(function*() {
      const route = yield* Load.decodeEntity("routes", "r", { backends: [{ pool: "x" }] }, "admin")
      assert.deepStrictEqual(Support.checkEntity("routes", "r", { ...route, websocket: true }), [
        { path: ["routes", "r", "websocket"], message: "not supported yet (WebSocket)" }
      ])
    }))
})
