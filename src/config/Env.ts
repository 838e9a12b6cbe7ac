/**
 * Environment overrides (CONTRACT §3): `SWITCHYARD__a__b__c=value` sets key path `a.b.c` of the document;
 * the value is read as a YAML scalar or flow collection (`5s`, `true`, `[{url: "http://…"}]`).
 * Overrides are applied on the file's document before decoding, so they are checked like the file.
 */
import { parse } from "yaml"
import type { ConfigProblem } from "./ConfigError.js"
import type { Env as Environment } from "./Load.js"

export interface Override {
  readonly variable: string
  readonly path: ReadonlyArray<string>
  readonly value: unknown
}

/** The overrides under one prefix, and the variables under it that are not valid overrides. */
export interface Overrides {
  readonly overrides: ReadonlyArray<Override>
  readonly problems: ReadonlyArray<ConfigProblem>
}

/** Reads the overrides under `prefix` (sorted by variable name, so the result does not depend on env order). */
const read = (env: Environment, prefix: string): Overrides => {
  const out: Array<Override> = []
  const problems: Array<ConfigProblem> = []
  if (prefix === "") return { overrides: out, problems }
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(prefix)) continue
    const text = env[variable]
    if (text === undefined) continue
    const path = variable.slice(prefix.length).split("__")
    if (path.some((key) => key === "")) {
      problems.push({ file: `env:${variable}`, path: "", message: `expected ${prefix}key__key…=value, found an empty key in ${variable}` })
      continue
    }
    let value: unknown
    try {
      value = text === "" ? "" : parse(text)
    } catch (error) {
      problems.push({
        file: `env:${variable}`,
        path: path.join("."),
        message: `expected a YAML scalar or flow collection, found ${JSON.stringify(text)} (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`
      })
      continue
    }
    out.push({ variable, path, value })
  }
  // shared by every merge that reads this environment (see `overrides`)
  return { overrides: Object.freeze(out), problems: Object.freeze(problems) }
}

const readOnce = new WeakMap<Environment, Map<string, Overrides>>()

/**
 * The overrides under `prefix`, read once per environment object and prefix: the environment layer is
 * read at start (docs/dynamic-config.md), and enumerating `process.env` (a call into Node for every
 * variable) was a tenth of a reload's CPU when it was read again for every merge.
 */
export const overrides = (env: Environment, prefix: string): Overrides => {
  let byPrefix = readOnce.get(env)
  if (byPrefix === undefined) readOnce.set(env, byPrefix = new Map())
  let result = byPrefix.get(prefix)
  if (result === undefined) byPrefix.set(prefix, result = read(env, prefix))
  return result
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** A copy of `document` with every override set (intermediate maps created as needed). */
export const apply = (document: Readonly<Record<string, unknown>>, list: ReadonlyArray<Override>): Record<string, unknown> => {
  const root: Record<string, unknown> = { ...document }
  for (const { path, value } of list) {
    let node = root
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!
      const child = node[key]
      const copy = isRecord(child) ? { ...child } : {}
      node[key] = copy
      node = copy
    }
    node[path[path.length - 1]!] = value
  }
  return root
}

/**
 * Which variable set a key path (for naming the origin of a problem). With `before`, the document the
 * overrides were applied to, a problem about a key that document did not have (a required key missing
 * from a route that only an override defines) is the override's too, when the override created it.
 */
export const originOf = (
  list: ReadonlyArray<Override>,
  path: ReadonlyArray<PropertyKey>,
  before?: unknown
): string | undefined => {
  // the override set the key or one above it
  const above = lastOverride(list, (o) => o.path.length <= path.length && sharesPrefix(o.path, path, o.path.length))
  if (above !== undefined || before === undefined) return above
  // the first key of the path that `before` lacks: an override beneath it created it
  let node: unknown = before
  let missing = 0
  while (missing < path.length && typeof node === "object" && node !== null && String(path[missing]) in node) {
    node = (node as Record<string, unknown>)[String(path[missing])]
    missing++
  }
  if (missing === path.length) return undefined
  return lastOverride(list, (o) => o.path.length > missing && sharesPrefix(o.path, path, missing + 1))
}

/** The variable of the last override (the one that wins) satisfying `test`. */
const lastOverride = (list: ReadonlyArray<Override>, test: (o: Override) => boolean): string | undefined => {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i]!)) return `env:${list[i]!.variable}`
  return undefined
}

const sharesPrefix = (a: ReadonlyArray<string>, b: ReadonlyArray<PropertyKey>, n: number): boolean => {
  for (let j = 0; j < n; j++) if (a[j] !== String(b[j])) return false
  return true
}
