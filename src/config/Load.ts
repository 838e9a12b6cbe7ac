/**
 * Reading a configuration document: text → value (YAML, JSON or TOML) → `${VAR}` interpolation → schema
 * decode → cross-reference validation → not-yet-supported features. Every stage reports every problem it
 * finds at once, each with its file, key path and what was expected and found.
 *
 * When the schema rejects part of a document, the parts that did decode are still validated (with the
 * raw document's names as the defined names), so one run shows a typo in a duration and a dangling pool
 * reference together.
 */
import { readFile } from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import { parse as parseToml, TomlError } from "smol-toml"
import { LineCounter, parseDocument } from "yaml"
import { type ConfigProblem, ConfigError } from "./ConfigError.js"
import { duplicateKeys } from "./JsonKeys.js"
import { deepFreeze, TextMemo } from "./TextMemo.js"
import {
  AdminConfig,
  type EntityConfig,
  type EntityKind,
  entityKinds,
  entitySchemas,
  isEntityKind,
  found,
  ListenerConfig,
  Name,
  ObservabilityConfig,
  SourcesConfig,
  SwitchyardConfig
} from "./Schema.js"
import * as Support from "./Support.js"
import * as Validate from "./Validate.js"
import type { Path, PathProblem } from "./Validate.js"

export type Format = "yaml" | "json" | "toml"

/** Where problems come from: one file, or a function naming the source of each key path (merged configs). */
export type Origin = string | ((path: Path) => string)

export type Env = Readonly<Record<string, string | undefined>>

const parseOptions: AST.ParseOptions = { errors: "all", onExcessProperty: "error" }

// ---------------------------------------------------------------------------------------------------------
// paths and problems
// ---------------------------------------------------------------------------------------------------------

const SIMPLE_KEY = /^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/

