import { assert, describe, it } from "@effect/vitest"
import * as KvLayout from "../../streams/KvLayout.js"

const prefix = "/switchyard/"

describe("KvLayout", () => {
  it("gives empty entities and no problem for an empty prefix listing", () => {
    const result = KvLayout.fromKeyValues("etcd", prefix, [])
    assert.deepStrictEqual(result, { entities: { routes: {}, pools: {}, middlewares: {} }, problems: [] })
  })

  it("parses JSON and YAML values into routes, pools and middlewares keyed by name", () => {
    const result = KvLayout.fromKeyValues("etcd", prefix, [
      ["/switchyard/routes/api", `{"match": {"path": "/api/*"}, "backends": [{"pool": "api-v1"}]}`],
      ["/switchyard/pools/api-v1", "servers:\n  - url: http://10.0.0.7:8080\n"],
      ["/switchyard/middlewares/hdrs.v2_x", "type: headers\nrequest: { set: { x-env: prod } }"]
    ])
    assert.deepStrictEqual(result.problems, [])
    assert.deepStrictEqual(result.entities, {
      routes: { api: { match: { path: "/api/*" }, backends: [{ pool: "api-v1" }] } },
      pools: { "api-v1": { servers: [{ url: "http://10.0.0.7:8080" }] } },
      middlewares: { "hdrs.v2_x": { type: "headers", request: { set: { "x-env": "prod" } } } }
    })
  })

  it("reports a value that does not parse, naming the key, the path, what was expected and found", () => {
    const result = KvLayout.fromKeyValues("etcd", prefix, [
      ["/switchyard/routes/api", "{match: {path: /api"],
      ["/switchyard/routes/ok", "{}"]
    ])
    assert.deepStrictEqual(result.entities.routes, { ok: {} })
    assert.strictEqual(result.problems.length, 1)
    const [problem] = result.problems
    assert.strictEqual(problem?.file, "etcd:/switchyard/routes/api")
    assert.strictEqual(problem?.path, "routes.api")
    assert.match(problem?.message ?? "", /^expected a JSON or YAML document of one route, found invalid syntax: .*line 1/)
  })

  it("reports values that are not one mapping: empty, scalar, list, several documents, duplicate keys", () => {
    const result = KvLayout.fromKeyValues("consul", "switchyard/", [
      ["switchyard/pools/empty", ""],
      ["switchyard/pools/scalar", "just text"],
      ["switchyard/pools/list", "[1, 2]"],
      ["switchyard/pools/multi", "a: 1\n---\nb: 2"],
      ["switchyard/pools/dup", "a: 1\na: 2"]
    ])
    assert.deepStrictEqual(result.entities.pools, {})
    assert.deepStrictEqual(
      result.problems.map((p) => [p.file, p.path]),
      [
        ["consul:switchyard/pools/dup", "pools.dup"],
        ["consul:switchyard/pools/empty", "pools.empty"],
        ["consul:switchyard/pools/list", "pools.list"],
        ["consul:switchyard/pools/multi", "pools.multi"],
        ["consul:switchyard/pools/scalar", "pools.scalar"]
      ]
    )
    const byPath = new Map(result.problems.map((p) => [p.path, p.message]))
    assert.match(byPath.get("pools.empty") ?? "", /found an empty value/)
    assert.match(byPath.get("pools.scalar") ?? "", /found a string \("just text"\)/)
    assert.match(byPath.get("pools.list") ?? "", /found a list/)
    assert.match(byPath.get("pools.multi") ?? "", /multiple documents/)
    assert.match(byPath.get("pools.dup") ?? "", /unique/)
  })

  it("parses JSON as JSON and YAML flow mappings as YAML; JSON with a duplicate key is reported as YAML reports it", () => {
    const result = KvLayout.fromKeyValues("etcd", prefix, [
      ["/switchyard/routes/json", ` \n{"backends": [{"pool": "a", "weight": 2}], "timeout": "1.5s", "x": null}`],
      ["/switchyard/routes/flow", "{backends: [{pool: a}], timeout: 1s}"],
      ["/switchyard/routes/dup", `{"backends": [{"pool": "a"}], "backends": []}`]
    ])
    assert.deepStrictEqual(result.entities.routes, {
      json: { backends: [{ pool: "a", weight: 2 }], timeout: "1.5s", x: null },
      flow: { backends: [{ pool: "a" }], timeout: "1s" }
    })
    assert.deepStrictEqual(result.problems.map((p) => p.path), ["routes.dup"])
    assert.match(result.problems[0]?.message ?? "", /found invalid syntax: Map keys must be unique/)
  })

  it("reports names that are not valid entity names", () => {
    const result = KvLayout.fromKeyValues("etcd", prefix, [
      ["/switchyard/routes/-api", "{}"],
      ["/switchyard/routes/a b", "{}"],
      ["/switchyard/routes/api/extra", "{}"],
      ["/switchyard/routes/__proto__", "{}"],
      ["/switchyard/routes/", "{}"]
    ])
    assert.deepStrictEqual(result.entities.routes, {})
    assert.deepStrictEqual(
      result.problems.map((p) => p.path),
      ["routes.", "routes.-api", "routes.__proto__", "routes.a b", "routes.api/extra"]
    )
    const problem = result.problems.find((p) => p.path === "routes.api/extra")
    assert.strictEqual(problem?.file, "etcd:/switchyard/routes/api/extra")
    assert.strictEqual(
      problem?.message,
      `expected a route name matching ^[A-Za-z0-9][A-Za-z0-9._-]*$, found "api/extra"`
    )
    assert.strictEqual(Object.getPrototypeOf(result.entities.routes), Object.prototype)
  })

  it("reports keys outside the layout with the key as the path", () => {
    const result = KvLayout.fromKeyValues("etcd", prefix, [
      ["/switchyard/listeners/web", "{}"],
      ["/switchyard/routes", "{}"],
      ["/other/routes/api", "{}"]
    ])
    assert.deepStrictEqual(result.entities, { routes: {}, pools: {}, middlewares: {} })
    assert.deepStrictEqual(result.problems, [
      {
        file: "etcd:/other/routes/api",
        path: "/other/routes/api",
        message: `expected a key under the prefix "/switchyard/", found "/other/routes/api"`
      },
      {
        file: "etcd:/switchyard/listeners/web",
        path: "listeners/web",
        message:
          `expected a key /switchyard/routes/<name>, /switchyard/pools/<name> or /switchyard/middlewares/<name>, found "/switchyard/listeners/web"`
      },
      {
        file: "etcd:/switchyard/routes",
        path: "routes",
        message:
          `expected a key /switchyard/routes/<name>, /switchyard/pools/<name> or /switchyard/middlewares/<name>, found "/switchyard/routes"`
      }
    ])
  })

  it("ignores empty folder markers such as Consul's UI creates", () => {
    const result = KvLayout.fromKeyValues("consul", "switchyard/", [
      ["switchyard/", ""],
      ["switchyard/routes/", ""],
      ["switchyard/routes/api", `{"backends": []}`]
    ])
    assert.deepStrictEqual(result.problems, [])
    assert.deepStrictEqual(result.entities.routes, { api: { backends: [] } })
  })

  it("rejects oversized values and alias bombs without expanding them", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]"
    ].join("\n")
    const result = KvLayout.fromKeyValues("etcd", prefix, [
      ["/switchyard/pools/big", `x: "${"a".repeat(KvLayout.maxValueBytes)}"`],
      ["/switchyard/pools/bomb", bomb]
    ])
    assert.deepStrictEqual(result.entities.pools, {})
    assert.deepStrictEqual(result.problems.map((p) => p.path), ["pools.big", "pools.bomb"])
    assert.match(result.problems[0]?.message ?? "", /bytes \(at most 1048576 are accepted\)/)
  })

  it("normalizes a prefix to end with a slash, leaving the empty prefix alone", () => {
    assert.strictEqual(KvLayout.normalizePrefix("/switchyard"), "/switchyard/")
    assert.strictEqual(KvLayout.normalizePrefix("switchyard/"), "switchyard/")
    assert.strictEqual(KvLayout.normalizePrefix(""), "")
  })

  it("reuses the parse of an unchanged value, frozen, and parses a changed one (stores re-list on every change)", () => {
    const route = `{"backends": [{"pool": "p"}], "timeout": "1s"}`
    const first = KvLayout.fromKeyValues("etcd", "/s/", [["/s/routes/r", route]])
    const again = KvLayout.fromKeyValues("etcd", "/s/", [["/s/routes/r", route], ["/s/pools/p", "servers: []"]])
    const r = first.entities.routes["r"] as { backends: Array<{ pool: string }> }
    assert.strictEqual(again.entities.routes["r"], r)
    assert.isTrue(Object.isFrozen(r) && Object.isFrozen(r.backends[0]))
    const changed = KvLayout.fromKeyValues("etcd", "/s/", [["/s/routes/r", route.replace("1s", "2s")]])
    assert.notStrictEqual(changed.entities.routes["r"], r)
    assert.deepStrictEqual(changed.entities.routes["r"], { backends: [{ pool: "p" }], timeout: "2s" })
    // a value that does not parse is reported each time it is listed
    const broken = [["/s/routes/r", "{ not: [valid"]] as const
    assert.lengthOf(KvLayout.fromKeyValues("etcd", "/s/", broken).problems, 1)
    assert.lengthOf(KvLayout.fromKeyValues("etcd", "/s/", broken).problems, 1)
  })
})
