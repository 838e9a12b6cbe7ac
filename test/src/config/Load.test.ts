import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { fileURLToPath } from "node:url"
import type { ConfigError, ConfigProblem } from "../../../src/config/ConfigError.js"
import * as Load from "../../../src/config/Load.js"
import { SwitchyardConfig } from "../../../src/config/Schema.js"

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/config/${name}`, import.meta.url))

const loadFile = (name: string, env: Load.Env = {}) =>
  Load.loadFile(fixture(name), env)

const problemsOf = <A>(effect: Effect.Effect<A, ConfigError>) =>
  Effect.map(Effect.flip(effect), (error): ReadonlyArray<ConfigProblem> => error.problems)

const find = (problems: ReadonlyArray<ConfigProblem>, path: string): ConfigProblem => {
  const problem = problems.find((p) => p.path === path)
  assert.isDefined(problem, `no problem at ${path}; problems:\n${problems.map((p) => `${p.path}: ${p.message}`).join("\n")}`)
  return problem!
}

const minimal = { listeners: { web: { address: "127.0.0.1:8080" } } }

describe("Load", () => {
  describe("formatOf", () => {
    it.effect("chooses the format by extension", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Load.formatOf("a.yaml"), "yaml")
        assert.strictEqual(yield* Load.formatOf("/etc/x/a.YML"), "yaml")
        assert.strictEqual(yield* Load.formatOf("a.json"), "json")
        assert.strictEqual(yield* Load.formatOf("a.toml"), "toml")
        const [problem] = yield* problemsOf(Load.formatOf("a.ini"))
        assert.deepStrictEqual(problem, {
          file: "a.ini",
          path: "",
          message: `expected a .yaml, .yml, .json or .toml file, found ".ini"`
        })
      }))
  })

  describe("loadFile", () => {
    it.effect("decodes the YAML, JSON and TOML versions of a document to the same config", () =>
      Effect.gen(function*() {
        const yaml = yield* loadFile("basic.yaml")
        const json = yield* loadFile("basic.json")
        const toml = yield* loadFile("basic.toml")
        assert.deepStrictEqual(json, yaml)
        assert.deepStrictEqual(toml, yaml)
        assert.strictEqual(yaml.routes.api!.timeout, 1_500)
        assert.deepStrictEqual(yaml.routes.api!.match.hosts, ["api.example.com", "*.example.com"])
        assert.deepStrictEqual(yaml.middlewares.hdrs, {
          type: "headers",
          request: { set: { "x-env": "prod" }, add: {}, remove: ["x-debug"] },
          response: { set: {}, add: { "x-served-by": "switchyard" }, remove: [] }
        })
        assert.deepStrictEqual(yaml.listeners.v6!.address, "[::1]:8081")
        assert.strictEqual(yaml.shutdownTimeout, 10_000)
      }))

    it.effect("accepts every key of the contract's example; only its dangling references and unbuilt features are problems", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(loadFile("contract.yaml"))
        const [references, unsupported] = [
          problems.filter((p) => p.message.includes("is not defined")),
          problems.filter((p) => p.message.startsWith("not supported yet"))
        ]
        assert.deepStrictEqual(references.map((p) => p.path), [
          "routes.api.backends[1].pool",
          "routes.api.fallback",
          "routes.api.middlewares[1]"
        ])
        assert.lengthOf(unsupported, 7)
        assert.strictEqual(references.length + unsupported.length, problems.length)
      }))

    it.effect("reports a file that cannot be read", () =>
      Effect.gen(function*() {
        const [problem, ...rest] = yield* problemsOf(loadFile("does-not-exist.yaml"))
        assert.lengthOf(rest, 0)
        assert.strictEqual(problem!.file, fixture("does-not-exist.yaml"))
        assert.include(problem!.message, "cannot read the file")
      }))

    it.effect("reports an unknown extension", () =>
      Effect.gen(function*() {
        const [problem] = yield* problemsOf(loadFile("wrong.ini"))
        assert.include(problem!.message, `found ".ini"`)
      }))

    it.effect("reports every problem of a broken file at once, schema and references together", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(loadFile("broken.yaml"))
        for (const p of problems) assert.strictEqual(p.file, fixture("broken.yaml"))
        assert.isTrue(find(problems, "routes.api.tmeout").message.startsWith(`unknown key (did you mean "timeout"?): expected one of `), find(problems, "routes.api.tmeout").message)
        assert.strictEqual(
          find(problems, "routes.api.timeout").message,
          `expected a duration such as "250ms", "5s" or a number of milliseconds, found "5 seconds"`
        )
        assert.strictEqual(
          find(problems, "pools.b.servers").message,
          "expected at least one server, or a discovery section, found neither"
        )
        assert.lengthOf(problems, 3)
      }))

    it.effect("names the line and column of YAML, JSON and TOML syntax errors", () =>
      Effect.gen(function*() {
        const yaml = yield* problemsOf(loadFile("syntax-error.yaml"))
        assert.strictEqual(yaml[0]!.file, fixture("syntax-error.yaml"))
        assert.strictEqual(yaml[0]!.path, "")
        assert.match(yaml[0]!.message, /^invalid YAML at line \d+, column \d+: /)
        const [json] = yield* problemsOf(loadFile("syntax-error.json"))
        assert.match(json!.message, /^invalid JSON at line 3, column \d+: /)
        const [toml] = yield* problemsOf(loadFile("syntax-error.toml"))
        assert.match(toml!.message, /^invalid TOML at line 3, column \d+: /)
      }))

    it.effect("interpolates environment variables while loading", () =>
      Effect.gen(function*() {
        const config = yield* loadFile("interpolated.yaml", { PORT: "8081", APP_HOST: "10.1.2.3", SUFFIX: "x" })
        assert.strictEqual(config.listeners.web!.address, "127.0.0.1:8081")
        assert.strictEqual(config.routes.api!.timeout, 5_000)
        assert.strictEqual(config.pools.app!.servers[0]!.url, "http://10.1.2.3:9000")
        const hdrs = config.middlewares.hdrs!
        assert.strictEqual(hdrs.type, "headers")
        if (hdrs.type === "headers") {
          assert.deepStrictEqual(hdrs.request.set, { "x-literal": "${NOT_A_VAR}", "x-mixed": "a-x-b" })
        }
        assert.strictEqual(config.admin.token, "changeme")
      }))

    it.effect("reports every missing variable with its key path", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(loadFile("interpolated.yaml", { SUFFIX: "x" }))
        assert.deepStrictEqual(problems.map((p) => p.path), ["listeners.web.address", "pools.app.servers[0].url"])
        assert.include(find(problems, "listeners.web.address").message, "environment variable PORT is not set")
        assert.include(find(problems, "pools.app.servers[0].url").message, "APP_HOST")
      }))

    it.effect("reports missing variables together with the document's other problems, once per key", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(loadFile("interpolated.yaml", { SUFFIX: "x", API_TIMEOUT: "soon" }))
        assert.deepStrictEqual(problems.map((p) => p.path), ["listeners.web.address", "pools.app.servers[0].url", "routes.api.timeout"])
        assert.include(find(problems, "routes.api.timeout").message, `found "soon"`)
      }))
  })

  describe("parseText", () => {
    it.effect("parses each format", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* Load.parseText("a: 1\nb: [x, 'y']\n", "yaml", "f.yaml"), { a: 1, b: ["x", "y"] })
        assert.deepStrictEqual(yield* Load.parseText(`{"a": 1}`, "json", "f.json"), { a: 1 })
        assert.deepStrictEqual(yield* Load.parseText(`a = 1\n[b]\nc = "d"\n`, "toml", "f.toml"), { a: 1, b: { c: "d" } })
      }))

    it.effect("reports YAML syntax errors with the file, line and column", () =>
      Effect.gen(function*() {
        const [problem] = yield* problemsOf(Load.parseText("a: 1\nb: [1, 2\nc: 3\n", "yaml", "f.yaml"))
        assert.strictEqual(problem!.file, "f.yaml")
        assert.match(problem!.message, /^invalid YAML at line \d+, column \d+: .+/)
      }))

    it.effect("reports duplicate YAML keys", () =>
      Effect.gen(function*() {
        const [problem] = yield* problemsOf(Load.parseText("a: 1\na: 2\n", "yaml", "f.yaml"))
        assert.match(problem!.message, /^invalid YAML at line 2, column 1: /)
      }))

    it.effect("reports JSON syntax errors with line and column", () =>
      Effect.gen(function*() {
        const [problem] = yield* problemsOf(Load.parseText(`{\n  "a": 1,\n  oops\n}`, "json", "f.json"))
        assert.match(problem!.message, /^invalid JSON at line 3, column 3: /)
      }))

    it.effect("reports duplicate JSON keys, every one, with line and column (JSON.parse would keep the last)", () =>
      Effect.gen(function*() {
        const text = `{\n  "shutdownTimeout": "5s",\n  "pools": { "a": {}, "a": {} },\n  "shutdownTimeout": "1s"\n}`
        const problems = yield* problemsOf(Load.parseText(text, "json", "f.json"))
        assert.deepStrictEqual(problems.map((p) => p.message), [
          `invalid JSON at line 3, column 23: duplicate key "a" (the first one would be ignored)`,
          `invalid JSON at line 4, column 3: duplicate key "shutdownTimeout" (the first one would be ignored)`
        ])
        assert.deepStrictEqual(yield* Load.parseText(`{"a": {"b": 1}, "b": [{"a": 1}, {"a": 2}]}`, "json", "f.json"), {
          a: { b: 1 },
          b: [{ a: 1 }, { a: 2 }]
        })
      }))

    it.effect("reports TOML syntax errors with line and column", () =>
      Effect.gen(function*() {
        const [problem] = yield* problemsOf(Load.parseText(`a = 1\nb = = 2\n`, "toml", "f.toml"))
        assert.match(problem!.message, /^invalid TOML at line 2, column \d+: /)
      }))
  })

  describe("interpolate", () => {
    const env = { HOST: "example.com", EMPTY: "", PORT: "80" }

    it.effect("replaces ${VAR} and ${VAR:-default} in string values, whole or part", () =>
      Effect.gen(function*() {
        const out = yield* Load.interpolate(
          {
            a: "${HOST}",
            b: "http://${HOST}:${PORT}/",
            c: "${UNSET:-fallback}",
            d: "${EMPTY:-used when empty}",
            e: "${HOST:-ignored}",
            f: ["${PORT}", 1, true, null],
            g: { "${HOST}": "key untouched" },
            h: "${UNSET:-}"
          },
          env,
          "f.yaml"
        )
        assert.deepStrictEqual(out, {
          a: "example.com",
          b: "http://example.com:80/",
          c: "fallback",
          d: "used when empty",
          e: "example.com",
          f: ["80", 1, true, null],
          g: { "${HOST}": "key untouched" },
          h: ""
        })
      }))

    it.effect("keeps $${ as a literal ${", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Load.interpolate("$${HOST} and ${HOST}", env, "f.yaml"), "${HOST} and example.com")
        assert.strictEqual(yield* Load.interpolate("cost: $5", env, "f.yaml"), "cost: $5")
      }))

    it.effect("expands references inside a default (${A:-${B:-x}}), only when the default is used", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Load.interpolate("${UNSET:-${HOST}}:80", env, "f.yaml"), "example.com:80")
        assert.strictEqual(yield* Load.interpolate("${UNSET:-${ALSO_UNSET:-x}}", env, "f.yaml"), "x")
        assert.strictEqual(yield* Load.interpolate("${HOST:-${MISSING}}", env, "f.yaml"), "example.com")
        assert.strictEqual(yield* Load.interpolate("${UNSET:-$${HOST}}", env, "f.yaml"), "${HOST}")
        const problems = yield* problemsOf(Load.interpolate("${UNSET:-${MISSING}}", env, "f.yaml"))
        assert.deepStrictEqual(problems.map((p) => p.message), [
          "environment variable MISSING is not set (referenced as ${MISSING}; write ${MISSING:-default} to give a default)"
        ])
      }))

    it.effect("keeps an empty variable without a default", () =>
      Effect.gen(function*() {
        assert.strictEqual(yield* Load.interpolate("[${EMPTY}]", env, "f.yaml"), "[]")
      }))

    it.effect("reports every missing variable and malformed reference with its key path", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(
          Load.interpolate({ a: { b: ["ok", "${MISSING}"] }, c: "${1BAD}", d: "${OPEN" }, env, "f.yaml")
        )
        assert.deepStrictEqual(problems, [
          {
            file: "f.yaml",
            path: "a.b[1]",
            message: "environment variable MISSING is not set (referenced as ${MISSING}; write ${MISSING:-default} to give a default)"
          },
          { file: "f.yaml", path: "c", message: `expected \${VAR} or \${VAR:-default}, found "\${1BAD}"` },
          {
            file: "f.yaml",
            path: "d",
            message: `expected \${VAR} or \${VAR:-default}, found an unterminated "\${OPEN" (write $\${ for a literal \${)`
          }
        ])
      }))
  })

  describe("decode", () => {
    it.effect("reports unknown keys anywhere, with their key path", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(Load.decode({
          ...minimal,
          listners: {},
          routes: { api: { backends: [{ pool: "p", wieght: 1 }], match: { host: ["a"] } } },
          pools: { p: { servers: [{ url: "http://a:1" }], connection: { zzz: 1 } } },
          admin: { tokn: "x" }
        }, "f.yaml"))
        assert.isTrue(find(problems, "listners").message.startsWith(`unknown key (did you mean "listeners"?): expected one of `), find(problems, "listners").message)
        assert.isTrue(find(problems, "routes.api.backends[0].wieght").message.startsWith(`unknown key (did you mean "weight"?): expected one of `), find(problems, "routes.api.backends[0].wieght").message)
        assert.isTrue(find(problems, "routes.api.match.host").message.startsWith(`unknown key (did you mean "hosts"?): expected one of `), find(problems, "routes.api.match.host").message)
        assert.strictEqual(find(problems, "pools.p.connection.zzz").message, 'unknown key: expected one of maxConnectionsPerServer, connectTimeout, idleTimeout, http2, found "zzz"')
        assert.isTrue(find(problems, "admin.tokn").message.startsWith(`unknown key (did you mean "token"?): expected one of `), find(problems, "admin.tokn").message)
        assert.lengthOf(problems, 5)
      }))

    it.effect("reports invalid names", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(Load.decode({
          listeners: { "-web": { address: "127.0.0.1:1" }, web: { address: "127.0.0.1:2" } },
          pools: { "a b": { servers: [{ url: "http://a:1" }] } }
        }, "f.yaml"))
        assert.strictEqual(
          find(problems, `listeners["-web"]`).message,
          `invalid key: expected a name matching ^[A-Za-z0-9][A-Za-z0-9._-]*$, found "-web"`
        )
        find(problems, `pools["a b"]`)
        assert.lengthOf(problems, 2)
      }))

    it.effect("says what was expected and what was found", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(Load.decode({
          listeners: { web: { address: "[::1]:99999", http2: "yes", limits: { maxHeaderBytes: -1 } } },
          routes: {
            api: {
              backends: [],
              listeners: [],
              priority: "high",
              match: { path: "api", pathRegex: "(", methods: ["GE T"], headers: [{ name: "x", value: "1", present: true }] }
            },
            other: { backends: [{ pool: "p" }], match: { path: "/a", pathRegex: "^/a" }, retry: { retryOn: ["boom"] } }
          },
          pools: { p: { loadBalancer: "fastest", servers: [{ url: "ftp://x" }] } },
          middlewares: {
            m: { type: "magic" },
            h: { type: "headers", request: { set: { "x-a": "a\r\nb" } } },
            r: { type: "rate-limit" }
          },
          observability: { logs: { level: "loud" } }
        }, "f.yaml"))
        const message = (path: string) => find(problems, path).message
        assert.strictEqual(message("listeners.web.address"), `expected a port from 0 to 65535, found "99999"`)
        assert.strictEqual(message("listeners.web.http2"), `expected true or false, found "yes"`)
        assert.strictEqual(message("listeners.web.limits.maxHeaderBytes"), "expected an integer of at least 1, found -1")
        assert.strictEqual(message("routes.api.backends"), "expected at least one of the backends, found an empty list")
        assert.include(message("routes.api.listeners"), "omit the key for every listener")
        assert.strictEqual(message("routes.api.priority"), `expected a number, found "high"`)
        assert.strictEqual(message("routes.api.match.path"), `expected a path starting with "/", found "api"`)
        assert.include(message("routes.api.match.pathRegex"), `expected a valid regular expression, found "("`)
        assert.include(message("routes.api.match.pathRegex"), "Unterminated group")
        assert.include(message("routes.api.match.methods[0]"), `expected an HTTP method such as "GET", found "GE T"`)
        assert.strictEqual(
          message("routes.api.match.headers[0]"),
          "expected exactly one of value, regex or present, found value and present"
        )
        assert.strictEqual(
          message("routes.other.match"),
          `expected either path or pathRegex, found both (path "/a", pathRegex "^/a")`
        )
        assert.include(message("routes.other.retry.retryOn[0]"), `found "boom"`)
        assert.strictEqual(
          message("pools.p.loadBalancer"),
          `expected one of "round-robin", "weighted-round-robin", "least-connections", "power-of-two", "random", "consistent-hash", found "fastest"`
        )
        assert.include(message("pools.p.servers[0].url"), `found "ftp://x"`)
        assert.include(message("middlewares.m.type"), `"headers", "rate-limit", "basic-auth"`)
        assert.include(message("middlewares.m.type"), `found "magic"`)
        assert.strictEqual(
          message("middlewares.h.request.set.x-a"),
          `expected a header value without CR, LF, NUL or other control characters, found "a\\r\\nb"`
        )
        assert.strictEqual(message("middlewares.r.average"), "required key is missing (expected a number)")
        assert.include(message("observability.logs.level"), `found "loud"`)
      }))

    it.effect("requires at least one listener", () =>
      Effect.gen(function*() {
        assert.strictEqual(
          find(yield* problemsOf(Load.decode({}, "f.yaml")), "listeners").message,
          "required key is missing (expected a map)"
        )
        assert.strictEqual(
          find(yield* problemsOf(Load.decode({ listeners: {} }, "f.yaml")), "listeners").message,
          "expected at least one listener, found none"
        )
        const [problem] = yield* problemsOf(Load.decode(null, "f.yaml"))
        assert.deepStrictEqual(problem, { file: "f.yaml", path: "", message: "expected a map, found null" })
      }))

    it.effect("reports the member of a union the value came closest to", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(Load.decode({
          listeners: { web: { address: "127.0.0.1:1", tls: { certificates: [{ certFile: "a.pem" }] } } }
        }, "f.yaml"))
        assert.deepStrictEqual(problems.map((p) => [p.path, p.message]), [[
          "listeners.web.tls.certificates[0].keyFile",
          "required key is missing (expected a string)"
        ]])
        const nullable = yield* problemsOf(Load.decode({ ...minimal, admin: "x" }, "f.yaml"))
        assert.strictEqual(find(nullable, "admin").message, `expected a map, found "x"`)
        const retry = yield* problemsOf(Load.decode({ ...minimal, routes: { r: { backends: [{ pool: "p" }], retry: 3 } } }, "f.yaml"))
        assert.strictEqual(find(retry, "routes.r.retry").message, "expected a map or null, found 3")
      }))

    it.effect("attributes problems with an origin function", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(Load.decode({
          ...minimal,
          routes: { api: { backends: [{ pool: "nope" }] } }
        }, (path) => path[0] === "routes" ? `etcd:/switchyard/routes/${String(path[1])}` : "file.yaml"))
        assert.deepStrictEqual(problems, [{
          file: "etcd:/switchyard/routes/api",
          path: "routes.api.backends[0].pool",
          message: `pool "nope" is not defined (no pools are defined)`
        }])
      }))

    it.effect("still checks references and features in the parts that decoded", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(Load.decode({
          ...minimal,
          routes: {
            good: { backends: [{ pool: "broken" }, { pool: "missing" }], websocket: true },
            bad: { backends: [{ pool: "a" }], timeout: "soon" }
          },
          pools: { a: { servers: [{ url: "http://a:1" }] }, broken: { servers: "x" } }
        }, "f.yaml"))
        assert.deepStrictEqual(problems.map((p) => p.path), [
          "routes.bad.timeout",
          "pools.broken.servers",
          "routes.good.backends[1].pool",
          "routes.good.websocket"
        ])
        assert.strictEqual(find(problems, "routes.good.backends[1].pool").message, `pool "missing" is not defined (defined pools: a, broken)`)
      }))

    it.effect("quotes keys that are not plain identifiers in paths", () =>
      Effect.gen(function*() {
        assert.strictEqual(Load.formatPath(["routes", "api.v1", "backends", 0, "pool"]), `routes["api.v1"].backends[0].pool`)
        assert.strictEqual(Load.formatPath([]), "")
        const problems = yield* problemsOf(Load.decode({ ...minimal, routes: { "api.v1": { backends: [] } } }, "f.yaml"))
        find(problems, `routes["api.v1"].backends`)
      }))
  })

  describe("decodeEntity", () => {
    it.effect("decodes one entity with its defaults, without checking references", () =>
      Effect.gen(function*() {
        const route = yield* Load.decodeEntity("routes", "api", { backends: [{ pool: "anything" }] }, "admin")
        assert.strictEqual(route.timeout, 30_000)
        assert.deepStrictEqual(route.backends, [{ pool: "anything", weight: 1 }])
        const pool = yield* Load.decodeEntity("pools", "p", { servers: [{ url: "http://a:1" }] }, "admin")
        assert.strictEqual(pool.loadBalancer, "round-robin")
        const middleware = yield* Load.decodeEntity("middlewares", "h", { type: "headers" }, "admin")
        assert.strictEqual(middleware.type, "headers")
      }))

    it.effect("reports problems under the entity's key path", () =>
      Effect.gen(function*() {
        const problems = yield* problemsOf(
          Load.decodeEntity("routes", "api", { backends: [{ pool: "p" }], tmeout: "5s" }, "etcd:/switchyard/routes/api")
        )
        assert.deepStrictEqual(problems.map((p) => [p.file, p.path]), [["etcd:/switchyard/routes/api", "routes.api.tmeout"]])
        assert.match(problems[0]!.message, /^unknown key \(did you mean "timeout"\?\): expected one of listeners, match, .*found "tmeout"$/)
      }))

    it.effect("checks the name, the entity's own rules and unsupported features", () =>
      Effect.gen(function*() {
        const badName = yield* problemsOf(Load.decodeEntity("pools", "a b", { servers: [{ url: "http://a:1" }] }, "admin"))
        assert.include(badName[0]!.message, `found "a b"`)
        const empty = yield* problemsOf(Load.decodeEntity("pools", "p", {}, "admin"))
        assert.strictEqual(find(empty, "pools.p.servers").message, "expected at least one server, or a discovery section, found neither")
        const unsupported = yield* problemsOf(Load.decodeEntity("middlewares", "rl", { type: "rate-limit", average: 1 }, "admin"))
        assert.deepStrictEqual(unsupported, [{
          file: "admin",
          path: "middlewares.rl.type",
          message: `not supported yet (middleware type "rate-limit")`
        }])
      }))
  })

  describe("decode by parts", () => {
    const whole = Schema.decodeUnknownSync(SwitchyardConfig)
    const options = { errors: "all", onExcessProperty: "error" } as const

    it.effect("gives what decoding the whole document gives, for every shipped and fixture config", () =>
      Effect.gen(function*() {
        for (const file of ["basic.yaml", "basic.json", "basic.toml", "../../../config/switchyard.yaml"]) {
          const { document } = yield* Load.readDocument(fixture(file), {})
          const decoded = yield* Load.decode(document, file)
          assert.deepStrictEqual(decoded, whole(document, options), file)
          // again, from what was kept: the same value
          assert.deepStrictEqual(yield* Load.decode(structuredClone(document), file), decoded, file)
        }
      }))

    it.effect("follows a changed entity, keeps the rest, and shares nothing writable between versions", () =>
      Effect.gen(function*() {
        const doc = (timeout: string) => ({
          ...minimal,
          routes: { a: { backends: [{ pool: "p" }], timeout }, b: { backends: [{ pool: "p" }] } },
          pools: { p: { servers: [{ url: "http://127.0.0.1:1" }] } }
        })
        const first = yield* Load.decode(doc("1s"), "<test>")
        const second = yield* Load.decode(doc("2s"), "<test>")
        assert.strictEqual(first.routes["a"]!.timeout, 1000)
        assert.strictEqual(second.routes["a"]!.timeout, 2000)
        assert.deepStrictEqual(second, whole(doc("2s"), options))
        assert.strictEqual(second.routes["b"], first.routes["b"])
        assert.isTrue(Object.isFrozen(second.routes["b"]!.backends))
        assert.throws(() => {
          ;(second.pools["p"]!.servers as Array<unknown>).push({ url: "http://127.0.0.1:2" })
        })
      }))

    it.effect("reports a document with a problem in one part with every problem and its path", () =>
      Effect.gen(function*() {
        const valid = { ...minimal, routes: { a: { backends: [{ pool: "p" }] } }, pools: { p: { servers: [{ url: "http://127.0.0.1:1" }] } } }
        yield* Load.decode(valid, "<test>") // its parts are kept
        const problems = yield* problemsOf(Load.decode({ ...valid, routes: { ...valid.routes, b: { backends: [], timout: "1s" } } }, "<test>"))
        find(problems, "routes.b.timout")
        find(problems, "routes.b.backends")
        const date = yield* problemsOf(Load.decode({ ...valid, shutdownTimeout: new Date(0) }, "<test>"))
        find(date, "shutdownTimeout")
      }))
  })
})

