import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as JsonSchema from "../../../src/config/JsonSchema.js"

const committed = fileURLToPath(new URL(`../../../${JsonSchema.path}`, import.meta.url))

type Json = { readonly [key: string]: any }

describe("JsonSchema", () => {
  it("matches the committed config/switchyard.schema.json", () => {
    let text = ""
    try {
      text = readFileSync(committed, "utf8")
    } catch {
      text = ""
    }
    assert.strictEqual(
      text,
      JsonSchema.render(),
      `${JsonSchema.path} is out of date: run \`npx vite-node scripts/genSchema.ts\` and commit the result`
    )
  })

  it("describes the document as a user writes it", () => {
    const schema = JsonSchema.make() as Json
    assert.strictEqual(schema.$schema, "http://json-schema.org/draft-07/schema#")
    assert.deepStrictEqual(schema.required, ["listeners"])
    assert.strictEqual(schema.additionalProperties, false)
    const route = schema.$defs.RouteConfig as Json
    assert.deepStrictEqual(route.required, ["backends"])
    assert.strictEqual(route.additionalProperties, false)
    // durations: a string with a unit or a number, with the default written as a user would
    assert.strictEqual(route.properties.timeout.default, "30s")
    assert.deepStrictEqual(route.properties.timeout.anyOf.map((s: Json) => s.type), ["string", "number"])
    assert.isString(route.properties.timeout.description)
    assert.deepStrictEqual(schema.properties.admin.default, { address: "127.0.0.1:9901", token: null })
    assert.strictEqual(schema.properties.routes.propertyNames.pattern, "^[A-Za-z0-9][A-Za-z0-9._-]*$")
    // http2's default depends on tls, so it has none, only a description
    const listener = schema.$defs.ListenerConfig as Json
    assert.notProperty(listener.properties.http2, "default")
    assert.include(listener.properties.http2.description, "default true")
  })
})
