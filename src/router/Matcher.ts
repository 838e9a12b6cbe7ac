/**
 * Route conditions compiled once per config revision into flat, monomorphic records that the router's
 * hot loop checks without allocating: methods are a small array compared by identity of content, the
 * path is a literal (exact or segment-aware prefix) or a prebuilt RegExp, and header/query conditions
 * are pre-classified (`kind`) so the per-request check is one switch per condition.
 *
 * Regular expressions are only ever run through `RegExp.prototype.test` while matching (V8 keeps that
 * on its no-allocation fast path); the router calls `exec` once, on the winning route only, to compute
 * the matched prefix.
 */
import type { Headers } from "../proxy/Message.js"

/** One header or query-parameter condition. `value` is exact, `regex` is tested, `present` checks existence. */
export interface Condition {
  readonly name: string
  readonly value?: string
  readonly regex?: string
  readonly present?: boolean
}

/** Every given condition must hold; an empty spec matches every request. */
export interface MatchSpec {
  /** Lower-case; "api.example.com" exact, "*.example.com" = any subdomain depth, not example.com itself. */
  readonly hosts?: ReadonlyArray<string>
  /** "/a" exact; "/a/*" = "/a", "/a/" and below (segment-aware: not "/ab"). */
  readonly path?: string
  /** JS regex source tested against the path. */
  readonly pathRegex?: string
  /** Upper-case method names. */
  readonly methods?: ReadonlyArray<string>
  /** Header name case-insensitive; value exact; regex tested; present: true = exists, false = absent. */
  readonly headers?: ReadonlyArray<Condition>
  /** Same shape as `headers`, on query parameters (decoded with URLSearchParams semantics). */
  readonly query?: ReadonlyArray<Condition>
}

/** How a route constrains the path. The numeric order is the tie-break order (higher ranks first). */
export const PathKind = { None: 0, Regex: 1, Prefix: 2, Exact: 3 } as const
export type PathKind = (typeof PathKind)[keyof typeof PathKind]

/** The kinds of compiled condition: absent, present, exact value, regex, exact value and regex. */
export const ConditionKind = { Absent: 0, Present: 1, Value: 2, Regex: 3, ValueAndRegex: 4 } as const
export type ConditionKind = (typeof ConditionKind)[keyof typeof ConditionKind]

export interface CompiledCondition {
  readonly name: string
  readonly kind: ConditionKind
  readonly value: string
  readonly regex: RegExp | undefined
}

export interface CompiledMatch {
  /** `undefined` = any method. */
  readonly methods: ReadonlyArray<string> | undefined
  readonly pathKind: PathKind
  /** Exact path, or the prefix of a "/a/*" path ("/a"; "" for "/*"), or the regex source. */
  readonly pathLiteral: string
  readonly pathRegex: RegExp | undefined
  /** The rank length used for "longer path": literal length, prefix length or regex source length. */
  readonly pathLength: number
  /** `undefined` = no header conditions. */
  readonly headers: ReadonlyArray<CompiledCondition> | undefined
  /** `undefined` = no query conditions. */
  readonly query: ReadonlyArray<CompiledCondition> | undefined
}

/** A parsed `hosts` entry. */
export type HostPattern =
  | { readonly _tag: "Exact"; readonly host: string }
  /** `suffix` has no leading dot: "*.example.com" → "example.com". */
  | { readonly _tag: "Wildcard"; readonly suffix: string }

const normaliseHost = (host: string): string => {
  const lower = host.trim().toLowerCase()
  return lower.endsWith(".") ? lower.slice(0, -1) : lower
}

/** Parses one `hosts` entry: "*.x" is a wildcard over every subdomain of x (at any depth), anything else is exact. */
export const parseHost = (host: string): HostPattern => {
  const normalised = normaliseHost(host)
  return normalised.startsWith("*.")
    ? { _tag: "Wildcard", suffix: normalised.slice(2) }
    : { _tag: "Exact", host: normalised }
}

const compileRegex = (source: string, where: string): RegExp => {
  try {
    return new RegExp(source)
  } catch (cause) {
    throw new Error(`${where}: invalid regular expression ${JSON.stringify(source)}`, { cause })
  }
}