/** `["routes", "api", "backends", 0, "pool"]` → `routes.api.backends[0].pool`; odd keys as `["a.b"]`. */
export const formatPath = (path: Path): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`
    const text = String(key)
    if (SIMPLE_KEY.test(text)) return out === "" ? text : `${out}.${text}`
    return `${out}[${JSON.stringify(text)}]`
  }, "")

const fileOf = (origin: Origin, path: Path): string => typeof origin === "string" ? origin : origin(path)

const configError = (problems: ReadonlyArray<PathProblem>, origin: Origin): ConfigError => {
  const seen = new Set<string>()
  const out: Array<ConfigProblem> = []
  for (const problem of problems) {
    const p = { file: fileOf(origin, problem.path), path: formatPath(problem.path), message: problem.message }
    const key = `${p.file}\u0000${p.path}\u0000${p.message}`
    if (!seen.has(key)) {
      seen.add(key)
      out.push(p)
    }
  }
  return new ConfigError({ problems: out })
}

const documentError = (file: string, message: string): ConfigError =>
  new ConfigError({ problems: [{ file, path: "", message }] })

// ---------------------------------------------------------------------------------------------------------
// parse issues → problems
// ---------------------------------------------------------------------------------------------------------

const describe = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "Literal":
      return ast.literal === null ? "null" : JSON.stringify(ast.literal)
    case "StringKeyword":
      return "a string"
    case "NumberKeyword":
      return "a number"
    case "BooleanKeyword":
      return "true or false"
    case "TupleType":
      return "a list"
    case "TypeLiteral":
      return "a map"
    case "Refinement":
    case "Transformation":
      return describe(ast.from)
    case "Suspend":
      return describe(ast.f())
    case "Union": {
      const literals = ast.types.filter((t): t is AST.Literal => AST.isLiteral(t) && t.literal !== null)
      const others = ast.types.filter((t) => !literals.includes(t as AST.Literal)).map(describe)
      const parts = [
        ...(literals.length > 1
          ? [`one of ${literals.map((l) => JSON.stringify(l.literal)).join(", ")}`]
          : literals.map(describe)),
        ...others
      ]
      return [...new Set(parts)].join(" or ")
    }
    default:
      return "a valid value"
  }
}

const annotatedMessage = (issue: ParseResult.ParseIssue & { readonly ast: AST.AST }): string | undefined => {
  const annotation = AST.getMessageAnnotation(issue.ast)
  if (Option.isNone(annotation)) return undefined
  const out = annotation.value(issue)
  if (typeof out === "string") return out
  if (typeof out === "object" && out !== null && "message" in out && typeof out.message === "string") return out.message
  return undefined
}

const issuesOf = (issues: ParseResult.SingleOrNonEmpty<ParseResult.ParseIssue>): ReadonlyArray<ParseResult.ParseIssue> =>
  Array.isArray(issues) ? issues as ReadonlyArray<ParseResult.ParseIssue> : [issues as ParseResult.ParseIssue]

/** A failure of the value's own type (a string where a map was expected), not of something inside it. */
const isRootMismatch = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Type":
      return issue.message === undefined
    case "Refinement":
      return issue.kind === "From" && isRootMismatch(issue.issue)
    case "Transformation":
      return issue.kind === "Encoded" && isRootMismatch(issue.issue)
    case "Composite":
      return AST.isUnion(issue.ast) && issuesOf(issue.issues).every(isRootMismatch)
    default:
      return false
  }
}

const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

const unexpectedKey = (parent: AST.AST | undefined, key: PropertyKey): string => {
  if (parent !== undefined && AST.isTypeLiteral(parent)) {
    // a key rejected by a map's key schema (an invalid name), rather than a typo in a fixed set of keys
    for (const signature of parent.indexSignatures) {
      const result = ParseResult.decodeUnknownEither(Schema.make(signature.parameter))(key)
      if (Either.isLeft(result)) {
        const [first] = problemsOf(result.left, [])
        if (first !== undefined) return `invalid key: ${first.message}`
      }
    }
    const known = parent.propertySignatures.map((ps) => String(ps.name))
    const text = String(key)
    const close = known
      .map((name) => ({ name, distance: editDistance(text.toLowerCase(), name.toLowerCase()) }))
      .filter(({ distance }) => distance <= Math.min(2, Math.floor(text.length / 2)))
      .sort((a, b) => a.distance - b.distance)[0]
    const expected = known.length > 0 ? `expected one of ${known.join(", ")}` : "expected no keys here"
    if (close !== undefined) return `unknown key (did you mean "${close.name}"?): ${expected}, found ${JSON.stringify(text)}`
    return `unknown key: ${expected}, found ${JSON.stringify(text)}`
  }
  return `unknown key: found ${JSON.stringify(String(key))}`
}

const unionProblems = (
  issue: ParseResult.Composite,
  issues: ReadonlyArray<ParseResult.ParseIssue>,
  path: Path
): Array<PathProblem> => {
  if (issues.length === 1) return problemsOf(issues[0]!, path)
  const deep = issues.filter((i) => !isRootMismatch(i))
  if (deep.length === 0) return [{ path, message: `expected ${describe(issue.ast)}, found ${found(issue.actual)}` }]
  // the member the value came closest to: the one with the fewest problems
  return deep
    .map((i) => problemsOf(i, path))
    .reduce((best, candidate) => candidate.length < best.length ? candidate : best)
}

/** Every problem in a parse issue, with key paths relative to `path`. */
export const problemsOf = (
  issue: ParseResult.ParseIssue,
  path: Path,
  parent?: AST.AST
): Array<PathProblem> => {
  switch (issue._tag) {
    case "Pointer": {
      const keys = Array.isArray(issue.path) ? issue.path as ReadonlyArray<PropertyKey> : [issue.path as PropertyKey]
      const next = [...path, ...keys]
      if (issue.issue._tag === "Unexpected") {
        return [{ path: next, message: unexpectedKey(parent, keys[keys.length - 1]!) }]
      }
      return problemsOf(issue.issue, next)
    }
    case "Composite": {
      const custom = annotatedMessage(issue)
      if (custom !== undefined) return [{ path, message: custom }]
      const issues = issuesOf(issue.issues)
      if (AST.isUnion(issue.ast)) return unionProblems(issue, issues, path)
      return issues.flatMap((i) => problemsOf(i, path, issue.ast))
    }
    case "Refinement":
    case "Transformation":
      return problemsOf(issue.issue, path, parent)
    case "Type":
      return [{
        path,
        message: issue.message ?? annotatedMessage(issue) ??
          `expected ${describe(issue.ast)}, found ${found(issue.actual)}`
      }]
    case "Missing":
      return [{ path, message: `required key is missing (expected ${describe(issue.ast.type)})` }]
    case "Unexpected":
      return [{ path, message: "unknown key" }]
    case "Forbidden":
      return [{ path, message: issue.message ?? "cannot be checked" }]
  }
}

// ---------------------------------------------------------------------------------------------------------
// text → value
// ---------------------------------------------------------------------------------------------------------

/** The format of a file, from its extension. */
export const formatOf = (file: string): Effect.Effect<Format, ConfigError> => {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase()
  switch (ext) {
    case "yaml":
    case "yml":
      return Effect.succeed("yaml")
    case "json":
      return Effect.succeed("json")
    case "toml":
      return Effect.succeed("toml")
    default:
      return Effect.fail(
        documentError(
          file,
          `expected a .yaml, .yml, .json or .toml file, found ${ext === undefined ? "no extension" : `".${ext}"`}`
        )
      )
  }
}

const lineColumn = (text: string, offset: number): { line: number; column: number } => {
  const before = text.slice(0, offset)
  const line = before.split("\n").length
  return { line, column: offset - before.lastIndexOf("\n") }
}

const firstLine = (message: string): string => message.split("\n")[0]!.trim()

const parseYaml = (text: string, file: string): Effect.Effect<unknown, ConfigError> => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return Effect.fail(
      new ConfigError({
        problems: doc.errors.map((e) => {
          const { line, col } = lineCounter.linePos(e.pos[0])
          return { file, path: "", message: `invalid YAML at line ${line}, column ${col}: ${firstLine(e.message)}` }
        })
      })
    )
  }
  return Effect.try({
    try: () => doc.toJS({ maxAliasCount: 1000 }) as unknown,
    catch: (e) => documentError(file, `invalid YAML: ${e instanceof Error ? firstLine(e.message) : String(e)}`)
  })
}

const JSON_STRING = /^"(?:[^"\\]|\\.)*"/

/** Duplicate keys of a JSON text `JSON.parse` accepted (it keeps the last; the first would be ignored). */
const duplicateJsonKeys = (text: string, file: string): ReadonlyArray<ConfigProblem> =>
  duplicateKeys(text).map(({ offset }) => {
    const { line, column } = lineColumn(text, offset)
    const key = JSON_STRING.exec(text.slice(offset))?.[0] ?? "a key"
    return { file, path: "", message: `invalid JSON at line ${line}, column ${column}: duplicate key ${key} (the first one would be ignored)` }
  })

const parseJson = (text: string, file: string): Effect.Effect<unknown, ConfigError> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => {
      const message = e instanceof Error ? e.message : String(e)
      const lc = /\(line (\d+) column (\d+)\)/.exec(message)
      const position = /at position (\d+)/.exec(message)
      const where = lc !== null
        ? { line: Number(lc[1]), column: Number(lc[2]) }
        : position !== null
        ? lineColumn(text, Number(position[1]))
        : text.trim() === ""
        ? lineColumn(text, text.length)
        : undefined
      const what = firstLine(message.replace(/\s*in JSON at position \d+.*$/, "").replace(/\s*\(line \d+ column \d+\)/, ""))
      return documentError(
        file,
        where === undefined
          ? `invalid JSON: ${what}`
          : `invalid JSON at line ${where.line}, column ${where.column}: ${what}`
      )
    }
  }).pipe(Effect.flatMap((document) => {
    const duplicates = duplicateJsonKeys(text, file)
    return duplicates.length === 0 ? Effect.succeed(document) : Effect.fail(new ConfigError({ problems: duplicates }))
  }))

const parseTomlText = (text: string, file: string): Effect.Effect<unknown, ConfigError> =>
  Effect.try({
    try: () => parseToml(text) as unknown,
    catch: (e) =>
      e instanceof TomlError
        ? documentError(
          file,
          `invalid TOML at line ${e.line}, column ${e.column}: ${firstLine(e.message).replace(/^Invalid TOML document: /, "")}`
        )
        : documentError(file, `invalid TOML: ${e instanceof Error ? firstLine(e.message) : String(e)}`)
  })

/** Parses a document's text; syntax errors name the file, line and column. */
export const parseText = (text: string, format: Format, file: string): Effect.Effect<unknown, ConfigError> => {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text
  switch (format) {
    case "yaml":
      return parseYaml(body, file)
    case "json":
      return parseJson(body, file)
    case "toml":
      return parseTomlText(body, file)
  }
}

// ---------------------------------------------------------------------------------------------------------
// ${VAR} interpolation
// ---------------------------------------------------------------------------------------------------------

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/

/** The `}` that closes the reference opened before `from`, past nested `${…}` (and `$${` literals). */
const closingBrace = (text: string, from: number): number => {
  let depth = 1
  for (let j = from; j < text.length; j++) {
    if (text.startsWith("$${", j)) j += 2
    else if (text.startsWith("${", j)) {
      depth++
      j++
    } else if (text.charCodeAt(j) === 125 /* } */ && --depth === 0) return j
  }
  return -1
}

const substitute = (text: string, env: Env): { readonly value: string; readonly problems: ReadonlyArray<string> } => {
  if (!text.includes("$")) return { value: text, problems: [] }
  let out = ""
  const problems: Array<string> = []
  let i = 0
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      out += "${"
      i += 3
    } else if (text.startsWith("${", i)) {
      const close = closingBrace(text, i + 2)
      if (close < 0) {
        problems.push(
          `expected \${VAR} or \${VAR:-default}, found an unterminated ${found(text.slice(i))} (write $\${ for a literal \${)`
        )
        break
      }
      const reference = text.slice(i + 2, close)
      const match = REFERENCE.exec(reference)
      if (match === null) {
        problems.push(`expected \${VAR} or \${VAR:-default}, found ${found(`\${${reference}}`)}`)
      } else {
        const [, name, fallback] = match
        const value = env[name!]
        if (value !== undefined && (value !== "" || fallback === undefined)) {
          out += value
        } else if (fallback !== undefined) {
          const inner = substitute(fallback, env) // a default may itself reference: ${A:-${B:-x}}
          out += inner.value
          problems.push(...inner.problems)
        } else {
          problems.push(
            `environment variable ${name} is not set (referenced as \${${name}}; write \${${name}:-default} to give a default)`
          )
        }
      }
      i = close + 1
    } else {
      out += text[i]
      i += 1
    }
  }
  return { value: out, problems }
}

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` (used when VAR is unset or empty) in every string value, whole or
 * part; `$${` is a literal `${`. Keys are left alone. A variable without a value or default is a problem.
 */
export const interpolate = (raw: unknown, env: Env, file: string): Effect.Effect<unknown, ConfigError> =>
  Effect.suspend(() => {
    const result = interpolateReporting(raw, env, file)
    return result.problems.length === 0 ? Effect.succeed(result.value) : Effect.fail(new ConfigError({ problems: result.problems }))
  })

/**
 * `interpolate` that never fails: the document with every reference it could resolve (the others left as
 * written) and the problems, so that a caller can report them together with the rest of the document's.
 */
export const interpolateReporting = (
  raw: unknown,
  env: Env,
  file: string
): { readonly value: unknown; readonly problems: ReadonlyArray<ConfigProblem> } => {
  const problems: Array<PathProblem> = []
  const walk = (value: unknown, path: Path): unknown => {
    if (typeof value === "string") {
      const result = substitute(value, env)
      for (const message of result.problems) problems.push({ path, message })
      return result.problems.length === 0 ? result.value : value
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]))
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {}
      for (const [key, item] of Object.entries(value)) {
        Object.defineProperty(out, key, { value: walk(item, [...path, key]), enumerable: true, writable: true, configurable: true })
      }
      return out
    }
    return value
  }
  const value = walk(raw, [])
  return { value, problems: problems.length === 0 ? [] : configError(problems, file).problems }
}

