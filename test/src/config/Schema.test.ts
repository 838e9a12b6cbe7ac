import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as Address from "../../../src/config/Address.js"
import * as Duration from "../../../src/config/Duration.js"
import {
  HeadersMiddlewareConfig,
  ListenerConfig,
  MiddlewareConfig,
  PoolConfig,
  RateLimitMiddlewareConfig,
  RouteConfig,
  SwitchyardConfig
} from "../../../src/config/Schema.js"

const options = { errors: "all", onExcessProperty: "error" } as const
const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown): A => Schema.decodeUnknownSync(schema)(input, options)
const fails = <A, I>(schema: Schema.Schema<A, I>, input: unknown): boolean =>
  Either.isLeft(Schema.decodeUnknownEither(schema)(input, options))

const limits = {
  maxHeaderBytes: 16384,
  maxBodyBytes: null,
  headersTimeout: 10_000,
  requestTimeout: 300_000,
  idleTimeout: 60_000,
  sendTimeout: 60_000,
  maxHeaderCount: 100,
  maxConnections: null
}

describe("Schema", () => {
  describe("defaults", () => {
    it("fills every default of a minimal document", () => {
      const config = decode(SwitchyardConfig, { listeners: { web: { address: "127.0.0.1:8080" } } })
      assert.deepStrictEqual(config, {
        listeners: {
          web: { address: "127.0.0.1:8080", tls: null, http2: false, trustedProxies: [], limits }
        },
        routes: {},
        pools: {},
        middlewares: {},
        admin: { address: "127.0.0.1:9901", token: null },
        observability: {
          logs: { level: "info", format: "json", accessLog: true },
          metrics: { enabled: true },
          tracing: { endpoint: null, serviceName: "switchyard", sampleRatio: 1 }
        },
        sources: {
          file: { watch: true },
          env: { prefix: "SWITCHYARD__" },
          etcd: null,
          consul: null
        },
        shutdownTimeout: 30_000
      })
    })

    it("fills nested defaults of partly given sections", () => {
      const config = decode(SwitchyardConfig, {
        listeners: { web: { address: "127.0.0.1:8080", limits: { maxHeaderCount: 50 } } },
        admin: { token: "t" },
        observability: { tracing: { sampleRatio: 0.5 } },
        sources: { etcd: {}, consul: {} }
      })
      assert.deepStrictEqual(config.listeners.web!.limits, { ...limits, maxHeaderCount: 50 })
      assert.deepStrictEqual(config.admin, { address: "127.0.0.1:9901", token: "t" })
      assert.deepStrictEqual(config.observability.tracing, { endpoint: null, serviceName: "switchyard", sampleRatio: 0.5 })
      assert.deepStrictEqual(config.sources.etcd, {
        endpoints: ["http://127.0.0.1:2379"],
        prefix: "/switchyard/",
        username: null,
        password: null
      })
      assert.deepStrictEqual(config.sources.consul, { address: "http://127.0.0.1:8500", prefix: "switchyard/", token: null })
    })

    it("lets null disable the admin API", () => {
      const config = decode(SwitchyardConfig, { listeners: { web: { address: "127.0.0.1:1" } }, admin: { address: null } })
      assert.strictEqual(config.admin.address, null)
    })

    it("fills every route default", () => {
      assert.deepStrictEqual(decode(RouteConfig, { backends: [{ pool: "p" }] }), {
        listeners: null,
        match: {},
        priority: 0,
        middlewares: [],
        backends: [{ pool: "p", weight: 1 }],
        fallback: null,
        timeout: 30_000,
        stripPrefix: false,
        websocket: false,
        websocketIdleTimeout: 300_000,
        preserveHost: true,
        retry: null
      })
    })

    it("fills every retry default", () => {
      assert.deepStrictEqual(decode(RouteConfig, { backends: [{ pool: "p" }], retry: {} }).retry, {
        attempts: 1,
        perTryTimeout: null,
        backoff: { initial: 25, max: 250, multiplier: 2, jitter: true },
        retryOn: ["connect-failure", "refused-stream", "reset", "502", "503", "504"],
        methods: ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"],
        budget: { ratio: 0.2, minPerSecond: 10 }
      })
    })

    it("keeps retryOn status codes as strings, whether written as strings or numbers", () => {
      const route = decode(RouteConfig, { backends: [{ pool: "p" }], retry: { retryOn: ["reset", 503, "429"] } })
      assert.deepStrictEqual(route.retry?.retryOn, ["reset", "503", "429"])
    })

    it("fills every pool default", () => {
      assert.deepStrictEqual(decode(PoolConfig, {}), {
        loadBalancer: "round-robin",
        hashOn: "client-ip",
        servers: [],
        discovery: null,
        healthCheck: null,
        circuitBreaker: null,
        panicThreshold: 0,
        connection: { maxConnectionsPerServer: 128, connectTimeout: 5_000, idleTimeout: 30_000, http2: false },
        tls: { caFile: null, serverName: null, certFile: null, keyFile: null, insecureSkipVerify: false }
      })
      assert.deepStrictEqual(decode(PoolConfig, { servers: [{ url: "http://a:1" }] }).servers, [{
        url: "http://a:1",
        weight: 1
      }])
    })

    it("fills discovery, health check and circuit breaker defaults", () => {
      const pool = decode(PoolConfig, {
        discovery: { consul: { service: "api" } },
        healthCheck: { active: {}, passive: {} },
        circuitBreaker: {}
      })
      assert.deepStrictEqual(pool.discovery, {
        consul: { service: "api", tags: [], passingOnly: true, address: null, token: null }
      })
      assert.deepStrictEqual(pool.healthCheck, {
        active: {
          path: "/healthz",
          interval: 10_000,
          timeout: 2_000,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
          expectedStatus: "200-399",
          method: "GET",
          headers: {}
        },
        passive: { consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000, maxEjectionPercent: 50 }
      })
      assert.deepStrictEqual(decode(PoolConfig, { healthCheck: {} }).healthCheck, { active: null, passive: null })
      assert.deepStrictEqual(pool.circuitBreaker, {
        failureRatio: 0.5,
        minimumRequests: 20,
        window: 10_000,
        openFor: 30_000,
        halfOpenRequests: 3
      })
    })

    it("resolves listener http2 from tls: on with TLS, off without, explicit value wins", () => {
      const tls = { certificates: [{ certFile: "a.pem", keyFile: "a-key.pem" }] }
      assert.strictEqual(decode(ListenerConfig, { address: "127.0.0.1:1" }).http2, false)
      assert.strictEqual(decode(ListenerConfig, { address: "127.0.0.1:1", http2: true }).http2, true)
      const secure = decode(ListenerConfig, { address: "127.0.0.1:1", tls })
      assert.strictEqual(secure.http2, true)
      assert.deepStrictEqual(secure.tls, { certificates: tls.certificates, minVersion: "TLSv1.2", clientAuth: null })
      assert.strictEqual(decode(ListenerConfig, { address: "127.0.0.1:1", tls, http2: false }).http2, false)
      assert.deepStrictEqual(
        decode(ListenerConfig, { address: "127.0.0.1:1", tls: { ...tls, clientAuth: { caFile: "ca.pem" } } }).tls
          ?.clientAuth,
        { caFile: "ca.pem", required: true }
      )
    })

    it("fills headers middleware defaults and lower-cases header names", () => {
      assert.deepStrictEqual(decode(HeadersMiddlewareConfig, { type: "headers" }), {
        type: "headers",
        request: { set: {}, add: {}, remove: [] },
        response: { set: {}, add: {}, remove: [] }
      })
      assert.deepStrictEqual(
        decode(HeadersMiddlewareConfig, {
          type: "headers",
          request: { set: { "X-Env": "prod" }, remove: ["X-Debug"] }
        }).request,
        { set: { "x-env": "prod" }, add: {}, remove: ["x-debug"] }
      )
    })

    it("defaults a rate limit's burst to its average", () => {
      assert.deepStrictEqual(decode(RateLimitMiddlewareConfig, { type: "rate-limit", average: 100 }), {
        type: "rate-limit",
        average: 100,
        period: 1_000,
        burst: 100,
        key: "client-ip",
        store: "memory"
      })
      const config = decode(RateLimitMiddlewareConfig, {
        type: "rate-limit",
        average: 10,
        burst: 3,
        period: "1m",
        key: "header:X-Api-Key",
        store: "redis"
      })
      assert.strictEqual(config.burst, 3)
      assert.strictEqual(config.period, 60_000)
    })

    it("accepts the planned middleware types with any options", () => {
      assert.deepStrictEqual(decode(MiddlewareConfig, { type: "cors", allowOrigins: ["*"] }), {
        type: "cors",
        allowOrigins: ["*"]
      })
      assert.isTrue(fails(MiddlewareConfig, { type: "nope" }))
    })
  })

  describe("normalisation", () => {
    it("stores hosts lower-case, methods upper-case and header condition names lower-case", () => {
      const route = decode(RouteConfig, {
        backends: [{ pool: "p" }],
        match: {
          hosts: ["API.Example.com", "*.Example.COM"],
          methods: ["get", "Post"],
          headers: [{ name: "X-Canary", value: "On" }],
          query: [{ name: "Debug", present: true }]
        }
      })
      assert.deepStrictEqual(route.match, {
        hosts: ["api.example.com", "*.example.com"],
        methods: ["GET", "POST"],
        headers: [{ name: "x-canary", value: "On" }],
        query: [{ name: "Debug", present: true }]
      })
    })

    it("leaves absent match fields absent", () => {
      const match = decode(RouteConfig, { backends: [{ pool: "p" }], match: { path: "/a" } }).match
      assert.deepStrictEqual(Object.keys(match), ["path"])
      assert.isUndefined(match.hosts)
    })
  })

  describe("rules", () => {
    it("validates paths, regexes and conditions", () => {
      const route = (match: unknown) => ({ backends: [{ pool: "p" }], match })
      for (const path of ["/", "/a", "/a/*", "/*"]) assert.isFalse(fails(RouteConfig, route({ path })), path)
      for (const path of ["a", "/a*", "/*/b", "/a b", "/a?x"]) assert.isTrue(fails(RouteConfig, route({ path })), path)
      assert.isTrue(fails(RouteConfig, route({ pathRegex: "(" })))
      assert.isTrue(fails(RouteConfig, route({ path: "/a", pathRegex: "^/a" })))
      assert.isTrue(fails(RouteConfig, route({ headers: [{ name: "x" }] })))
      assert.isTrue(fails(RouteConfig, route({ headers: [{ name: "x", value: "1", regex: "1" }] })))
      assert.isTrue(fails(RouteConfig, route({ query: [{ name: "x", regex: "[" }] })))
      assert.isFalse(fails(RouteConfig, route({ query: [{ name: "x", regex: "^[0-9]+$" }] })))
      assert.isTrue(fails(RouteConfig, route({ hosts: ["bad host"] })))
      assert.isTrue(fails(RouteConfig, route({ methods: ["GE T"] })))
    })

    it("validates server URLs", () => {
      const pool = (url: string) => ({ servers: [{ url }] })
      for (const url of ["http://a:1", "https://10.0.0.1", "http://[::1]:9000/", "http://a.example.com:8080/"]) {
        assert.isFalse(fails(PoolConfig, pool(url)), url)
      }
      for (const url of ["a:1", "ftp://a", "http://a/path", "http://a/?q=1", "http://u:p@a", "/relative"]) {
        assert.isTrue(fails(PoolConfig, pool(url)), url)
      }
    })

    it("validates hashOn", () => {
      for (const hashOn of ["client-ip", "path", "header:x-user", "cookie:sid", "query:user"]) {
        assert.isFalse(fails(PoolConfig, { hashOn }), hashOn)
      }
      for (const hashOn of ["ip", "header:", "header:a b", "cookie:"]) assert.isTrue(fails(PoolConfig, { hashOn }), hashOn)
    })

    it("rejects header values with CR, LF or NUL", () => {
      for (const value of ["a\r\nb", "a\nb", "a\u0000b"]) {
        assert.isTrue(fails(HeadersMiddlewareConfig, { type: "headers", request: { set: { "x-a": value } } }))
      }
      assert.isTrue(fails(HeadersMiddlewareConfig, { type: "headers", request: { set: { "bad name": "v" } } }))
      assert.isTrue(fails(HeadersMiddlewareConfig, { type: "headers", request: { set: { "X-A": "1", "x-a": "2" } } }))
    })

    it("rejects numbers out of range", () => {
      assert.isTrue(fails(PoolConfig, { panicThreshold: 101 }))
      assert.isTrue(fails(PoolConfig, { servers: [{ url: "http://a:1", weight: -1 }] }))
      assert.isTrue(fails(RouteConfig, { backends: [{ pool: "p" }], priority: 1.5 }))
      assert.isTrue(fails(RateLimitMiddlewareConfig, { type: "rate-limit", average: 0 }))
      assert.isTrue(fails(SwitchyardConfig, {
        listeners: { web: { address: "127.0.0.1:1" } },
        observability: { tracing: { sampleRatio: 2 } }
      }))
    })
  })

  describe("Duration", () => {
    it("decodes strings with units and numbers of milliseconds", () => {
      const cases: ReadonlyArray<readonly [unknown, number]> = [
        ["250ms", 250],
        ["5s", 5_000],
        ["1.5s", 1_500],
        ["1m", 60_000],
        ["1h", 3_600_000],
        ["1m30s", 90_000],
        ["0s", 0],
        [0, 0],
        [1500, 1500],
        [2.5, 2.5]
      ]
      for (const [input, ms] of cases) assert.strictEqual(decode(Duration.Duration, input), ms, String(input))
    })

    it("rejects anything else", () => {
      for (const input of ["5 seconds", "5", "", "-1s", "1d", "s", "1.s", -1, Number.NaN, Infinity, true, null, {}]) {
        assert.isTrue(fails(Duration.Duration, input), String(input))
      }
    })

    it("is at most 2^31 − 1 ms (Node's timers fire at once beyond it), with the limit in the message", () => {
      assert.strictEqual(decode(Duration.Duration, "596h"), 596 * 3_600_000)
      assert.strictEqual(decode(Duration.Duration, Duration.MAX_MS), Duration.MAX_MS)
      for (const input of ["597h", Duration.MAX_MS + 1, "1000000h"]) {
        assert.isTrue(fails(Duration.Duration, input), String(input))
      }
      const result = Schema.decodeUnknownEither(Duration.Duration)("600h")
      assert.isTrue(result._tag === "Left" && String(result.left.message).includes("at most 596h"))
    })

    it("encodes back to the shortest unit", () => {
      const encode = Schema.encodeSync(Duration.Duration)
      assert.strictEqual(encode(30_000), "30s")
      assert.strictEqual(encode(300_000), "5m")
      assert.strictEqual(encode(7_200_000), "2h")
      assert.strictEqual(encode(250), "250ms")
      assert.strictEqual(encode(1_500), "1500ms")
      assert.strictEqual(encode(0), "0ms")
    })

    it("parses and formats without the schema", () => {
      assert.strictEqual(Duration.parse("2m"), 120_000)
      assert.isUndefined(Duration.parse("2 m"))
      assert.strictEqual(Duration.format(60_000), "1m")
    })
  })

  describe("Address", () => {
    it("parses host:port, with IPv6 in brackets", () => {
      assert.deepStrictEqual(Address.parseAddress("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 })
      assert.deepStrictEqual(Address.parseAddress("localhost:0"), { host: "localhost", port: 0 })
      assert.deepStrictEqual(Address.parseAddress("example.com:65535"), { host: "example.com", port: 65535 })
      assert.deepStrictEqual(Address.parseAddress("[::1]:8080"), { host: "::1", port: 8080 })
      assert.deepStrictEqual(Address.parseAddress("[::]:80"), { host: "::", port: 80 })
      assert.deepStrictEqual(Address.parseAddress("[fe80::1:2]:443"), { host: "fe80::1:2", port: 443 })
      assert.deepStrictEqual(Address.parseAddress("[::ffff:10.0.0.1]:1"), { host: "::ffff:10.0.0.1", port: 1 })
    })

    it("explains invalid addresses", () => {
      const invalid = [
        "127.0.0.1",
        ":8080",
        "::1:8080",
        "[::1]",
        "[::1]8080",
        "[zz::1]:80",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:http",
        "256.0.0.1:80",
        "bad host:80",
        "-a.com:80"
      ]
      for (const address of invalid) {
        assert.isDefined(Address.addressProblem(address), address)
        assert.throws(() => Address.parseAddress(address))
      }
      assert.include(Address.addressProblem("::1:8080"), "brackets")
      assert.include(Address.addressProblem("127.0.0.1:65536"), "0 to 65535")
      assert.isTrue(fails(ListenerConfig, { address: "::1:8080" }))
    })

    it("recognises IPv4 and IPv6 addresses", () => {
      for (const ip of ["0.0.0.0", "10.0.0.1", "255.255.255.255"]) assert.isTrue(Address.isIPv4(ip), ip)
      for (const ip of ["256.0.0.1", "1.2.3", "01.2.3.4", "a.b.c.d"]) assert.isFalse(Address.isIPv4(ip), ip)
      for (const ip of ["::", "::1", "1::", "fe80::1", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4"]) {
        assert.isTrue(Address.isIPv6(ip), ip)
      }
      for (const ip of [":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:1.2.3.4", "1.2.3.4"]) {
        assert.isFalse(Address.isIPv6(ip), ip)
      }
    })

    it("parses CIDRs and plain addresses for trustedProxies", () => {
      assert.deepStrictEqual(Address.parseCidr("10.0.0.0/8"), { address: "10.0.0.0", family: 4, prefix: 8 })
      assert.deepStrictEqual(Address.parseCidr("127.0.0.1"), { address: "127.0.0.1", family: 4, prefix: 32 })
      assert.deepStrictEqual(Address.parseCidr("fd00::/8"), { address: "fd00::", family: 6, prefix: 8 })
      assert.deepStrictEqual(Address.parseCidr("::1"), { address: "::1", family: 6, prefix: 128 })
      for (const cidr of ["10.0.0.0/33", "::/129", "10.0.0.0/", "host/8", "10.0.0.0/8/8"]) {
        assert.isUndefined(Address.parseCidr(cidr), cidr)
      }
      assert.deepStrictEqual(
        decode(ListenerConfig, { address: "127.0.0.1:1", trustedProxies: ["10.0.0.0/8", "::1", "fd00::/8"] })
          .trustedProxies,
        ["10.0.0.0/8", "::1", "fd00::/8"]
      )
      assert.isTrue(fails(ListenerConfig, { address: "127.0.0.1:1", trustedProxies: ["10.0.0.0/33"] }))
    })
  })
})
