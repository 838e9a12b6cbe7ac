/**
 * The admin API (CONTRACT §5, metrics §6) of an in-process proxy, over real sockets.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Redact from "../../../src/admin/Redact.js"
import { Duration, Effect, type Scope } from "effect"
import * as http from "node:http"
import * as Backends from "../../support/backends.js"
import { type Reply, request } from "../../support/client.js"
import * as Proxy from "../../support/proxy.js"

// ---------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------

/** One listener `web`, a route `api` on `/api/*` to pool `app`, the admin API on a free port. */
const config = (app: string, extra: Record<string, unknown> = {}) => ({
  listeners: { web: { address: "127.0.0.1:0" } },
  routes: { api: { match: { path: "/api/*" }, backends: [{ pool: "app" }] } },
  pools: { app: { servers: [{ url: app }] } },
  admin: { address: "127.0.0.1:0" },
  ...extra
})

const start = (doc: Record<string, unknown>) =>
  Effect.map(Proxy.make(doc), (proxy) => {
    assert.isDefined(proxy.adminUrl, "the admin API must be bound")
    return { ...proxy, admin: proxy.adminUrl! }
  })

/** Polls `check` every 20 ms until it holds; fails after `within`. */
const eventually = (what: string, check: Effect.Effect<boolean>, within: Duration.DurationInput = "5 seconds") =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep("20 millis")
  }).pipe(Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`timed out waiting for ${what}`) }), Effect.orDie)

const put = (url: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
  request(url, { method: "PUT", body, headers })

const del = (url: string, headers: Record<string, string> = {}) => request(url, { method: "DELETE", headers })

const versionOf = (admin: string): Effect.Effect<number> => Effect.map(request(`${admin}/config`), (r) => r.json.version as number)

/** Prometheus sample lines (`name{labels} value`) of one metric. */
const samples = (text: string, name: string): Array<string> =>
  text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))

interface SseEvent {
  readonly event: string
  readonly data: any
}

interface EventStream {
  readonly status: number
  readonly contentType: string | undefined
  readonly events: Array<SseEvent>
  /** Waits for an event satisfying `predicate`. */
  readonly next: (predicate: (event: SseEvent) => boolean, within?: Duration.DurationInput) => Effect.Effect<SseEvent>
}

/** Subscribes to `GET /events`; resolves once the response head arrived (the subscription exists). */
const events = (url: string, headers: Record<string, string> = {}): Effect.Effect<EventStream, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ stream: EventStream; req: http.ClientRequest }>((resume) => {
      const req = http.get(url, { headers, agent: false }, (res) => {
        const list: Array<SseEvent> = []
        let buffer = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          buffer += chunk
          let end: number
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            let event = "message"
            const data: Array<string> = []
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim()
              else if (line.startsWith("data:")) data.push(line.slice(5).trimStart())
            }
            if (data.length > 0) list.push({ event, data: JSON.parse(data.join("\n")) })
          }
        })
        res.on("error", () => {})
        const stream: EventStream = {
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          events: list,
          next: (predicate, within) =>
            Effect.gen(function*() {
              yield* eventually("an event", Effect.sync(() => list.some(predicate)), within)
              return list.find(predicate)!
            })
        }
        resume(Effect.succeed({ stream, req }))
      })
      req.on("error", () => {})
    }),
    ({ req }) => Effect.sync(() => req.destroy())
  ).pipe(Effect.map(({ stream }) => stream))

/** Status of a request whose response head is all we need (an event stream is closed right away). */
const statusOf = (url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  Effect.async<number>((resume) => {
    const req = http.request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      resume(Effect.succeed(res.statusCode ?? 0))
      res.resume()
      req.destroy()
    })
    req.on("error", () => {})
    req.end(options.body)
  })

const assertNoRoute = (reply: Reply) => {
  assert.strictEqual(reply.status, 404, reply.text)
  assert.strictEqual(reply.json.error, "no_route")
}

// ---------------------------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------------------------