// ---------------------------------------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------------------------------------

const decodeDocument = Schema.decodeUnknownEither(SwitchyardConfig)

const decodeSection = <A, I>(schema: Schema.Schema<A, I>, value: unknown): A => {
  const fallback = () => Schema.decodeUnknownSync(schema)({})
  if (value === undefined) return fallback()
  return Either.getOrElse(Schema.decodeUnknownEither(schema)(value, parseOptions), fallback)
}

const isValidName = (name: string): boolean => Either.isRight(Schema.decodeUnknownEither(Name)(name))

const decodeEntities = <A, I>(schema: Schema.Schema<A, I>, value: unknown) => {
  const decoded: Record<string, A> = {}
  const names: Array<string> = []
  if (isPlainObject(value)) {
    const decode = Schema.decodeUnknownEither(schema)
    for (const [name, item] of Object.entries(value)) {
      names.push(name)
      const result = decode(item, parseOptions)
      if (isValidName(name) && Either.isRight(result)) {
        Object.defineProperty(decoded, name, { value: result.right, enumerable: true, writable: true, configurable: true })
      }
    }
  }
  return { decoded, names }
}

/** The rules beyond the schema, run on the parts of a rejected document that did decode. */
const partialProblems = (raw: unknown): ReadonlyArray<PathProblem> => {
  if (!isPlainObject(raw)) return []
  const listeners = decodeEntities(ListenerConfig, raw.listeners)
  const routes = decodeEntities(entitySchemas.routes, raw.routes)
  const pools = decodeEntities(entitySchemas.pools, raw.pools)
  const middlewares = decodeEntities(entitySchemas.middlewares, raw.middlewares)
  const partial: SwitchyardConfig = {
    listeners: listeners.decoded,
    routes: routes.decoded,
    pools: pools.decoded,
    middlewares: middlewares.decoded,
    admin: decodeSection(AdminConfig, raw.admin),
    observability: decodeSection(ObservabilityConfig, raw.observability),
    sources: decodeSection(SourcesConfig, raw.sources),
    shutdownTimeout: 0
  }
  const names: Validate.DefinedNames = {
    listeners: listeners.names,
    pools: pools.names,
    middlewares: middlewares.names
  }
  return [...Validate.validate(partial, names), ...Support.check(partial)]
}

