import { assert, describe, it } from "@effect/vitest"
import * as Matcher from "../../../src/router/Matcher.js"

describe("Matcher", () => {
  describe("parseHost", () => {
    it("classifies exact and wildcard hosts, lower-cased, without trailing dot", () => {
      assert.deepStrictEqual(Matcher.parseHost("API.example.com."), { _tag: "Exact", host: "api.example.com" })
      assert.deepStrictEqual(Matcher.parseHost("*.Example.com"), { _tag: "Wildcard", suffix: "example.com" })
    })
  })

  describe("compileMatch", () => {
    it("splits prefix paths, exact paths and regexes, with their rank length", () => {
      const prefix = Matcher.compileMatch({ path: "/api/*" })
      assert.strictEqual(prefix.pathKind, Matcher.PathKind.Prefix)
      assert.strictEqual(prefix.pathLiteral, "/api")
      assert.strictEqual(prefix.pathLength, 4)
      const exact = Matcher.compileMatch({ path: "/api" })
      assert.strictEqual(exact.pathKind, Matcher.PathKind.Exact)
      assert.strictEqual(exact.pathLength, 4)
      const regex = Matcher.compileMatch({ pathRegex: "^/v[0-9]+/" })
      assert.strictEqual(regex.pathKind, Matcher.PathKind.Regex)
      assert.strictEqual(regex.pathLength, "^/v[0-9]+/".length)
      assert.strictEqual(Matcher.compileMatch({}).pathKind, Matcher.PathKind.None)
    })

    it("lower-cases header names and upper-cases methods, but keeps query names", () => {
      const m = Matcher.compileMatch({
        methods: ["get"],
        headers: [{ name: "X-Canary", value: "1" }],
        query: [{ name: "Debug", present: true }]
      })
      assert.deepStrictEqual(m.methods, ["GET"])
      assert.strictEqual(m.headers![0]!.name, "x-canary")
      assert.strictEqual(m.query![0]!.name, "Debug")
    })

    it("classifies conditions", () => {
      const kinds = Matcher.compileMatch({
        headers: [
          { name: "a", present: false, value: "ignored" },
          { name: "b", present: true },
          { name: "c" },
          { name: "d", value: "v" },
          { name: "e", regex: "r" },
          { name: "f", value: "v", regex: "r" }
        ]
      }).headers!.map((c) => c.kind)
      const K = Matcher.ConditionKind
      assert.deepStrictEqual(kinds, [K.Absent, K.Present, K.Present, K.Value, K.Regex, K.ValueAndRegex])
    })

    it("throws on an invalid regex, naming it", () => {
      assert.throws(() => Matcher.compileMatch({ pathRegex: "(" }), /pathRegex/)
      assert.throws(() => Matcher.compileMatch({ headers: [{ name: "x", regex: "[" }] }), /header x/)
    })
  })

  describe("validateMatch", () => {
    it("accepts a valid spec", () => {
      assert.deepStrictEqual(Matcher.validateMatch({ hosts: ["a.test", "*.b.test"], path: "/a/*", methods: ["GET"] }), [])
    })

    it("lists every problem", () => {
      const problems = Matcher.validateMatch({
        hosts: ["*.", "a.*.test"],
        path: "a",
        pathRegex: "(",
        headers: [{ name: "x", regex: "[" }],
        query: [{ name: "q", regex: ")" }]
      })
      assert.strictEqual(problems.length, 7)
    })
  })

  describe("matchesPath", () => {
    it("handles the segment boundary of prefix paths", () => {
      const m = Matcher.compileMatch({ path: "/a/*" })
      assert.isTrue(Matcher.matchesPath(m, "/a"))
      assert.isTrue(Matcher.matchesPath(m, "/a/"))
      assert.isTrue(Matcher.matchesPath(m, "/a/b"))
      assert.isFalse(Matcher.matchesPath(m, "/ab"))
      assert.isFalse(Matcher.matchesPath(m, "/"))
    })
  })
})
