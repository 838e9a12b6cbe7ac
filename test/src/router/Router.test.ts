import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import * as Router from "../../../src/router/Router.js"
import type { Headers } from "../../../src/proxy/Message.js"

const route = (name: string, match: Router.MatchSpec, priority = 0): Router.RouteSpec<string> => ({
  name,
  priority,
  match,
  value: `value:${name}`
})

const req = (input: Partial<Router.RouteInput> = {}): Router.RouteInput => ({
  host: "example.com",
  path: "/",
  method: "GET",
  headers: {},
  query: "",
  ...input
})

const nameOf = (table: Router.RouteTable<string>, input: Partial<Router.RouteInput> = {}): string | undefined =>
  table.match(req(input))?.name

const only = (match: Router.MatchSpec) => Router.compile([route("r", match)])
const matches = (match: Router.MatchSpec, input: Partial<Router.RouteInput>): boolean => nameOf(only(match), input) === "r"

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
})

describe("Router", () => {
  describe("compile", () => {
    it("reports the number of routes", () => {
      assert.strictEqual(Router.compile([]).size, 0)
      assert.strictEqual(Router.compile([route("a", {}), route("b", { hosts: ["x.test"] })]).size, 2)
    })

    it("an empty table matches nothing", () => {
      assert.isUndefined(Router.compile<string>([]).match(req()))
    })

    it("an empty match matches every request and returns the route's value and name", () => {
      const result = only({}).match(req({ host: "anything.test", path: "/x/y", method: "DELETE" }))
      assert.deepStrictEqual(result, { value: "value:r", name: "r", prefix: "" })
    })

    it("treats empty hosts/methods/headers/query lists as no condition", () => {
      assert.isTrue(matches({ hosts: [], methods: [], headers: [], query: [] }, { host: "a.test", method: "PUT" }))
    })
  })

  describe("hosts", () => {
    it("matches an exact host", () => {
      assert.isTrue(matches({ hosts: ["api.example.com"] }, { host: "api.example.com" }))
      assert.isFalse(matches({ hosts: ["api.example.com"] }, { host: "www.example.com" }))
      assert.isFalse(matches({ hosts: ["api.example.com"] }, { host: "x.api.example.com" }))
    })

    it("matches any of several hosts", () => {
      const spec = { hosts: ["a.test", "b.test"] }
      assert.isTrue(matches(spec, { host: "a.test" }))
      assert.isTrue(matches(spec, { host: "b.test" }))
      assert.isFalse(matches(spec, { host: "c.test" }))
    })

    it("a wildcard matches subdomains at any depth", () => {
      const spec = { hosts: ["*.example.com"] }
      assert.isTrue(matches(spec, { host: "a.example.com" }))
      assert.isTrue(matches(spec, { host: "a.b.example.com" }))
      assert.isTrue(matches(spec, { host: "a.b.c.example.com" }))
    })

    it("a wildcard does not match the bare domain nor look-alike domains", () => {
      const spec = { hosts: ["*.example.com"] }
      assert.isFalse(matches(spec, { host: "example.com" }))
      assert.isFalse(matches(spec, { host: "badexample.com" }))
      assert.isFalse(matches(spec, { host: "a.example.com.evil.test" }))
      assert.isFalse(matches(spec, { host: "example.org" }))
    })

    it("normalises configured hosts (case, trailing dot)", () => {
      assert.isTrue(matches({ hosts: ["API.Example.com."] }, { host: "api.example.com" }))
      assert.isTrue(matches({ hosts: ["*.Example.COM"] }, { host: "a.example.com" }))
    })

    it("host-less routes apply to exact, wildcard and unknown hosts", () => {
      const table = Router.compile([
        route("exact", { hosts: ["a.test"], path: "/only-a" }),
        route("wild", { hosts: ["*.w.test"], path: "/only-w" }),
        route("any", {})
      ])
      assert.strictEqual(nameOf(table, { host: "a.test" }), "any")
      assert.strictEqual(nameOf(table, { host: "x.w.test" }), "any")
      assert.strictEqual(nameOf(table, { host: "other.test" }), "any")
      assert.strictEqual(nameOf(table, { host: "a.test", path: "/only-a" }), "exact")
      assert.strictEqual(nameOf(table, { host: "x.w.test", path: "/only-w" }), "wild")
    })

    it("wildcards also apply to hosts that have exact routes", () => {
      const table = Router.compile([
        route("exact", { hosts: ["a.example.com"], path: "/e" }),
        route("wild", { hosts: ["*.example.com"] })
      ])
      assert.strictEqual(nameOf(table, { host: "a.example.com", path: "/e" }), "exact")
      assert.strictEqual(nameOf(table, { host: "a.example.com", path: "/other" }), "wild")
    })

    it("stays correct beyond the unknown-host cache size", () => {
      const table = Router.compile([route("wild", { hosts: ["*.example.com"] }), route("any", { path: "/any" })])
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 3000; i++) {
          assert.strictEqual(nameOf(table, { host: `h${i}.example.com` }), "wild")
          assert.strictEqual(nameOf(table, { host: `h${i}.other.test`, path: "/any" }), "any")
          assert.isUndefined(nameOf(table, { host: `h${i}.other.test` }))
        }
      }
    })
  })

  describe("path", () => {
    it("an exact path matches only itself, case-sensitively", () => {
      const spec = { path: "/api" }
      assert.isTrue(matches(spec, { path: "/api" }))
      assert.isFalse(matches(spec, { path: "/api/" }))
      assert.isFalse(matches(spec, { path: "/api/x" }))
      assert.isFalse(matches(spec, { path: "/apix" }))
      assert.isFalse(matches(spec, { path: "/API" }))
    })

    it("a prefix path is segment-aware", () => {
      const spec = { path: "/api/*" }
      assert.isTrue(matches(spec, { path: "/api" }))
      assert.isTrue(matches(spec, { path: "/api/" }))
      assert.isTrue(matches(spec, { path: "/api/x" }))
      assert.isTrue(matches(spec, { path: "/api/x/y" }))
      assert.isFalse(matches(spec, { path: "/apix" }))
      assert.isFalse(matches(spec, { path: "/ap" }))
      assert.isFalse(matches(spec, { path: "/" }))
      assert.isFalse(matches(spec, { path: "/Api/x" }))
    })

    it("a nested prefix path is segment-aware at its last segment", () => {
      const spec = { path: "/a/b/*" }
      assert.isTrue(matches(spec, { path: "/a/b" }))
      assert.isTrue(matches(spec, { path: "/a/b/c" }))
      assert.isFalse(matches(spec, { path: "/a/bc" }))
      assert.isFalse(matches(spec, { path: "/a" }))
    })

    it("\"/*\" matches every path", () => {
      assert.isTrue(matches({ path: "/*" }, { path: "/" }))
      assert.isTrue(matches({ path: "/*" }, { path: "/anything/at/all" }))
    })

    it("pathRegex is tested against the path (unanchored unless the regex anchors)", () => {
      assert.isTrue(matches({ pathRegex: "^/v[0-9]+/" }, { path: "/v2/users" }))
      assert.isFalse(matches({ pathRegex: "^/v[0-9]+/" }, { path: "/vx/users" }))
      assert.isFalse(matches({ pathRegex: "^/v[0-9]+/" }, { path: "/api/v2/users" }))
      assert.isTrue(matches({ pathRegex: "/v[0-9]+/" }, { path: "/api/v2/users" }))
    })
  })

  describe("methods", () => {
    it("matches any listed method", () => {
      const spec = { methods: ["GET", "POST"] }
      assert.isTrue(matches(spec, { method: "GET" }))
      assert.isTrue(matches(spec, { method: "POST" }))
      assert.isFalse(matches(spec, { method: "DELETE" }))
    })
  })

  describe("headers", () => {
    const h = (headers: Headers) => ({ headers })

    it("value is an exact comparison; the name is case-insensitive", () => {
      const spec = { headers: [{ name: "X-Canary", value: "true" }] }
      assert.isTrue(matches(spec, h({ "x-canary": "true" })))
      assert.isFalse(matches(spec, h({ "x-canary": "TRUE" })))
      assert.isFalse(matches(spec, h({ "x-canary": "true " })))
      assert.isFalse(matches(spec, h({})))
    })

    it("regex is tested against the value", () => {
      const spec = { headers: [{ name: "user-agent", regex: "Mobile|Android" }] }
      assert.isTrue(matches(spec, h({ "user-agent": "Mozilla/5.0 (Linux; Android 14)" })))
      assert.isFalse(matches(spec, h({ "user-agent": "curl/8.0" })))
      assert.isFalse(matches(spec, h({})))
    })

    it("present: true requires the header, present: false requires its absence", () => {
      const present = { headers: [{ name: "authorization", present: true }] }
      const absent = { headers: [{ name: "authorization", present: false }] }
      assert.isTrue(matches(present, h({ authorization: "Bearer x" })))
      assert.isTrue(matches(present, h({ authorization: "" })))
      assert.isFalse(matches(present, h({})))
      assert.isFalse(matches(present, h({ authorization: undefined })))
      assert.isTrue(matches(absent, h({})))
      assert.isTrue(matches(absent, h({ authorization: undefined })))
      assert.isFalse(matches(absent, h({ authorization: "Bearer x" })))
      assert.isFalse(matches(absent, h({ authorization: ["a", "b"] })))
    })

    it("a condition with only a name means present", () => {
      assert.isTrue(matches({ headers: [{ name: "x-a" }] }, h({ "x-a": "1" })))
      assert.isFalse(matches({ headers: [{ name: "x-a" }] }, h({})))
    })

    it("value and regex together must both hold", () => {
      const spec = { headers: [{ name: "x-a", value: "abc", regex: "^a" }] }
      assert.isTrue(matches(spec, h({ "x-a": "abc" })))
      assert.isFalse(matches({ headers: [{ name: "x-a", value: "abc", regex: "^z" }] }, h({ "x-a": "abc" })))
    })

    it("an array-valued header holds when any value satisfies the condition", () => {
      assert.isTrue(matches({ headers: [{ name: "x-tag", value: "b" }] }, h({ "x-tag": ["a", "b"] })))
      assert.isFalse(matches({ headers: [{ name: "x-tag", value: "c" }] }, h({ "x-tag": ["a", "b"] })))
      assert.isTrue(matches({ headers: [{ name: "x-tag", regex: "^b$" }] }, h({ "x-tag": ["a", "b"] })))
      assert.isTrue(matches({ headers: [{ name: "x-tag", present: true }] }, h({ "x-tag": [] })))
    })

    it("a comma-separated value (how Node joins a repeated field) matches as a whole or by any member", () => {
      assert.isTrue(matches({ headers: [{ name: "accept", value: "a, b" }] }, h({ accept: "a, b" })))
      assert.isTrue(matches({ headers: [{ name: "accept", value: "a" }] }, h({ accept: "a, b" })))
      assert.isTrue(matches({ headers: [{ name: "accept", value: "b" }] }, h({ accept: "a,b" })))
      assert.isFalse(matches({ headers: [{ name: "accept", value: "c" }] }, h({ accept: "a, b" })))
      assert.isTrue(matches({ headers: [{ name: "accept", regex: "^b$" }] }, h({ accept: "a, b" })))
      assert.isFalse(matches({ headers: [{ name: "accept", regex: "^a, b$" }] }, h({ accept: "a,  c" })))
    })

    it("Object.prototype members are not headers", () => {
      assert.isFalse(matches({ headers: [{ name: "constructor", present: true }] }, h({})))
      assert.isTrue(matches({ headers: [{ name: "__proto__", present: false }] }, h({})))
    })

    it("every header condition must hold", () => {
      const spec = { headers: [{ name: "x-a", value: "1" }, { name: "x-b", present: false }] }
      assert.isTrue(matches(spec, h({ "x-a": "1" })))
      assert.isFalse(matches(spec, h({ "x-a": "1", "x-b": "2" })))
      assert.isFalse(matches(spec, h({ "x-a": "2" })))
    })
  })

  describe("query", () => {
    it("value is exact on the decoded parameter", () => {
      const spec = { query: [{ name: "q", value: "a b" }] }
      assert.isTrue(matches(spec, { query: "q=a%20b" }))
      assert.isTrue(matches(spec, { query: "x=1&q=a+b" }))
      assert.isFalse(matches(spec, { query: "q=a" }))
      assert.isFalse(matches(spec, { query: "" }))
    })

    it("regex is tested against each value of a repeated parameter", () => {
      const spec = { query: [{ name: "v", regex: "^[0-9]+$" }] }
      assert.isTrue(matches(spec, { query: "v=12" }))
      assert.isTrue(matches(spec, { query: "v=x&v=7" }))
      assert.isFalse(matches(spec, { query: "v=x" }))
      assert.isFalse(matches(spec, { query: "w=1" }))
    })

    it("present: true / false", () => {
      assert.isTrue(matches({ query: [{ name: "debug", present: true }] }, { query: "debug" }))
      assert.isTrue(matches({ query: [{ name: "debug", present: true }] }, { query: "a=1&debug=" }))
      assert.isFalse(matches({ query: [{ name: "debug", present: true }] }, { query: "debugx=1" }))
      assert.isTrue(matches({ query: [{ name: "debug", present: false }] }, { query: "a=1" }))
      assert.isFalse(matches({ query: [{ name: "debug", present: false }] }, { query: "debug=0" }))
    })

    it("parameter names are case-sensitive", () => {
      assert.isFalse(matches({ query: [{ name: "Debug", present: true }] }, { query: "debug=1" }))
    })

    it("parses the query string lazily, at most once per lookup", () => {
      let parsed = 0
      const Original = globalThis.URLSearchParams
      vi.stubGlobal("URLSearchParams", class extends Original {
        constructor(init?: string) {
          super(init)
          parsed++
        }
      })
      const table = Router.compile([
        route("q1", { query: [{ name: "a", value: "1" }] }, 3),
        route("q2", { query: [{ name: "b", present: true }] }, 2),
        route("q3", { query: [{ name: "c", regex: "x" }] }, 1),
        route("plain", { path: "/plain" }, 4)
      ])
      assert.strictEqual(nameOf(table, { path: "/plain", query: "c=x" }), "plain")
      assert.strictEqual(parsed, 0)
      assert.strictEqual(nameOf(table, { path: "/other", query: "c=x" }), "q3")
      assert.strictEqual(parsed, 1)
      assert.isUndefined(nameOf(table, { path: "/other", query: "z=1" }))
      assert.strictEqual(parsed, 2)
    })
  })

  describe("combinations", () => {
    it("every given condition must hold", () => {
      const spec: Router.MatchSpec = {
        hosts: ["api.example.com"],
        path: "/api/*",
        methods: ["POST"],
        headers: [{ name: "x-canary", value: "true" }],
        query: [{ name: "debug", present: true }]
      }
      const ok = {
        host: "api.example.com",
        path: "/api/users",
        method: "POST",
        headers: { "x-canary": "true" },
        query: "debug=1"
      }
      assert.isTrue(matches(spec, ok))
      assert.isFalse(matches(spec, { ...ok, host: "www.example.com" }))
      assert.isFalse(matches(spec, { ...ok, path: "/apix" }))
      assert.isFalse(matches(spec, { ...ok, method: "GET" }))
      assert.isFalse(matches(spec, { ...ok, headers: {} }))
      assert.isFalse(matches(spec, { ...ok, query: "" }))
    })

    it("falls through to the next candidate when a better-ranked route's conditions fail", () => {
      const table = Router.compile([
        route("post-only", { hosts: ["a.test"], path: "/x/*", methods: ["POST"] }, 10),
        route("canary", { hosts: ["a.test"], headers: [{ name: "x-canary", present: true }] }, 5),
        route("fallback", {})
      ])
      assert.strictEqual(nameOf(table, { host: "a.test", path: "/x/1", method: "POST" }), "post-only")
      assert.strictEqual(nameOf(table, { host: "a.test", path: "/x/1", headers: { "x-canary": "1" } }), "canary")
      assert.strictEqual(nameOf(table, { host: "a.test", path: "/x/1" }), "fallback")
    })
  })

  describe("priority", () => {
    it("higher priority wins over every other criterion", () => {
      const table = Router.compile([
        route("specific", { hosts: ["a.test"], path: "/long/path/here" }, 0),
        route("broad", {}, 1)
      ])
      assert.strictEqual(nameOf(table, { host: "a.test", path: "/long/path/here" }), "broad")
    })

    it("negative priorities rank below the default", () => {
      const table = Router.compile([route("low", {}, -5), route("default", {})])
      assert.strictEqual(nameOf(table), "default")
    })

    it("on equal priority: exact host > wildcard host > no host condition", () => {
      const table = Router.compile([
        route("a-any", { path: "/longer/path/than/the/others" }),
        route("b-wild", { hosts: ["*.example.com"], path: "/longer/*" }),
        route("c-exact", { hosts: ["api.example.com"] })
      ])
      const input = { host: "api.example.com", path: "/longer/path/than/the/others" }
      assert.strictEqual(nameOf(table, input), "c-exact")
      assert.strictEqual(nameOf(table, { ...input, host: "www.example.com" }), "b-wild")
      assert.strictEqual(nameOf(table, { ...input, host: "other.test" }), "a-any")
    })

    it("a longer wildcard suffix ranks above a shorter one", () => {
      const table = Router.compile([
        route("a-short", { hosts: ["*.example.com"], path: "/a/very/long/path/*" }),
        route("b-long", { hosts: ["*.a.example.com"] })
      ])
      assert.strictEqual(nameOf(table, { host: "x.a.example.com", path: "/a/very/long/path/1" }), "b-long")
      assert.strictEqual(nameOf(table, { host: "x.b.example.com", path: "/a/very/long/path/1" }), "a-short")
    })

    it("a route with exact and wildcard hosts is ranked by the host that matched this request", () => {
      const table = Router.compile([
        route("a-both", { hosts: ["*.example.com", "api.example.com"] }),
        route("b-wild", { hosts: ["*.example.com"], path: "/p" }),
        route("c-exact", { hosts: ["www.example.com"] })
      ])
      // api.example.com: a-both is exact there, so it beats b-wild despite b-wild's longer path
      assert.strictEqual(nameOf(table, { host: "api.example.com", path: "/p" }), "a-both")
      // x.example.com: both wildcard; the longer path wins
      assert.strictEqual(nameOf(table, { host: "x.example.com", path: "/p" }), "b-wild")
      // www.example.com: c-exact is exact, a-both only wildcard there
      assert.strictEqual(nameOf(table, { host: "www.example.com", path: "/p" }), "c-exact")
    })

    it("a route reached through several wildcards keeps its best (longest) suffix", () => {
      const table = Router.compile([
        route("a-mid", { hosts: ["*.b.example.com"] }),
        route("z-both", { hosts: ["*.example.com", "*.a.b.example.com"] })
      ])
      assert.strictEqual(nameOf(table, { host: "x.a.b.example.com" }), "z-both")
      assert.strictEqual(nameOf(table, { host: "x.c.b.example.com" }), "a-mid")
    })

    it("on equal host class: the longer path wins", () => {
      const table = Router.compile([
        route("a", { path: "/api/*" }),
        route("b", { path: "/api/v1/*" }),
        route("c", { pathRegex: "^/api/v1/users/[0-9]+$" }),
        route("d", {})
      ])
      assert.strictEqual(nameOf(table, { path: "/api/v1/users/12" }), "c")
      assert.strictEqual(nameOf(table, { path: "/api/v1/users/x" }), "b")
      assert.strictEqual(nameOf(table, { path: "/api/v2" }), "a")
      assert.strictEqual(nameOf(table, { path: "/other" }), "d")
    })

    it("on equal path length: exact > prefix > regex > no path", () => {
      const table = Router.compile([
        route("a-none", {}),
        route("b-regex", { pathRegex: "/ab" }),
        route("c-prefix", { path: "/ab/*" }),
        route("d-exact", { path: "/ab" })
      ])
      assert.strictEqual(nameOf(table, { path: "/ab" }), "d-exact")
      const withoutExact = Router.compile([route("a-none", {}), route("b-regex", { pathRegex: "/ab" }), route("c-prefix", { path: "/ab/*" })])
      assert.strictEqual(nameOf(withoutExact, { path: "/ab" }), "c-prefix")
      const regexAndNone = Router.compile([route("a-none", {}), route("b-regex", { pathRegex: "/ab" })])
      assert.strictEqual(nameOf(regexAndNone, { path: "/ab" }), "b-regex")
    })

    it("\"/*\" ranks above no path condition", () => {
      const table = Router.compile([route("a", {}), route("b", { path: "/*" })])
      assert.strictEqual(nameOf(table, { path: "/x" }), "b")
    })

    it("last tie-break: route name, alphabetical, whatever the declaration order", () => {
      const routes = [route("beta", { path: "/x" }), route("alpha", { path: "/x" }), route("gamma", { path: "/x" })]
      assert.strictEqual(nameOf(Router.compile(routes), { path: "/x" }), "alpha")
      assert.strictEqual(nameOf(Router.compile([...routes].reverse()), { path: "/x" }), "alpha")
    })

    it("a host-less route with higher priority beats exact-host routes", () => {
      const table = Router.compile([route("exact", { hosts: ["a.test"] }), route("global", {}, 1)])
      assert.strictEqual(nameOf(table, { host: "a.test" }), "global")
    })
  })

  describe("regex evaluation", () => {
    it("never evaluates the regex conditions of routes whose host cannot match", () => {
      const tested: Array<string> = []
      const executed: Array<string> = []
      const originalTest = RegExp.prototype.test
      const originalExec = RegExp.prototype.exec
      // record only the markers of this test's routes: chai and vitest run regexes of their own
      const record = (into: Array<string>, re: RegExp) => {
        if (re.source.startsWith("OTHER") || re.source === "^.mine") into.push(re.source)
      }
      vi.spyOn(RegExp.prototype, "test").mockImplementation(function(this: RegExp, s: string) {
        record(tested, this)
        return originalTest.call(this, s)
      })
      vi.spyOn(RegExp.prototype, "exec").mockImplementation(function(this: RegExp, s: string) {
        record(executed, this)
        return originalExec.call(this, s)
      })
      const table = Router.compile([
        route("other-path", { hosts: ["other.test"], pathRegex: "OTHER_PATH" }, 100),
        route("other-header", { hosts: ["other.test"], headers: [{ name: "x-a", regex: "OTHER_HEADER" }] }, 100),
        route("other-query", { hosts: ["*.other.test"], query: [{ name: "a", regex: "OTHER_QUERY" }] }, 100),
        route("mine", { hosts: ["mine.test"], pathRegex: "^.mine" }),
        route("any", {})
      ])
      const input = { path: "/mine/x", headers: { "x-a": "v" }, query: "a=1" }
      const onMine = nameOf(table, { ...input, host: "mine.test" })
      const onUnknown = nameOf(table, { ...input, host: "unknown.test" })
      const beforeWildcard = [tested.slice(), executed.slice()]
      const onOtherSubdomain = nameOf(table, { ...input, host: "a.other.test" })
      const afterWildcard = [tested.slice(), executed.slice()]
      vi.restoreAllMocks()
      assert.strictEqual(onMine, "mine")
      assert.strictEqual(onUnknown, "any")
      assert.strictEqual(onOtherSubdomain, "any")
      assert.deepStrictEqual(beforeWildcard[0], ["^.mine"])
      assert.isTrue(beforeWildcard[1]!.every((s) => s === "^.mine"))
      assert.deepStrictEqual(afterWildcard[0], ["^.mine", "OTHER_QUERY"])
      assert.isFalse(afterWildcard[1]!.some((s) => s === "OTHER_PATH" || s === "OTHER_HEADER"))
    })
  })

  describe("prefix", () => {
    const prefixOf = (match: Router.MatchSpec, path: string) => only(match).match(req({ path }))?.prefix

    it("is the literal before \"/*\" for a prefix path", () => {
      assert.strictEqual(prefixOf({ path: "/api/*" }, "/api/users"), "/api")
      assert.strictEqual(prefixOf({ path: "/api/*" }, "/api"), "/api")
      assert.strictEqual(prefixOf({ path: "/*" }, "/x"), "")
    })

    it("is the path itself for an exact path", () => {
      assert.strictEqual(prefixOf({ path: "/api" }, "/api"), "/api")
    })

    it("is the matched text of a regex whose match starts at 0, else empty", () => {
      assert.strictEqual(prefixOf({ pathRegex: "^/v[0-9]+" }, "/v12/users"), "/v12")
      assert.strictEqual(prefixOf({ pathRegex: "/v[0-9]+" }, "/v3/x"), "/v3")
      assert.strictEqual(prefixOf({ pathRegex: "users" }, "/v1/users"), "")
    })

    it("is empty without a path condition", () => {
      assert.strictEqual(prefixOf({}, "/x"), "")
      assert.strictEqual(prefixOf({ methods: ["GET"] }, "/x"), "")
    })

    it("literal-path matches are shared objects (no allocation per request)", () => {
      const table = only({ path: "/api/*" })
      assert.strictEqual(table.match(req({ path: "/api/a" })), table.match(req({ path: "/api/b" })))
    })
  })
})
