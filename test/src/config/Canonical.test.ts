import { assert, describe, it } from "@effect/vitest"
import { canonical } from "../../../src/config/Canonical.js"

/** The definition: JSON.stringify with every object's keys sorted. */
const reference = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v)

describe("canonical", () => {
  it("is JSON with sorted keys: equal for documents that differ only in key order", () => {
    assert.strictEqual(canonical({ b: 1, a: { d: [1, "x"], c: null } }), `{"a":{"c":null,"d":[1,"x"]},"b":1}`)
    assert.strictEqual(canonical({ a: { c: null, d: [1, "x"] }, b: 1 }), canonical({ b: 1, a: { d: [1, "x"], c: null } }))
    assert.notStrictEqual(canonical({ a: [1, 2] }), canonical({ a: [2, 1] }))
    // names that look like numbers are sorted as text (JS objects list them first, in numeric order)
    assert.strictEqual(canonical({ 10: "a", 2: "b", b: "c" }), `{"10":"a","2":"b","b":"c"}`)
  })

  it("writes what JSON.stringify with a key-sorting replacer writes (for names that are not numbers)", () => {
    const values: Array<unknown> = [
      { listeners: { web: { address: "127.0.0.1:8080", limits: { maxBodyBytes: null } } }, routes: {}, "ü\"q": "\n\u2028" },
      [1, undefined, () => 1, { x: undefined, y: () => 1, z: 0 }],
      { when: new Date(0), nested: { toJSON: () => ({ b: 2, a: 1 }) } },
      "text",
      42,
      true,
      null,
      { deep: [[{ b: [{ d: 1, c: 2 }] }]] }
    ]
    for (const value of values) assert.strictEqual(canonical(value), reference(value))
  })
})