const compileCondition = (condition: Condition, lowerCaseName: boolean, where: string): CompiledCondition => {
  const name = lowerCaseName ? condition.name.toLowerCase() : condition.name
  if (condition.present === false) {
    return { name, kind: ConditionKind.Absent, value: "", regex: undefined }
  }
  const regex = condition.regex === undefined ? undefined : compileRegex(condition.regex, `${where} ${condition.name}`)
  const value = condition.value ?? ""
  const kind: ConditionKind = condition.value !== undefined
    ? (regex === undefined ? ConditionKind.Value : ConditionKind.ValueAndRegex)
    : (regex === undefined ? ConditionKind.Present : ConditionKind.Regex)
  return { name, kind, value, regex }
}

const compileConditions = (
  conditions: ReadonlyArray<Condition> | undefined,
  lowerCaseName: boolean,
  where: string
): ReadonlyArray<CompiledCondition> | undefined =>
  conditions === undefined || conditions.length === 0
    ? undefined
    : conditions.map((c) => compileCondition(c, lowerCaseName, where))

/**
 * Compiles the non-host conditions of a match. Empty `methods`/`headers`/`query` arrays mean "no
 * condition". Throws (a defect: config validation must reject it first) on an invalid regex.
 */
export const compileMatch = (spec: MatchSpec): CompiledMatch => {
  const methods = spec.methods === undefined || spec.methods.length === 0
    ? undefined
    : spec.methods.map((m) => m.toUpperCase())
  let pathKind: PathKind = PathKind.None
  let pathLiteral = ""
  let pathRegex: RegExp | undefined = undefined
  if (spec.path !== undefined) {
    if (spec.path.endsWith("/*")) {
      pathKind = PathKind.Prefix
      pathLiteral = spec.path.slice(0, -2)
    } else {
      pathKind = PathKind.Exact
      pathLiteral = spec.path
    }
  } else if (spec.pathRegex !== undefined) {
    pathKind = PathKind.Regex
    pathLiteral = spec.pathRegex
    pathRegex = compileRegex(spec.pathRegex, "pathRegex")
  }
  return {
    methods,
    pathKind,
    pathLiteral,
    pathRegex,
    pathLength: pathLiteral.length,
    headers: compileConditions(spec.headers, true, "header"),
    query: compileConditions(spec.query, false, "query parameter")
  }
}

/** Lists what is wrong with a match spec (invalid regexes, both `path` and `pathRegex`, bad hosts); empty when valid. */
export const validateMatch = (spec: MatchSpec): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const checkRegex = (source: string, where: string) => {
    try {
      new RegExp(source)
    } catch (error) {
      problems.push(`${where}: invalid regular expression ${JSON.stringify(source)} (${(error as Error).message})`)
    }
  }
  if (spec.path !== undefined && spec.pathRegex !== undefined) problems.push("path and pathRegex are mutually exclusive")
  if (spec.path !== undefined && !spec.path.startsWith("/")) problems.push(`path: must start with "/", got ${JSON.stringify(spec.path)}`)
  if (spec.pathRegex !== undefined) checkRegex(spec.pathRegex, "pathRegex")
  for (const host of spec.hosts ?? []) {
    const pattern = parseHost(host)
    const rest = pattern._tag === "Exact" ? pattern.host : pattern.suffix
    if (rest === "" || rest.includes("*")) problems.push(`hosts: invalid host pattern ${JSON.stringify(host)}`)
  }
  for (const [key, conditions] of [["headers", spec.headers], ["query", spec.query]] as const) {
    for (const c of conditions ?? []) {
      if (c.regex !== undefined) checkRegex(c.regex, `${key}.${c.name}.regex`)
    }
  }
  return problems
}

// ---- per-request checks (hot path: no allocation, no closures) ----

export const matchesMethod = (methods: ReadonlyArray<string>, method: string): boolean => {
  for (let i = 0; i < methods.length; i++) {
    if (methods[i] === method) return true
  }
  return false
}

