/**
 * The JSON Schema of the configuration document as a user writes it (the encoded side: durations are
 * strings or numbers, omitted keys show their defaults), generated from `Schema.ts` so it cannot drift.
 * `scripts/genSchema.ts` writes it to `config/switchyard.schema.json` for editors (`$schema` key, or
 * `# yaml-language-server: $schema=…`).
 */
import * as JSONSchema from "effect/JSONSchema"
import { SwitchyardConfig } from "./Schema.js"

/** Where the generated file lives, relative to the repository root. */
export const path = "config/switchyard.schema.json"

/** The JSON Schema (draft-07) of a Switchyard configuration document. */
export const make = (): JSONSchema.JsonSchema7Root => {
  const { $schema, ...rest } = JSONSchema.make(SwitchyardConfig)
  return {
    $schema,
    $comment: "Generated from src/config/Schema.ts by `npx vite-node scripts/genSchema.ts`; do not edit.",
    ...rest
  } as JSONSchema.JsonSchema7Root
}

/** The file's exact contents. */
export const render = (): string => `${JSON.stringify(make(), null, 2)}\n`