/**
 * Decoded parts of documents, kept by the JSON text of their raw value: the document without its routes,
 * pools and middlewares, and each of those alone. A reload from etcd or Consul changes one entity or a
 * few, and decoding the whole document again was ≈1.8 ms of the ≈8 ms of CPU a reload took. The parts
 * decode exactly as the whole does (the document's schema is a struct whose entity maps are records of
 * the entity schemas). Only a document whose every part decodes is assembled this way: one with a
 * problem goes through the whole-document decode, which reports every problem with its path.
 */
const decodedParts = new TextMemo<unknown>(4 * 1024 * 1024)

type PartDecoder = (raw: unknown, options: AST.ParseOptions) => Either.Either<unknown, ParseResult.ParseError>

const entityDecoders = Object.fromEntries(
  Object.entries(entitySchemas).map(([kind, schema]) => [kind, Schema.decodeUnknownEither(schema as Schema.Schema<unknown, unknown>)])
) as Record<EntityKind, PartDecoder>

/** Only JSON values (no `Date` from TOML, no `undefined`): the JSON text is then the whole value. */
const isJsonValue = (value: unknown): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "object":
      if (value === null) return true
      if (Array.isArray(value)) return value.every(isJsonValue)
      return isPlainObject(value) && Object.values(value).every(isJsonValue)
    default:
      return false
  }
}