/**
 * Segment-aware prefix test: "/a" is a prefix of "/a" and "/a/…", never of "/ab". A hand loop rather
 * than `startsWith`: on Node 20 `startsWith` costs ~70 ns once several characters match (sibling
 * prefixes like "/shared/section1" vs "/shared/section3"), the loop ~10 ns. It compares from the end,
 * where sibling prefixes differ.
 */
export const hasSegmentPrefix = (path: string, prefix: string): boolean => {
  const n = prefix.length
  if (path.length !== n && path.charCodeAt(n) !== 47) return false
  for (let i = n - 1; i >= 0; i--) {
    if (path.charCodeAt(i) !== prefix.charCodeAt(i)) return false
  }
  return true
}

/** Path check; case-sensitive, percent-encoding untouched. */
export const matchesPath = (m: CompiledMatch, path: string): boolean => {
  switch (m.pathKind) {
    case PathKind.None:
      return true
    case PathKind.Exact:
      return path === m.pathLiteral
    case PathKind.Prefix:
      return hasSegmentPrefix(path, m.pathLiteral)
    case PathKind.Regex:
      return m.pathRegex!.test(path)
  }
}

/** The prefix to report for a path that `matchesPath` accepted. */
export const matchedPrefix = (m: CompiledMatch, path: string): string => {
  if (m.pathKind === PathKind.Regex) {
    const result = m.pathRegex!.exec(path)
    return result !== null && result.index === 0 ? result[0] : ""
  }
  return m.pathLiteral
}

const matchesOne = (c: CompiledCondition, v: string): boolean => {
  switch (c.kind) {
    case ConditionKind.Value:
      return v === c.value
    case ConditionKind.Regex:
      return c.regex!.test(v)
    case ConditionKind.ValueAndRegex:
      return v === c.value && c.regex!.test(v)
    default:
      return true
  }
}

/**
 * A field value, or else one of the members of the comma-separated list it is: Node joins a header sent
 * several times with ", ", and RFC 9110 §5.3 makes the two forms equivalent.
 */
const matchesField = (c: CompiledCondition, v: string): boolean => {
  if (matchesOne(c, v)) return true
  if (v.indexOf(",") === -1) return false
  const members = v.split(",")
  for (let i = 0; i < members.length; i++) {
    if (matchesOne(c, members[i]!.trim())) return true
  }
  return false
}

/**
 * Header conditions; a header sent several times (joined by Node, or an array) satisfies `value`/`regex`
 * when any of its values does.
 */
export const matchesHeaders = (conditions: ReadonlyArray<CompiledCondition>, headers: Headers): boolean => {
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!
    const v = headers[c.name] as unknown
    // typeof/isArray instead of hasOwnProperty: "constructor" or "__proto__" on a plain object are not headers
    if (typeof v === "string") {
      if (c.kind === ConditionKind.Absent || !matchesField(c, v)) return false
    } else if (Array.isArray(v)) {
      if (c.kind === ConditionKind.Absent) return false
      if (c.kind === ConditionKind.Present) continue
      let any = false
      for (let j = 0; j < v.length; j++) {
        if (typeof v[j] === "string" && matchesOne(c, v[j] as string)) {
          any = true
          break
        }
      }
      if (!any) return false
    } else if (c.kind !== ConditionKind.Absent) {
      return false
    }
  }
  return true
}

/** Query conditions against parameters parsed once per request; a repeated parameter satisfies `value`/`regex` when any occurrence does. */
export const matchesQuery = (conditions: ReadonlyArray<CompiledCondition>, params: URLSearchParams): boolean => {
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!
    switch (c.kind) {
      case ConditionKind.Absent:
        if (params.has(c.name)) return false
        break
      case ConditionKind.Present:
        if (!params.has(c.name)) return false
        break
      case ConditionKind.Value:
      case ConditionKind.Regex:
      case ConditionKind.ValueAndRegex: {
        const values = params.getAll(c.name)
        let any = false
        for (let j = 0; j < values.length; j++) {
          if (matchesOne(c, values[j]!)) {
            any = true
            break
          }
        }
        if (!any) return false
        break
      }
    }
  }
  return true
}
