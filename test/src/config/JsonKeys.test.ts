import { assert, describe, it } from "@effect/vitest"
import { parseDocument } from "yaml"
import { duplicateKeys } from "../../../src/config/JsonKeys.js"

/** What YAML's parser (JSON is YAML 1.2) reports as duplicate keys: the reference for the scanner. */
const yamlDuplicates = (text: string) =>
  parseDocument(text, { uniqueKeys: true }).errors.filter((e) => e.code === "DUPLICATE_KEY").map((e) => e.pos[0])

describe("JsonKeys.duplicateKeys", () => {
  it("finds a key repeated in the same object, with the offset of its opening quote", () => {
    const text = `{"a": 1, "b": {"c": 2}, "a": 3}`
    assert.deepStrictEqual(duplicateKeys(text), [{ key: "a", offset: text.lastIndexOf(`"a"`) }])
  })

  it("does not confuse keys of different objects, keys with values, or strings that look like keys", () => {
    assert.deepStrictEqual(duplicateKeys(`{"a": {"a": {"a": 1}}, "b": [{"x": 1}, {"x": 2}], "c": "a"}`), [])
    assert.deepStrictEqual(duplicateKeys(`{"a": "\\": {\\"a\\": 1, [", "b": ["a", "a"], "c": {"d": "}"}, "e": "]"}`), [])
    const list = `[{"a": 1}, {"a": 2}, "a", {"b": 1, "b": 2}]`
    assert.deepStrictEqual(duplicateKeys(list), [{ key: "b", offset: list.lastIndexOf(`"b"`) }])
  })

  it("compares keys by their decoded value", () => {
    const text = `{"a": 1, "\\u0061": 2, "\\"q\\"": 3, "\\"q\\"" : 4}`
    assert.deepStrictEqual(duplicateKeys(text).map((d) => d.key), ["a", "\"q\""])
  })

  it("agrees with YAML's parser on the positions it reports", () => {
    const texts = [
      `{"routes": {"a": {"timeout": "1s", "timeout": "2s"}}, "routes": {}}`,
      `{\n  "x": [1, {"y": 1,\n "y": 2}],\n  "z": {"w": {}, "w": []}\n}`,
      `{"k": "v"}`,
      `{ "a" : 1 , "b" : { "a" : 1 } , "b" : 2 }`
    ]
    for (const text of texts) {
      assert.deepStrictEqual(duplicateKeys(text).map((d) => d.offset), yamlDuplicates(text), text)
    }
  })
})