const decodePart = <A>(
  kind: string,
  decode: (raw: unknown, options: AST.ParseOptions) => Either.Either<A, ParseResult.ParseError>,
  raw: unknown
): A | undefined => {
  if (!isJsonValue(raw)) return undefined
  const text = `${kind}\0${JSON.stringify(raw)}`
  const kept = decodedParts.get(text)
  if (kept !== undefined) return kept as A
  const result = decode(raw, parseOptions)
  if (Either.isLeft(result)) return undefined
  deepFreeze(result.right)
  decodedParts.set(text, result.right)
  return result.right
}

/** The document assembled from decoded parts; `undefined` when it is not a plain object or a part has a problem. */
const decodeByParts = (raw: unknown): SwitchyardConfig | undefined => {
  if (!isPlainObject(raw)) return undefined
  const rest: Record<string, unknown> = {}
  for (const key of Object.keys(raw)) if (!isEntityKind(key)) rest[key] = raw[key]
  const base = decodePart("document", decodeDocument, rest)
  if (base === undefined) return undefined
  const config = { ...base } as { -readonly [K in keyof SwitchyardConfig]: SwitchyardConfig[K] }
  for (const kind of entityKinds) {
    if (!(kind in raw)) continue // the schema's default, as in `base`
    const entities = raw[kind]
    if (!isPlainObject(entities)) return undefined
    const decoded: Record<string, unknown> = {}
    for (const name of Object.keys(entities)) {
      const value = isValidName(name) ? decodePart(kind, entityDecoders[kind], entities[name]) : undefined
      if (value === undefined) return undefined
      decoded[name] = value
    }
    ;(config as Record<string, unknown>)[kind] = decoded
  }
  return config
}

