/**
 * The etcd/Consul key layout (CONTRACT §3): one key per dynamic entity, its value a JSON or YAML
 * document of that entity.
 *
 * ```
 * <prefix>routes/<name>       <prefix>pools/<name>       <prefix>middlewares/<name>
 * ```
 *
 * `fromKeyValues` turns a full listing of the prefix into the layer's entities. It never throws: a
 * value that does not parse, a name outside `[A-Za-z0-9][A-Za-z0-9._-]*` or a key outside the layout
 * becomes a `ConfigProblem` (and the entity is left out), so the snapshot carries it and the merged
 * config is rejected while the last good one keeps serving. Values are only parsed here; they are
 * decoded against the schemas once, downstream.
 */
import { parse } from "yaml"
import type { ConfigProblem } from "../src/config/ConfigError.js"
import { type EntityKind, isEntityKind } from "../src/config/Schema.js"
import { duplicateKeys } from "../src/config/JsonKeys.js"
import { deepFreeze, TextMemo } from "../src/config/TextMemo.js"
import { type DynamicEntities, emptyEntityMaps } from "./ConfigSource.js"

/** CONTRACT §2: names of named things. */
export const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * Largest value accepted for one entity. etcd's default request limit is 1.5 MiB and Consul's KV
 * values are at most 512 KiB; anything bigger is not a hand-written entity.
 */
export const maxValueBytes = 1024 * 1024

/**
 * A non-empty prefix always ends with `/`, so `/switchyard` cannot also match `/switchyard-old/...`
 * and the entity keys are `<prefix>routes/<name>`. The empty prefix (the whole keyspace) stays empty.
 */
export const normalizePrefix = (prefix: string): string =>
  prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`

/** Orders `[key, value]` entries by key (code-unit order). */
export const byKey = (a: readonly [string, string], b: readonly [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0

/**
 * Builds a layer's entities from every key under `prefix` (the order of `entries` does not matter).
 *
 * @param source the source kind, `etcd` or `consul`: a problem's `file` is `<source>:<key>`, e.g.
 *   `etcd:/switchyard/routes/api`.
 * @param prefix the listed prefix, as given to the store (see `normalizePrefix`).
 * @param entries `[key, value]` pairs, values already decoded to text (Consul's base64 undone).
 *
 * Keys that are folder markers (ending in `/` with an empty value, as Consul's UI creates) are
 * ignored. An empty listing gives empty entities and no problem.
 */
export const fromKeyValues = (
  source: string,
  prefix: string,
  entries: ReadonlyArray<readonly [key: string, value: string]>
): { entities: DynamicEntities; problems: Array<ConfigProblem> } => {
  const entities = emptyEntityMaps()
  const problems: Array<ConfigProblem> = []
  const sorted = [...entries].sort(byKey)

  for (const [key, value] of sorted) {
    const file = `${source}:${key}`
    if (!key.startsWith(prefix)) {
      problems.push({ file, path: key, message: `expected a key under the prefix ${quote(prefix)}, found ${quote(key)}` })
      continue
    }
    const relative = key.slice(prefix.length)
    if (relative.endsWith("/") || relative === "") {
      if (value.trim() === "") continue
    }
    const slash = relative.indexOf("/")
    const kind = slash < 0 ? relative : relative.slice(0, slash)
    if (slash < 0 || !isEntityKind(kind)) {
      problems.push({
        file,
        path: relative,
        message: `expected a key ${prefix}routes/<name>, ${prefix}pools/<name> or ${prefix}middlewares/<name>, found ${
          quote(key)
        }`
      })
      continue
    }
    const name = relative.slice(slash + 1)
    const path = `${kind}.${name}`
    if (!namePattern.test(name)) {
      problems.push({
        file,
        path,
        message: `expected a ${singular[kind]} name matching ${namePattern.source}, found ${quote(name)}`
      })
      continue
    }
    const parsed = parseEntity(value)
    if (parsed._tag === "Invalid") {
      problems.push({ file, path, message: `expected a JSON or YAML document of one ${singular[kind]}, found ${parsed.found}` })
      continue
    }
    entities[kind][name] = parsed.value
  }
  return { entities, problems }
}

const singular: Record<EntityKind, string> = { routes: "route", pools: "pool", middlewares: "middleware" }

const quote = (text: string): string => JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)

type Parsed = { readonly _tag: "Valid"; readonly value: unknown } | { readonly _tag: "Invalid"; readonly found: string }

/**
 * Both stores re-list the whole prefix on every change, so every value but the changed one was parsed
 * the time before: a parsed value is kept by its text (≈1.5 ms of a reload with six keys was YAML
 * parsing). Kept values are frozen, since snapshots share them; merging copies and decoding builds new
 * objects, so nothing downstream writes to them.
 */
const parsedByText = new TextMemo<Parsed>(4 * 1024 * 1024)

const parseEntity = (value: string): Parsed => {
  const cached = parsedByText.get(value)
  if (cached !== undefined) return cached
  const parsed = parseText(value)
  if (parsed._tag === "Valid") deepFreeze(parsed.value)
  parsedByText.set(value, parsed)
  return parsed
}

const parseText = (value: string): Parsed => {
  const bytes = Buffer.byteLength(value, "utf8")
  if (bytes > maxValueBytes) {
    return { _tag: "Invalid", found: `a value of ${bytes} bytes (at most ${maxValueBytes} are accepted)` }
  }
  let document = asJson(value)
  if (document === undefined) {
    try {
      // JSON is YAML 1.2; `uniqueKeys` (the default) rejects duplicate keys and the alias limit
      // (maxAliasCount, default 100) rejects "billion laughs" documents. logLevel "error": warnings
      // are not printed, errors still throw.
      document = parse(value, { logLevel: "error" })
    } catch (error) {
      return { _tag: "Invalid", found: `invalid syntax: ${firstLine(error)}` }
    }
  }
  if (document === null || document === undefined) return { _tag: "Invalid", found: "an empty value" }
  if (Array.isArray(document)) return { _tag: "Invalid", found: "a list" }
  if (typeof document !== "object") return { _tag: "Invalid", found: `a ${typeof document} (${quote(String(document))})` }
  return { _tag: "Valid", value: document }
}

/**
 * A value that is a JSON object (as tools write them) parsed as JSON: the document YAML would give, in
 * microseconds instead of YAML's ≈0.7 ms. `undefined` for anything else, duplicate keys included
 * (YAML's parser then reports them, as for a YAML value).
 */
const asJson = (value: string): unknown => {
  let i = 0
  while (i < value.length && value.charCodeAt(i) <= 32) i++
  if (value.charCodeAt(i) !== 123 /* { */) return undefined
  let document: unknown
  try {
    document = JSON.parse(value)
  } catch {
    return undefined // not JSON: a YAML flow mapping (`{pool: a}`), or broken
  }
  return duplicateKeys(value).length === 0 ? document : undefined
}

const firstLine = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  return (message.split("\n")[0] ?? "").replace(/:\s*$/, "")
}