describe("AdminApi", () => {
  it.scopedLive("answers /healthz and /readyz", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url))
      const health = yield* request(`${proxy.admin}/healthz`)
      assert.strictEqual(health.status, 200)
      assert.deepStrictEqual(health.json, { status: "ok" })
      assert.match(String(health.headers["content-type"]), /^application\/json/)
      const ready = yield* request(`${proxy.admin}/readyz`)
      assert.strictEqual(ready.status, 200)
      const unknown = yield* request(`${proxy.admin}/nope`)
      assert.strictEqual(unknown.status, 404)
    }))

  it.scopedLive("exposes every contract metric in Prometheus text, counting unrouted requests with route=\"\"", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url, {
        observability: { logs: { level: "silent", accessLog: false }, metrics: { enabled: true } }
      }))
      const ok = yield* request(`${proxy.url}/api/items`)
      assert.strictEqual(ok.status, 200)
      assertNoRoute(yield* request(`${proxy.url}/elsewhere`))

      const expected = [
        `switchyard_requests_total{listener="web",route="api",pool="app",method="GET",code="200"} 1`,
        `switchyard_requests_total{listener="web",route="",pool="",method="GET",code="404"} 1`
      ]
      let text = ""
      yield* eventually("both requests to be counted", Effect.map(request(`${proxy.admin}/metrics`), (r) => {
        text = r.text
        return expected.every((line) => text.includes(line))
      }))

      const metrics = yield* request(`${proxy.admin}/metrics`)
      assert.strictEqual(metrics.status, 200)
      assert.match(String(metrics.headers["content-type"]), /^text\/plain; version=0\.0\.4/)
      text = metrics.text

      for (const name of [
        "switchyard_requests_total",
        "switchyard_request_duration_seconds",
        "switchyard_upstream_request_duration_seconds",
        "switchyard_upstream_attempts_total",
        "switchyard_open_connections",
        "switchyard_requests_in_flight",
        "switchyard_config_reloads_total",
        "switchyard_config_version",
        "switchyard_backend_up",
        "switchyard_circuit_state",
        "switchyard_retries_total",
        "switchyard_ratelimited_total"
      ]) {
        assert.include(text, `# TYPE ${name} `, name)
      }
      assert.include(text, "# TYPE switchyard_requests_total counter")
      assert.include(text, "# TYPE switchyard_request_duration_seconds histogram")
      assert.include(text, "# TYPE switchyard_upstream_request_duration_seconds histogram")
      assert.include(text, "# TYPE switchyard_open_connections gauge")
      assert.include(text, "# TYPE switchyard_requests_in_flight gauge")

      assert.isTrue(
        samples(text, "switchyard_request_duration_seconds_count").some((l) => l.startsWith(`switchyard_request_duration_seconds_count{listener="web",route="api",pool="app"} `)),
        text
      )
      const server = `127.0.0.1:${a.port}`
      assert.include(text, `switchyard_upstream_attempts_total{pool="app",server="${server}",outcome="success"} 1`)
      assert.include(text, `switchyard_upstream_request_duration_seconds_count{pool="app",server="${server}"} 1`)
      assert.isTrue(samples(text, "switchyard_open_connections").some((l) => l.includes(`listener="web"`)), text)
      assert.isTrue(samples(text, "switchyard_requests_in_flight").some((l) => l.includes(`listener="web"`)), text)
      assert.include(text, `switchyard_config_reloads_total{result="applied"} 1`)
      assert.include(text, `switchyard_config_version 1`)
      assert.include(text, `switchyard_backend_up{pool="app",server="${server}"} 1`)
      assert.include(text, `switchyard_circuit_state{pool="app"} 0`)
      assert.include(text, "# TYPE switchyard_retries_total counter")
      assert.include(text, "# TYPE switchyard_ratelimited_total counter")
      // prom-client's default process metrics
      assert.include(text, "process_cpu_user_seconds_total")
      assert.include(text, "nodejs_eventloop_lag_seconds")
    }))

  it.scopedLive("collects nothing and answers 404 on /metrics when observability.metrics.enabled is false", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url))
      assert.strictEqual((yield* request(`${proxy.url}/api/items`)).status, 200)
      const metrics = yield* request(`${proxy.admin}/metrics`)
      assert.strictEqual(metrics.status, 404)
      assert.notInclude(metrics.text, "switchyard_requests_total")
    }))

  it.scopedLive("GET /config answers the version and the effective config with secrets redacted", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url, { admin: { address: "127.0.0.1:0", token: "s3cret" } }))
      const auth = { authorization: "Bearer s3cret" }
      const reply = yield* request(`${proxy.admin}/config`, { headers: auth })
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.json.version, 1)
      assert.strictEqual(reply.json.config.admin.token, "[redacted]")
      assert.notInclude(reply.text, "s3cret")
      // the effective config: decoded, with defaults
      assert.deepStrictEqual(reply.json.config.routes.api.backends, [{ pool: "app", weight: 1 }])
      assert.strictEqual(reply.json.config.routes.api.timeout, 30_000)
      assert.deepStrictEqual(reply.json.config.pools.app.servers, [{ url: a.url, weight: 1 }])
      assert.strictEqual(reply.json.config.listeners.web.address, "127.0.0.1:0")
      // an admin write shows up
      const written = yield* put(`${proxy.admin}/config/routes/extra`, JSON.stringify({ backends: [{ pool: "app" }], timeout: "2s" }), {
        ...auth,
        "content-type": "application/json"
      })
      assert.strictEqual(written.status, 200, written.text)
      const after = yield* request(`${proxy.admin}/config`, { headers: auth })
      assert.strictEqual(after.json.version, 2)
      assert.strictEqual(after.json.config.routes.extra.timeout, 2000)
    }))

  it("redacts passwords, tokens and inline private keys, but not rate-limit keys", () => {
    const redacted = Redact.config({
      admin: { token: "t0k" },
      sources: { etcd: { password: "p4ss", username: "u" }, consul: { token: null } },
      listeners: { web: { tls: { certificates: [{ cert: "CERT", key: "PRIVATE" }] } } },
      middlewares: { rate: { type: "rate-limit", key: "client-ip" } }
    }) as any
    assert.strictEqual(redacted.admin.token, "[redacted]")
    assert.strictEqual(redacted.sources.etcd.password, "[redacted]")
    assert.strictEqual(redacted.sources.etcd.username, "u")
    assert.strictEqual(redacted.sources.consul.token, null)
    assert.strictEqual(redacted.listeners.web.tls.certificates[0].key, "[redacted]")
    assert.strictEqual(redacted.listeners.web.tls.certificates[0].cert, "CERT")
    assert.strictEqual(redacted.middlewares.rate.key, "client-ip")
  })

  it.scopedLive("with admin.token, every endpoint but /healthz needs the bearer token", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url, {
        admin: { address: "127.0.0.1:0", token: "s3cret" },
        observability: { logs: { level: "silent", accessLog: false }, metrics: { enabled: true } }
      }))
      const good = { authorization: "Bearer s3cret" }
      const wrong = { authorization: "Bearer s3creT" }
      const basic = { authorization: "Basic czNjcmV0" }
      assert.strictEqual((yield* request(`${proxy.admin}/healthz`)).status, 200)

      const route = JSON.stringify({ match: { path: "/t/*" }, backends: [{ pool: "app" }] })
      const endpoints: Array<{ method: string; path: string; body?: string }> = [
        { method: "GET", path: "/readyz" },
        { method: "GET", path: "/metrics" },
        { method: "GET", path: "/config" },
        { method: "GET", path: "/pools" },
        { method: "GET", path: "/events" },
        { method: "PUT", path: "/config/routes/t", body: route },
        { method: "DELETE", path: "/config/routes/t" },
        { method: "GET", path: "/no-such-endpoint" }
      ]
      for (const endpoint of endpoints) {
        for (const headers of [{}, wrong, basic]) {
          const status = yield* statusOf(`${proxy.admin}${endpoint.path}`, { method: endpoint.method, headers, ...(endpoint.body === undefined ? {} : { body: endpoint.body }) })
          assert.strictEqual(status, 401, `${endpoint.method} ${endpoint.path} with ${JSON.stringify(headers)}`)
        }
      }
      const denied = yield* request(`${proxy.admin}/config`)
      assert.strictEqual(denied.json.error, "unauthorized")
      assert.strictEqual(denied.headers["www-authenticate"], "Bearer")
      // nothing was written without the token
      assertNoRoute(yield* request(`${proxy.url}/t/1`))

      for (const endpoint of endpoints.slice(0, -1)) {
        const status = yield* statusOf(`${proxy.admin}${endpoint.path}`, { method: endpoint.method, headers: good, ...(endpoint.body === undefined ? {} : { body: endpoint.body }) })
        assert.strictEqual(status, 200, `${endpoint.method} ${endpoint.path} with the token`)
      }
      // the auth scheme is case-insensitive (RFC 9110 §11.1)
      assert.strictEqual(yield* statusOf(`${proxy.admin}/config`, { headers: { authorization: "bearer s3cret" } }), 200)
      assert.strictEqual(yield* statusOf(`${proxy.admin}/config`, { headers: { authorization: "BEARER s3cret" } }), 200)
    }))

  it.scopedLive("GET /pools lists every pool's circuit and servers", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const b = yield* Backends.make("b")
      const proxy = yield* start(config(a.url, {
        pools: { app: { servers: [{ url: a.url }, { url: b.url, weight: 2 }] }, other: { servers: [{ url: b.url }] } }
      }))
      const reply = yield* request(`${proxy.admin}/pools`)
      assert.strictEqual(reply.status, 200)
      const server = (url: string) => ({ url, healthy: true, ejected: false, activeRequests: 0 })
      assert.deepStrictEqual(reply.json, {
        app: { circuit: "closed", servers: [server(a.url), server(b.url)] },
        other: { circuit: "closed", servers: [server(b.url)] }
      })
    }))

  it.scopedLive("GET /pools counts a request in flight on its server", () =>
    Effect.gen(function*() {
      let release: (() => void) | undefined
      const slow = yield* Backends.make("slow", (req, res) => {
        req.resume()
        release = () => res.end("done")
      })
      const proxy = yield* start(config(slow.url))
      const fiber = yield* Effect.fork(request(`${proxy.url}/api/slow`))
      yield* eventually("the backend to receive the request", Effect.sync(() => release !== undefined))
      const busy = yield* request(`${proxy.admin}/pools`)
      assert.strictEqual(busy.json.app.servers[0].activeRequests, 1)
      release!()
      assert.strictEqual((yield* fiber.await)._tag, "Success")
      yield* eventually("the request to finish", Effect.map(request(`${proxy.admin}/pools`), (r) => r.json.app.servers[0].activeRequests === 0))
    }))

  describe("PUT/DELETE /config/{kind}/{name}", () => {
    it.scopedLive("upserts a route from a JSON body and from a YAML body", () =>
      Effect.gen(function*() {
        const a = yield* Backends.make("a")
        const proxy = yield* start(config(a.url))
        assertNoRoute(yield* request(`${proxy.url}/json/x`))

        const json = yield* put(`${proxy.admin}/config/routes/x`, JSON.stringify({ match: { path: "/json/*" }, backends: [{ pool: "app" }] }))
        assert.strictEqual(json.status, 200, json.text)
        assert.deepStrictEqual(json.json, { version: 2 })
        const viaJson = yield* request(`${proxy.url}/json/x`)
        assert.strictEqual(viaJson.status, 200)
        assert.strictEqual(viaJson.json.server, "a")

        const yaml = yield* put(
          `${proxy.admin}/config/routes/y`,
          "match:\n  path: /yaml/*\nbackends:\n  - pool: app\ntimeout: 2s\n",
          { "content-type": "application/yaml" }
        )
        assert.strictEqual(yaml.status, 200, yaml.text)
        assert.deepStrictEqual(yaml.json, { version: 3 })
        assert.strictEqual((yield* request(`${proxy.url}/yaml/x`)).json.server, "a")
        // both are served, with the base route
        assert.strictEqual((yield* request(`${proxy.url}/json/x`)).status, 200)
        assert.strictEqual((yield* request(`${proxy.url}/api/x`)).status, 200)
        assert.strictEqual(yield* versionOf(proxy.admin), 3)
      }))

    it.scopedLive("answers 400 with every problem and changes nothing when the body is invalid", () =>
      Effect.gen(function*() {
        const a = yield* Backends.make("a")
        const proxy = yield* start(config(a.url))
        const before = yield* versionOf(proxy.admin)

        const unknownKey = yield* put(`${proxy.admin}/config/routes/api`, JSON.stringify({ backends: [{ pool: "app" }], colour: "red", timeout: "soon" }))
        assert.strictEqual(unknownKey.status, 400)
        const paths = (reply: Reply) => (reply.json.errors as Array<{ path: string; message: string }>).map((e) => e.path).sort()
        assert.deepStrictEqual(paths(unknownKey), ["routes.api.colour", "routes.api.timeout"])
        for (const error of unknownKey.json.errors) assert.isString(error.message)
        assert.strictEqual(unknownKey.json.errors.find((e: { path: string }) => e.path === "routes.api.colour").message.startsWith("unknown key"), true)

        const dangling = yield* put(`${proxy.admin}/config/routes/api`, JSON.stringify({ backends: [{ pool: "nope" }] }))
        assert.strictEqual(dangling.status, 400)
        assert.deepStrictEqual(paths(dangling), ["routes.api.backends[0].pool"])
        assert.include(dangling.json.errors[0].message, `pool "nope" is not defined`)

        const notYaml = yield* put(`${proxy.admin}/config/routes/api`, "backends: [", { "content-type": "application/yaml" })
        assert.strictEqual(notYaml.status, 400)
        assert.lengthOf(notYaml.json.errors, 1)

        const empty = yield* put(`${proxy.admin}/config/routes/api`, "")
        assert.strictEqual(empty.status, 400)

        const badName = yield* put(`${proxy.admin}/config/routes/-bad`, JSON.stringify({ backends: [{ pool: "app" }] }))
        assert.strictEqual(badName.status, 400)

        const unknownKind = yield* put(`${proxy.admin}/config/listeners/web`, JSON.stringify({ address: "127.0.0.1:0" }))
        assert.strictEqual(unknownKind.status, 404)

        // nothing changed
        assert.strictEqual(yield* versionOf(proxy.admin), before)
        const served = yield* request(`${proxy.url}/api/x`)
        assert.strictEqual(served.status, 200)
        assert.strictEqual(served.json.server, "a")
        const current = yield* request(`${proxy.admin}/config`)
        assert.deepStrictEqual(Object.keys(current.json.config.routes), ["api"])
        assert.deepStrictEqual(current.json.config.routes.api.backends, [{ pool: "app", weight: 1 }])
      }))

    it.scopedLive("DELETE removes an admin entity (then 404 no_route) and answers 404 for an unknown name", () =>
      Effect.gen(function*() {
        const a = yield* Backends.make("a")
        const proxy = yield* start(config(a.url))
        const created = yield* put(`${proxy.admin}/config/routes/x`, JSON.stringify({ match: { path: "/x/*" }, backends: [{ pool: "app" }] }))
        assert.strictEqual(created.status, 200, created.text)
        assert.strictEqual((yield* request(`${proxy.url}/x/1`)).status, 200)

        const removed = yield* del(`${proxy.admin}/config/routes/x`)
        assert.strictEqual(removed.status, 200, removed.text)
        assert.deepStrictEqual(removed.json, { version: created.json.version + 1 })
        assertNoRoute(yield* request(`${proxy.url}/x/1`))

        const again = yield* del(`${proxy.admin}/config/routes/x`)
        assert.strictEqual(again.status, 404)
        const unknown = yield* del(`${proxy.admin}/config/pools/never-defined`)
        assert.strictEqual(unknown.status, 404)
        // a base-document entity is not in the admin layer
        const base = yield* del(`${proxy.admin}/config/routes/api`)
        assert.strictEqual(base.status, 404)
        assert.strictEqual((yield* request(`${proxy.url}/api/x`)).status, 200)
        assert.strictEqual(yield* versionOf(proxy.admin), removed.json.version)
      }))

    it.scopedLive("accepts a pool, then a route using it", () =>
      Effect.gen(function*() {
        const a = yield* Backends.make("a")
        const b = yield* Backends.make("b")
        const proxy = yield* start(config(a.url))
        // the route alone refers to a pool that does not exist yet
        const early = yield* put(`${proxy.admin}/config/routes/b`, JSON.stringify({ match: { path: "/b/*" }, backends: [{ pool: "pb" }] }))
        assert.strictEqual(early.status, 400)

        const pool = yield* put(`${proxy.admin}/config/pools/pb`, `servers:\n  - url: "${b.url}"\n`, { "content-type": "application/yaml" })
        assert.strictEqual(pool.status, 200, pool.text)
        const route = yield* put(`${proxy.admin}/config/routes/b`, JSON.stringify({ match: { path: "/b/*" }, backends: [{ pool: "pb" }] }))
        assert.strictEqual(route.status, 200, route.text)
        assert.strictEqual((yield* request(`${proxy.url}/b/1`)).json.server, "b")
        const pools = yield* request(`${proxy.admin}/pools`)
        assert.deepStrictEqual(Object.keys(pools.json).sort(), ["app", "pb"])

        // a pool in use cannot be removed while a route refers to it
        const inUse = yield* del(`${proxy.admin}/config/pools/pb`)
        assert.strictEqual(inUse.status, 400)
        assert.deepStrictEqual(inUse.json.errors.map((e: { path: string }) => e.path), ["routes.b.backends[0].pool"])
        assert.strictEqual((yield* request(`${proxy.url}/b/1`)).json.server, "b")
      }))

    it.scopedLive("the admin layer wins over the base document for the same name, until deleted", () =>
      Effect.gen(function*() {
        const a = yield* Backends.make("a")
        const b = yield* Backends.make("b")
        const proxy = yield* start(config(a.url, {
          pools: { app: { servers: [{ url: a.url }] }, other: { servers: [{ url: b.url }] } }
        }))
        assert.strictEqual((yield* request(`${proxy.url}/api/x`)).json.server, "a")

        const override = yield* put(`${proxy.admin}/config/routes/api`, JSON.stringify({ match: { path: "/api/*" }, backends: [{ pool: "other" }] }))
        assert.strictEqual(override.status, 200, override.text)
        assert.strictEqual((yield* request(`${proxy.url}/api/x`)).json.server, "b")
        const shown = yield* request(`${proxy.admin}/config`)
        assert.deepStrictEqual(shown.json.config.routes.api.backends, [{ pool: "other", weight: 1 }])

        // the same for a pool: the base route now reaches the admin layer's pool
        const pool = yield* put(`${proxy.admin}/config/pools/app`, JSON.stringify({ servers: [{ url: b.url }] }))
        assert.strictEqual(pool.status, 200, pool.text)

        const removed = yield* del(`${proxy.admin}/config/routes/api`)
        assert.strictEqual(removed.status, 200, removed.text)
        // the base document's route is back, on the admin layer's pool "app"
        assert.strictEqual((yield* request(`${proxy.url}/api/x`)).json.server, "b")
        assert.strictEqual((yield* del(`${proxy.admin}/config/pools/app`)).status, 200)
        assert.strictEqual((yield* request(`${proxy.url}/api/x`)).json.server, "a")
      }))
  })

  it.scopedLive("GET /events streams config.applied and config.rejected", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url))
      const stream = yield* events(`${proxy.admin}/events`)
      assert.strictEqual(stream.status, 200)
      assert.match(String(stream.contentType), /^text\/event-stream/)

      const ok = yield* put(`${proxy.admin}/config/routes/x`, JSON.stringify({ match: { path: "/x/*" }, backends: [{ pool: "app" }] }))
      assert.strictEqual(ok.status, 200, ok.text)
      const applied = yield* stream.next((e) => e.event === "config.applied")
      assert.strictEqual(applied.data.type, "config.applied")
      assert.strictEqual(applied.data.version, ok.json.version)
      assert.isFalse(Number.isNaN(Date.parse(applied.data.time)), applied.data.time)

      const bad = yield* put(`${proxy.admin}/config/routes/y`, JSON.stringify({ backends: [{ pool: "nope" }] }))
      assert.strictEqual(bad.status, 400)
      const rejected = yield* stream.next((e) => e.event === "config.rejected")
      assert.strictEqual(rejected.data.type, "config.rejected")
      assert.isString(rejected.data.time)
      assert.isTrue(
        (rejected.data.errors as Array<{ path: string; message: string }>).some((e) =>
          e.path === "routes.y.backends[0].pool" && e.message.includes(`pool "nope" is not defined`)
        ),
        JSON.stringify(rejected.data)
      )
      // every event so far, in order
      assert.deepStrictEqual(stream.events.map((e) => e.event), ["config.applied", "config.rejected"])
    }))

  it.scopedLive("GET /events also reports a PUT rejected for its own body as config.rejected", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      const proxy = yield* start(config(a.url))
      const stream = yield* events(`${proxy.admin}/events`)
      const bad = yield* put(`${proxy.admin}/config/routes/y`, JSON.stringify({ backends: [{ pool: "app" }], colour: "red" }))
      assert.strictEqual(bad.status, 400)
      const rejected = yield* stream.next((e) => e.event === "config.rejected", "1 second")
      assert.deepStrictEqual(rejected.data.errors.map((e: { path: string }) => e.path), ["routes.y.colour"])
    }))

  it.scopedLive("keeps the admin API and the data plane on separate ports", () =>
    Effect.gen(function*() {
      const a = yield* Backends.make("a")
      // no catch-all route: only /api/* is proxied
      const proxy = yield* start(config(a.url))
      assert.notStrictEqual(proxy.url, proxy.admin)
      // the admin port does not proxy
      const viaAdmin = yield* request(`${proxy.admin}/api/x`)
      assert.strictEqual(viaAdmin.status, 404)
      assert.strictEqual(viaAdmin.json.error, "not_found")
      assert.lengthOf(a.seen, 0)
      // the data port serves no admin endpoint
      for (const path of ["/metrics", "/healthz", "/readyz", "/config", "/pools", "/events"]) {
        assertNoRoute(yield* request(`${proxy.url}${path}`))
      }
      const write = yield* put(`${proxy.url}/config/routes/x`, JSON.stringify({ backends: [{ pool: "app" }] }))
      assertNoRoute(write)
      assert.strictEqual(yield* versionOf(proxy.admin), 1)
    }))
})