/**
 * Decodes a whole document (already parsed and interpolated): schema, then references, then features not
 * supported yet. Fails with every problem at once.
 */
export const decode = (raw: unknown, origin: Origin): Effect.Effect<SwitchyardConfig, ConfigError> =>
  Effect.suspend(() => {
    const assembled = decodeByParts(raw)
    const result = assembled !== undefined ? Either.right(assembled) : decodeDocument(raw, parseOptions)
    if (Either.isLeft(result)) {
      return Effect.fail(configError([...problemsOf(result.left.issue, []), ...partialProblems(raw)], origin))
    }
    const config = result.right
    const problems = [...Validate.validate(config), ...Support.check(config)]
    return problems.length === 0 ? Effect.succeed(config) : Effect.fail(configError(problems, origin))
  })

/**
 * Decodes one route, pool or middleware alone (an admin API body, a KV value). Its name is checked;
 * references to other entities are not (they are checked once the layers are merged).
 */
export const decodeEntity = <K extends EntityKind>(
  kind: K,
  name: string,
  raw: unknown,
  origin: Origin
): Effect.Effect<EntityConfig[K], ConfigError> =>
  Effect.suspend(() => {
    const at: Path = [kind, name]
    const problems: Array<PathProblem> = []
    const nameResult = Schema.decodeUnknownEither(Name)(name)
    if (Either.isLeft(nameResult)) problems.push(...problemsOf(nameResult.left.issue, at))
    const schema = entitySchemas[kind] as unknown as Schema.Schema<EntityConfig[K], unknown>
    const result = Schema.decodeUnknownEither(schema)(raw, parseOptions)
    if (Either.isLeft(result)) {
      problems.push(...problemsOf(result.left.issue, at))
    } else {
      problems.push(...Validate.entity(kind, name, result.right), ...Support.checkEntity(kind, name, result.right))
    }
    return problems.length === 0 && Either.isRight(result)
      ? Effect.succeed(result.right)
      : Effect.fail(configError(problems, origin))
  })

/**
 * Reads a configuration file: its text, and its document parsed by extension and interpolated from `env`.
 * Fails when the file cannot be read or parsed; interpolation problems come with the document.
 */
export const readDocument = (
  path: string,
  env: Env = process.env
): Effect.Effect<{ readonly text: string; readonly document: unknown; readonly problems: ReadonlyArray<ConfigProblem> }, ConfigError> =>
  Effect.gen(function*() {
    const format = yield* formatOf(path)
    // node:fs rather than @effect/platform's FileSystem: importing the platform package costs ~35 MiB of RSS
    const text = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (e) => documentError(path, `cannot read the file: ${e instanceof Error ? e.message : String(e)}`)
    })
    const raw = yield* parseText(text, format, path)
    const { value, problems } = interpolateReporting(raw, env, path)
    return { text, document: value, problems }
  })

/** Reads, parses, interpolates (from `env`) and decodes a configuration file. */
export const loadFile = (
  path: string,
  env: Env = process.env
): Effect.Effect<SwitchyardConfig, ConfigError> =>
  Effect.flatMap(readDocument(path, env), ({ document, problems }) => decodeAfter(document, path, problems))

/**
 * `decode`, after `earlier` problems (interpolation, environment overrides) were found in the document:
 * fails with them and the document's own, one per file and key path (every problem at once).
 */
export const decodeAfter = (
  raw: unknown,
  origin: Origin,
  earlier: ReadonlyArray<ConfigProblem>
): Effect.Effect<SwitchyardConfig, ConfigError> => {
  if (earlier.length === 0) return decode(raw, origin)
  const reported = new Set(earlier.map((p) => `${p.file}\0${p.path}`))
  return Effect.flatMap(Effect.either(decode(raw, origin)), (decoded) =>
    Effect.fail(new ConfigError({
      problems: [
        ...earlier,
        ...(decoded._tag === "Left" ? decoded.left.problems.filter((p) => !reported.has(`${p.file}\0${p.path}`)) : [])
      ]
    })))
}
