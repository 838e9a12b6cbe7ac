/** Writes config/switchyard.schema.json from src/config/Schema.ts. Run: `npx vite-node scripts/genSchema.ts`. */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as JsonSchema from "../src/config/JsonSchema.js"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const target = resolve(root, JsonSchema.path)
mkdirSync(dirname(target), { recursive: true })
writeFileSync(target, JsonSchema.render())
console.log(`wrote ${JsonSchema.path}`)
