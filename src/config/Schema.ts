/**
 * The configuration document (CONTRACT §2) as `effect/Schema` schemas. Every config type in the code base is
 * derived from these (`typeof X.Type`); nothing is written twice.
 *
 * Conventions of this file:
 * - an omitted key decodes to its default (`withDefault`), and the default is also an annotation so the
 *   generated JSON Schema shows it; nested objects default to their own all-defaults value;
 * - every filter says what it expected and what it found, so problems need no further wording;
 * - every filter carries a `jsonSchema` annotation (possibly empty) so `JSONSchema.make` keeps its
 *   description and default;
 * - unknown keys are rejected by decoding with `onExcessProperty: "error"` (see `Load.decode`).
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Address from "./Address.js"
import { Duration } from "./Duration.js"

// ---------------------------------------------------------------------------------------------------------
// building blocks
// ---------------------------------------------------------------------------------------------------------

/** A short rendering of a value a user wrote, for "found …" in problem messages. */
export const found = (u: unknown): string => {
  if (typeof u === "string") {
    const text = JSON.stringify(u)
    return text.length > 80 ? `${text.slice(0, 77)}…"` : text
  }
  if (typeof u === "number" || typeof u === "boolean" || typeof u === "bigint") return String(u)
  if (u === null) return "null"
  if (u === undefined) return "nothing"
  if (Array.isArray(u)) return "a list"
  if (typeof u === "object") {
    const proto = Object.getPrototypeOf(u)
    return proto === Object.prototype || proto === null ? "a map" : `a ${proto?.constructor?.name ?? "value"}`
  }
  return typeof u
}

type JsonSchemaAnnotation = Record<string, unknown>

/** Refines a schema; `problem` returns what was wrong (a full sentence fragment) or `undefined`. */
const refine = <A, I>(
  schema: Schema.Schema<A, I>,
  problem: (a: A) => string | undefined,
  jsonSchema: JsonSchemaAnnotation = {}
): Schema.Schema<A, I> => schema.pipe(Schema.filter((a: A) => problem(a) ?? true, { jsonSchema }))

/** An optional key that decodes to `value` when omitted (and documents it in the JSON Schema). */
const withDefault = <A, I>(schema: Schema.Schema<A, I>, value: A, description?: string) =>
  Schema.optionalWith(
    schema.annotations(description === undefined ? { default: value } : { default: value, description }),
    { exact: true, default: () => value }
  )

/** An optional key that stays absent (`undefined`) when omitted. */
const optional = <A, I>(schema: Schema.Schema<A, I>, description?: string) =>
  Schema.optionalWith(description === undefined ? schema : schema.annotations({ description }), { exact: true })

const described = <A, I>(schema: Schema.Schema<A, I>, description: string): Schema.Schema<A, I> =>
  schema.annotations({ description })

/** The decoded value of an all-defaults object. */
const defaultsOf = <A, I>(schema: Schema.Schema<A, I>): A => Schema.decodeUnknownSync(schema)({})

const lowercased = <I>(schema: Schema.Schema<string, I>): Schema.Schema<string, I> =>
  Schema.transform(schema, Schema.String, { strict: true, decode: (s) => s.toLowerCase(), encode: (s) => s })

const uppercased = <I>(schema: Schema.Schema<string, I>): Schema.Schema<string, I> =>
  Schema.transform(schema, Schema.String, { strict: true, decode: (s) => s.toUpperCase(), encode: (s) => s })

interface NumberRange {
  readonly integer?: boolean
  readonly min?: number
  readonly exclusiveMin?: number
  readonly max?: number
}

const numberPhrase = (range: NumberRange): string => {
  const noun = range.integer ? "an integer" : "a number"
  if (range.min !== undefined && range.max !== undefined) return `${noun} from ${range.min} to ${range.max}`
  if (range.exclusiveMin !== undefined && range.max !== undefined) {
    return `${noun} greater than ${range.exclusiveMin} and at most ${range.max}`
  }
  if (range.min !== undefined) return `${noun} of at least ${range.min}`
  if (range.exclusiveMin !== undefined) return `${noun} greater than ${range.exclusiveMin}`
  if (range.max !== undefined) return `${noun} of at most ${range.max}`
  return noun
}

const number = (range: NumberRange): Schema.Schema<number> => {
  const phrase = numberPhrase(range)
  const jsonSchema: JsonSchemaAnnotation = {}
  if (range.min !== undefined) jsonSchema.minimum = range.min
  if (range.exclusiveMin !== undefined) jsonSchema.exclusiveMinimum = range.exclusiveMin
  if (range.max !== undefined) jsonSchema.maximum = range.max
  // a `type` in a refinement's jsonSchema replaces its description and default, so it goes on the base
  const base = range.integer ? Schema.Number.annotations({ jsonSchema: { type: "integer" } }) : Schema.Number
  return refine(base, (n) => {
    const ok = Number.isFinite(n) &&
      (!range.integer || Number.isSafeInteger(n)) &&
      (range.min === undefined || n >= range.min) &&
      (range.exclusiveMin === undefined || n > range.exclusiveMin) &&
      (range.max === undefined || n <= range.max)
    return ok ? undefined : `expected ${phrase}, found ${found(n)}`
  }, jsonSchema)
}

const Int = number({ integer: true })
const PositiveInt = number({ integer: true, min: 1 })
const NonNegativeInt = number({ integer: true, min: 0 })
const NonNegativeNumber = number({ min: 0 })
const PositiveNumber = number({ exclusiveMin: 0 })
const Percent = number({ min: 0, max: 100 })
const Ratio = number({ min: 0, max: 1 })

const PositiveDuration = refine(
  Duration,
  (ms) => ms > 0 ? undefined : `expected a duration greater than zero, found ${found(ms)}`
)

const NonEmptyString = refine(
  Schema.String,
  (s) => s.length > 0 ? undefined : `expected a non-empty string, found ""`,
  { minLength: 1 }
)

/** A list with at least one element; `what` names the elements ("backends"). */
const nonEmptyList = <A, I>(item: Schema.Schema<A, I>, what: string, hint = "") =>
  refine(
    Schema.Array(item),
    (list) => list.length > 0 ? undefined : `expected at least one of the ${what}, found an empty list${hint}`,
    { minItems: 1 }
  )

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** The name of a listener, route, pool or middleware (a key of those maps). */
export const Name = refine(
  Schema.String,
  (s) => NAME.test(s) ? undefined : `expected a name matching ${NAME.source}, found ${found(s)}`,
  { pattern: NAME.source }
)

/** A map keyed by {@link Name}. Keys that are not names are reported by decoding with `onExcessProperty: "error"`. */
const namedMap = <A, I>(value: Schema.Schema<A, I>) => Schema.Record({ key: Name, value })

/** A reference to a named thing; whether it exists is checked by `Validate`, with the defined names listed. */
const Reference = NonEmptyString

// RFC 9110 §5.6.2 token
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** An HTTP header name as written (an RFC 9110 token). */
const HeaderNameToken = refine(
  Schema.String,
  (s) => TOKEN.test(s) ? undefined : `expected an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~), found ${found(s)}`,
  { pattern: TOKEN.source }
)

/** An HTTP header name, stored lower-case. */
export const HeaderName = lowercased(HeaderNameToken)

// what Node's `setHeader` accepts (lib/_http_common.js checkInvalidHeaderChar): HTAB, SP-~, obs-text
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/** An HTTP header value: no CR, LF, NUL or other control characters (response splitting, CONTRACT §4). */
export const HeaderValue = refine(
  Schema.String,
  (s) =>
    HEADER_VALUE.test(s)
      ? undefined
      : `expected a header value without CR, LF, NUL or other control characters, found ${found(s)}`,
  { pattern: HEADER_VALUE.source }
)

/** An HTTP method token, stored upper-case. */
export const Method = uppercased(refine(
  Schema.String,
  (s) => TOKEN.test(s) ? undefined : `expected an HTTP method such as "GET", found ${found(s)}`,
  { pattern: TOKEN.source }
))

/** A JavaScript regular expression source; it must compile. */
export const Regex = refine(Schema.String, (s) => {
  try {
    new RegExp(s)
    return undefined
  } catch (e) {
    return `expected a valid regular expression, found ${found(s)} (${e instanceof Error ? e.message : String(e)})`
  }
}, { format: "regex" })

/** A header map (`set`/`add`): header names are stored lower-case; two spellings of one name are a problem. */
const HeaderMap = Schema.transformOrFail(
  Schema.Record({ key: HeaderNameToken, value: HeaderValue }),
  Schema.Record({ key: Schema.String, value: Schema.String }),
  {
    strict: true,
    decode: (input, _, ast) => {
      const out: Record<string, string> = {}
      const seen = new Map<string, string>()
      for (const [key, value] of Object.entries(input)) {
        const lower = key.toLowerCase()
        const first = seen.get(lower)
        if (first !== undefined) {
          return ParseResult.fail(
            new ParseResult.Pointer(
              key,
              input,
              new ParseResult.Type(ast, value, `header "${lower}" is given twice (as "${first}" and "${key}")`)
            )
          )
        }
        seen.set(lower, key)
        Object.defineProperty(out, lower, { value, enumerable: true, writable: true, configurable: true })
      }
      return ParseResult.succeed(out)
    },
    encode: (map) => ParseResult.succeed(map)
  }
)

const httpUrlProblem = (s: string): string | undefined => {
  let url: URL
  try {
    url = new URL(s)
  } catch {
    return `expected an absolute http:// or https:// URL, found ${found(s)}`
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `expected an http:// or https:// URL, found ${found(s)} (scheme ${url.protocol.slice(0, -1)})`
  }
  if (url.hostname === "") return `expected a URL with a host, found ${found(s)}`
  if (url.username !== "" || url.password !== "") {
    return `expected a URL without credentials, found ${found(s)}`
  }
  return undefined
}

/** An absolute `http://` or `https://` URL with a host (an etcd or Consul endpoint, an OTLP endpoint). */
const HttpUrl = refine(Schema.String, httpUrlProblem, { format: "uri" })

/** A backend server URL: `http(s)://host[:port]`, no path other than `/`, no query, fragment or credentials. */
const ServerUrl = refine(Schema.String, (s) => {
  const problem = httpUrlProblem(s)
  if (problem !== undefined) return problem
  const url = new URL(s)
  if (url.pathname !== "/" && url.pathname !== "") return `expected a server URL without a path, found ${found(s)}`
  if (url.search !== "" || url.hash !== "" || s.includes("?") || s.includes("#")) {
    return `expected a server URL without a query or fragment, found ${found(s)}`
  }
  return undefined
}, { format: "uri" })

/** A listen address, `host:port` (`[::1]:8080` for IPv6; port 0 = any free port). */
export const ListenAddress = refine(Schema.String, Address.addressProblem)

/** A CIDR (`10.0.0.0/8`, `fd00::/8`) or a plain IP address. */
const TrustedProxy = refine(
  Schema.String,
  (s) =>
    Address.parseCidr(s) !== undefined
      ? undefined
      : `expected an IP address or CIDR such as "10.0.0.0/8", "127.0.0.1" or "::1/128", found ${found(s)}`
)

// ---------------------------------------------------------------------------------------------------------
// listeners
// ---------------------------------------------------------------------------------------------------------

export const ListenerLimits = Schema.Struct({
  maxHeaderBytes: withDefault(PositiveInt, 16384, "Request header bytes above which the answer is 431"),
  maxBodyBytes: withDefault(
    Schema.NullOr(NonNegativeInt),
    null,
    "Request body bytes above which the answer is 413; null = unlimited (streamed)"
  ),
  headersTimeout: withDefault(Duration, 10_000, "The client must send the request headers within this (→ 408)"),
  requestTimeout: withDefault(Duration, 300_000, "The whole request must be received within this (→ 408)"),
  idleTimeout: withDefault(Duration, 60_000, "A keep-alive connection idle this long is closed"),
  sendTimeout: withDefault(
    Duration,
    60_000,
    "A client that accepts no response bytes for this long is disconnected (slow read)"
  ),
  maxHeaderCount: withDefault(PositiveInt, 100, "Request headers above this count give 431"),
  maxConnections: withDefault(Schema.NullOr(PositiveInt), null, "Open connections cap; null = no cap")
})
export type ListenerLimits = typeof ListenerLimits.Type

const Pem = refine(
  Schema.String,
  (s) => s.includes("-----BEGIN ") ? undefined : `expected a PEM block ("-----BEGIN …"), found ${found(s)}`
)

export const TlsCertificateFiles = Schema.Struct({
  certFile: described(NonEmptyString, "PEM certificate chain file (watched and hot-reloaded)"),
  keyFile: described(NonEmptyString, "PEM private key file (watched and hot-reloaded)")
})
export type TlsCertificateFiles = typeof TlsCertificateFiles.Type

export const TlsCertificateInline = Schema.Struct({
  cert: described(Pem, "Inline PEM certificate chain"),
  key: described(Pem, "Inline PEM private key")
})
export type TlsCertificateInline = typeof TlsCertificateInline.Type

export const TlsCertificate = Schema.Union(TlsCertificateFiles, TlsCertificateInline)
export type TlsCertificate = typeof TlsCertificate.Type

export const ClientAuthConfig = Schema.Struct({
  caFile: described(NonEmptyString, "PEM file of the CAs client certificates must chain to"),
  required: withDefault(Schema.Boolean, true, "false: a client certificate is verified when sent, not required")
})
export type ClientAuthConfig = typeof ClientAuthConfig.Type

export const TlsConfig = Schema.Struct({
  certificates: nonEmptyList(TlsCertificate, "certificates"),
  minVersion: withDefault(Schema.Literal("TLSv1.2", "TLSv1.3"), "TLSv1.2"),
  clientAuth: withDefault(Schema.NullOr(ClientAuthConfig), null, "Mutual TLS; null = no client certificates")
})
export type TlsConfig = typeof TlsConfig.Type

const listenerFields = <H extends Schema.Struct.Field>(http2: H) => ({
  address: described(ListenAddress, "host:port; IPv6 as [::1]:8080; port 0 = any free port"),
  tls: withDefault(Schema.NullOr(TlsConfig), null, "Present ⇒ HTTPS"),
  http2,
  trustedProxies: withDefault(
    Schema.Array(TrustedProxy),
    [],
    "CIDRs or IPs whose X-Forwarded-*/Forwarded headers are appended to; others are overwritten"
  ),
  limits: withDefault(ListenerLimits, defaultsOf(ListenerLimits))
})

/** A listener. `http2` defaults to `true` with `tls` (h2 by ALPN) and `false` without (h2c is opt-in). */
export const ListenerConfig = Schema.transform(
  Schema.Struct(listenerFields(optional(
    Schema.Boolean,
    "With tls: offer h2 by ALPN (default true); without tls: h2c prior knowledge (default false)"
  ))),
  Schema.typeSchema(Schema.Struct(listenerFields(Schema.Boolean))),
  {
    strict: true,
    decode: ({ http2, ...rest }) => ({ ...rest, http2: http2 ?? rest.tls !== null }),
    encode: (listener) => listener
  }
).annotations({ identifier: "ListenerConfig" })
export type ListenerConfig = typeof ListenerConfig.Type

// ---------------------------------------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------------------------------------

const hostPatternProblem = (s: string): string | undefined => {
  const host = s.startsWith("*.") ? s.slice(2) : s
  if (host.includes(":") && !host.startsWith("[") && !Address.isIPv6(host)) {
    return `expected a host name without a port (the port is ignored when matching), found ${found(s)}`
  }
  const ok = Address.isHostname(host) || (s === host && (
    Address.isIPv4(host) ||
    Address.isIPv6(host) ||
    (host.startsWith("[") && host.endsWith("]") && Address.isIPv6(host.slice(1, -1)))
  ))
  return ok ? undefined : `expected a host name such as "api.example.com" or "*.example.com", found ${found(s)}`
}

/** `api.example.com` or `*.example.com` (any subdomain depth, not the domain itself); stored lower-case. */
const HostPattern = lowercased(refine(Schema.String, hostPatternProblem))

const pathProblem = (s: string): string | undefined => {
  if (!s.startsWith("/")) return `expected a path starting with "/", found ${found(s)}`
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f?#]/.test(s)) {
    return `expected a path without spaces, control characters, "?" or "#", found ${found(s)}`
  }
  const star = s.indexOf("*")
  if (star >= 0 && !(s.endsWith("/*") && star === s.length - 1)) {
    return `expected "*" only as a trailing "/*" (such as "/api/*"), found ${found(s)}`
  }
  return undefined
}

/** A request path: `/a` exact, `/a/*` = `/a`, `/a/` and below. */
const MatchPath = refine(Schema.String, pathProblem)

const conditionProblem = (c: { value?: unknown; regex?: unknown; present?: unknown }): string | undefined => {
  const given = (["value", "regex", "present"] as const).filter((k) => c[k] !== undefined)
  return given.length === 1
    ? undefined
    : `expected exactly one of value, regex or present, found ${given.length === 0 ? "none" : given.join(" and ")}`
}

const conditionFields = <N extends Schema.Struct.Field>(name: N) => ({
  name,
  value: optional(Schema.String, "Matches when the value is exactly this"),
  regex: optional(Regex, "Matches when the value matches this regular expression"),
  present: optional(Schema.Boolean, "true: matches when present; false: matches when absent")
})

/** A query-parameter condition: exactly one of `value`, `regex`, `present`. */
export const Condition = refine(Schema.Struct(conditionFields(NonEmptyString)), conditionProblem)
export type Condition = typeof Condition.Type

/** A header condition; the header name is stored lower-case. */
export const HeaderCondition = refine(Schema.Struct(conditionFields(HeaderName)), conditionProblem)

const nonEmptyMatchList = <A, I>(item: Schema.Schema<A, I>, what: string) =>
  nonEmptyList(item, what, " (omit the key to match any)")

export const MatchConfig = refine(
  Schema.Struct({
    hosts: optional(
      nonEmptyMatchList(HostPattern, "hosts"),
      "Case-insensitive, port ignored; \"*.x\" = any subdomain depth of x, not x itself"
    ),
    path: optional(MatchPath, "\"/a\" exact; \"/a/*\" = \"/a\", \"/a/\" and below (segment-aware)"),
    pathRegex: optional(Regex, "A regular expression on the path; alternative to path (not both)"),
    methods: optional(nonEmptyMatchList(Method, "methods")),
    headers: optional(nonEmptyMatchList(HeaderCondition, "header conditions")),
    query: optional(nonEmptyMatchList(Condition, "query conditions"))
  }),
  (m) =>
    m.path !== undefined && m.pathRegex !== undefined
      ? `expected either path or pathRegex, found both (path ${found(m.path)}, pathRegex ${found(m.pathRegex)})`
      : undefined
).annotations({ description: "Every given condition must hold; an empty match matches everything" })
export type MatchConfig = typeof MatchConfig.Type

export const BackendConfig = Schema.Struct({
  pool: described(Reference, "A pool name from `pools`"),
  weight: withDefault(NonNegativeNumber, 1, "Share of traffic (smooth weighted round-robin)")
})
export type BackendConfig = typeof BackendConfig.Type

export const RetryBackoffConfig = Schema.Struct({
  initial: withDefault(Duration, 25),
  max: withDefault(Duration, 250),
  multiplier: withDefault(number({ min: 1 }), 2),
  jitter: withDefault(Schema.Boolean, true)
})
export type RetryBackoffConfig = typeof RetryBackoffConfig.Type

export const RetryBudgetConfig = Schema.Struct({
  ratio: withDefault(Ratio, 0.2, "Retries at most this share of active requests"),
  minPerSecond: withDefault(NonNegativeNumber, 10, "Retries always allowed per second, whatever the ratio")
})
export type RetryBudgetConfig = typeof RetryBudgetConfig.Type

/** Failure kinds a retry can be made on, besides status codes. */
export const retryConditions = ["connect-failure", "refused-stream", "reset"] as const

/** `connect-failure`, `refused-stream`, `reset`, or a 4xx/5xx status code (`"503"`, or 503, kept as a string). */
const RetryOn = Schema.transformOrFail(
  Schema.Union(Schema.String, Schema.Number).annotations({
    message: (issue) =>
      `expected one of ${retryConditions.join(", ")} or a status code such as "503", found ${found(issue.actual)}`,
    jsonSchema: {
      anyOf: [
        { type: "string", enum: [...retryConditions] },
        { type: "string", pattern: "^[45][0-9][0-9]$" },
        { type: "integer", minimum: 400, maximum: 599 }
      ]
    }
  }),
  Schema.String,
  {
    strict: true,
    decode: (input, _, ast) => {
      const text = String(input)
      return (retryConditions as ReadonlyArray<string>).includes(text) || /^[45]\d\d$/.test(text)
        ? ParseResult.succeed(text)
        : ParseResult.fail(
          new ParseResult.Type(
            ast,
            input,
            `expected one of ${retryConditions.join(", ")} or a 4xx/5xx status code such as "503", found ${
              found(input)
            }`
          )
        )
    },
    encode: ParseResult.succeed
  }
)

export const RetryConfig = Schema.Struct({
  attempts: withDefault(PositiveInt, 1, "Total tries including the first"),
  perTryTimeout: withDefault(Schema.NullOr(Duration), null, "Per-attempt response-headers timeout; null = route timeout"),
  backoff: withDefault(RetryBackoffConfig, defaultsOf(RetryBackoffConfig)),
  retryOn: withDefault(Schema.Array(RetryOn), ["connect-failure", "refused-stream", "reset", "502", "503", "504"]),
  methods: withDefault(
    Schema.Array(Method),
    ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"],
    "Other methods are only retried when nothing was sent"
  ),
  budget: withDefault(RetryBudgetConfig, defaultsOf(RetryBudgetConfig))
})
export type RetryConfig = typeof RetryConfig.Type

export const RouteConfig = Schema.Struct({
  listeners: withDefault(
    Schema.NullOr(nonEmptyList(Reference, "listener names", " (omit the key for every listener)")),
    null,
    "Listener names; null = every listener"
  ),
  match: withDefault(MatchConfig, {}),
  priority: withDefault(
    Int,
    0,
    "Higher wins; ties: exact host > wildcard host > any, then longer path, then route name"
  ),
  middlewares: withDefault(Schema.Array(Reference), [], "Middleware names from `middlewares`, applied in order"),
  backends: described(nonEmptyList(BackendConfig, "backends"), "Pools to send to; weights split traffic"),
  fallback: withDefault(
    Schema.NullOr(Reference),
    null,
    "Pool used when every chosen pool has no healthy server or is open-circuit"
  ),
  timeout: withDefault(Duration, 30_000, "The upstream must send response headers within this (→ 504)"),
  stripPrefix: withDefault(Schema.Boolean, false, "Remove the matched path prefix before forwarding"),
  websocket: withDefault(Schema.Boolean, false, "Allow Upgrade: websocket on this route"),
  websocketIdleTimeout: withDefault(Duration, 300_000, "An open tunnel with no bytes either way is closed after this"),
  preserveHost: withDefault(Schema.Boolean, true, "false: Host becomes the upstream server's host:port"),
  retry: withDefault(Schema.NullOr(RetryConfig), null)
}).annotations({ identifier: "RouteConfig" })
export type RouteConfig = typeof RouteConfig.Type

// ---------------------------------------------------------------------------------------------------------
// pools
// ---------------------------------------------------------------------------------------------------------

export const loadBalancers = [
  "round-robin",
  "weighted-round-robin",
  "least-connections",
  "power-of-two",
  "random",
  "consistent-hash"
] as const
export const LoadBalancer = Schema.Literal(...loadBalancers)
export type LoadBalancer = typeof LoadBalancer.Type

const HASH_ON = /^(?:client-ip|path|header:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|cookie:[^\s;,=]+|query:[^\s&=#]+)$/

/** `client-ip` | `path` | `header:NAME` | `cookie:NAME` | `query:NAME`. */
const HashOn = refine(
  Schema.String,
  (s) =>
    HASH_ON.test(s)
      ? undefined
      : `expected client-ip, path, header:NAME, cookie:NAME or query:NAME, found ${found(s)}`,
  { pattern: HASH_ON.source }
)

export const ServerConfig = Schema.Struct({
  url: described(ServerUrl, "http://host:port or https://host:port"),
  weight: withDefault(NonNegativeNumber, 1)
})
export type ServerConfig = typeof ServerConfig.Type

export const ConsulDiscoveryConfig = Schema.Struct({
  service: described(NonEmptyString, "Consul service name"),
  tags: withDefault(Schema.Array(Schema.String), [], "Only instances with every tag"),
  passingOnly: withDefault(Schema.Boolean, true),
  address: withDefault(
    Schema.NullOr(HttpUrl),
    null,
    "Consul agent; null = sources.consul's address, then http://127.0.0.1:8500"
  ),
  token: withDefault(Schema.NullOr(Schema.String), null, "ACL token; null = sources.consul's token")
})
export type ConsulDiscoveryConfig = typeof ConsulDiscoveryConfig.Type

export const DiscoveryConfig = Schema.Struct({ consul: ConsulDiscoveryConfig })
export type DiscoveryConfig = typeof DiscoveryConfig.Type

const STATUS_RANGES = /^[1-5]\d\d(?:-[1-5]\d\d)?(?:,[1-5]\d\d(?:-[1-5]\d\d)?)*$/

/** `"200-399"`, `"200"`, `"200,204,300-399"`. */
const StatusRanges = refine(Schema.String, (s) => {
  const compact = s.replace(/\s+/g, "")
  const ok = STATUS_RANGES.test(compact) && compact.split(",").every((part) => {
    const [low, high = low] = part.split("-")
    return Number(low) <= Number(high)
  })
  return ok ? undefined : `expected status codes or ranges such as "200-399" or "200,204", found ${found(s)}`
})

export const ActiveHealthCheckConfig = Schema.Struct({
  path: withDefault(MatchPath, "/healthz"),
  interval: withDefault(PositiveDuration, 10_000),
  timeout: withDefault(PositiveDuration, 2_000),
  healthyThreshold: withDefault(PositiveInt, 2, "Consecutive successes before a server is healthy again"),
  unhealthyThreshold: withDefault(PositiveInt, 3, "Consecutive failures before a server is unhealthy"),
  expectedStatus: withDefault(StatusRanges, "200-399"),
  method: withDefault(Method, "GET"),
  headers: withDefault(HeaderMap, {})
})
export type ActiveHealthCheckConfig = typeof ActiveHealthCheckConfig.Type

export const PassiveHealthCheckConfig = Schema.Struct({
  consecutiveFailures: withDefault(PositiveInt, 5),
  baseEjectionTime: withDefault(PositiveDuration, 30_000),
  maxEjectionTime: withDefault(PositiveDuration, 300_000),
  maxEjectionPercent: withDefault(Percent, 50)
})
export type PassiveHealthCheckConfig = typeof PassiveHealthCheckConfig.Type

export const HealthCheckConfig = Schema.Struct({
  active: withDefault(Schema.NullOr(ActiveHealthCheckConfig), null),
  passive: withDefault(Schema.NullOr(PassiveHealthCheckConfig), null)
})
export type HealthCheckConfig = typeof HealthCheckConfig.Type

export const CircuitBreakerConfig = Schema.Struct({
  failureRatio: withDefault(number({ exclusiveMin: 0, max: 1 }), 0.5),
  minimumRequests: withDefault(PositiveInt, 20),
  window: withDefault(PositiveDuration, 10_000),
  openFor: withDefault(PositiveDuration, 30_000),
  halfOpenRequests: withDefault(PositiveInt, 3)
})
export type CircuitBreakerConfig = typeof CircuitBreakerConfig.Type

export const ConnectionConfig = Schema.Struct({
  maxConnectionsPerServer: withDefault(PositiveInt, 128),
  connectTimeout: withDefault(PositiveDuration, 5_000),
  idleTimeout: withDefault(Duration, 30_000),
  http2: withDefault(Schema.Boolean, false, "Speak HTTP/2 to the servers")
})
export type ConnectionConfig = typeof ConnectionConfig.Type

export const UpstreamTlsConfig = Schema.Struct({
  caFile: withDefault(Schema.NullOr(NonEmptyString), null, "CAs to verify servers with; null = system CAs"),
  serverName: withDefault(Schema.NullOr(NonEmptyString), null, "SNI and verified name; null = the URL's host"),
  certFile: withDefault(Schema.NullOr(NonEmptyString), null, "Client certificate (with keyFile)"),
  keyFile: withDefault(Schema.NullOr(NonEmptyString), null, "Client key (with certFile)"),
  insecureSkipVerify: withDefault(Schema.Boolean, false, "Do not verify servers' certificates (never in production)")
})
export type UpstreamTlsConfig = typeof UpstreamTlsConfig.Type

export const PoolConfig = Schema.Struct({
  loadBalancer: withDefault(LoadBalancer, "round-robin"),
  hashOn: withDefault(HashOn, "client-ip", "consistent-hash key"),
  servers: withDefault(Schema.Array(ServerConfig), [], "Static members (or use discovery)"),
  discovery: withDefault(Schema.NullOr(DiscoveryConfig), null),
  healthCheck: withDefault(Schema.NullOr(HealthCheckConfig), null),
  circuitBreaker: withDefault(
    Schema.NullOr(CircuitBreakerConfig),
    null,
    "Whole pool: open ⇒ fail fast (or fallback)"
  ),
  panicThreshold: withDefault(Percent, 0, "% healthy below which health is ignored (panic mode); 0 = off"),
  connection: withDefault(ConnectionConfig, defaultsOf(ConnectionConfig)),
  tls: withDefault(UpstreamTlsConfig, defaultsOf(UpstreamTlsConfig))
}).annotations({ identifier: "PoolConfig" })
export type PoolConfig = typeof PoolConfig.Type

// ---------------------------------------------------------------------------------------------------------
// middlewares
// ---------------------------------------------------------------------------------------------------------

export const HeaderOperations = Schema.Struct({
  set: withDefault(HeaderMap, {}, "Headers set, replacing any value"),
  add: withDefault(HeaderMap, {}, "Headers appended"),
  remove: withDefault(Schema.Array(HeaderName), [], "Headers removed")
})
export type HeaderOperations = typeof HeaderOperations.Type

export const HeadersMiddlewareConfig = Schema.Struct({
  type: Schema.Literal("headers"),
  request: withDefault(HeaderOperations, defaultsOf(HeaderOperations), "Applied to the request sent upstream"),
  response: withDefault(HeaderOperations, defaultsOf(HeaderOperations), "Applied to the response sent to the client")
}).annotations({ identifier: "HeadersMiddlewareConfig" })
export type HeadersMiddlewareConfig = typeof HeadersMiddlewareConfig.Type

const RATE_LIMIT_KEY = /^(?:client-ip|header:[!#$%&'*+\-.^_`|~0-9A-Za-z]+)$/

const RateLimitKey = refine(
  Schema.String,
  (s) => RATE_LIMIT_KEY.test(s) ? undefined : `expected client-ip or header:NAME, found ${found(s)}`,
  { pattern: RATE_LIMIT_KEY.source }
)

const rateLimitFields = <B extends Schema.Struct.Field>(burst: B) => ({
  type: Schema.Literal("rate-limit"),
  average: described(PositiveNumber, "Requests allowed per period, on average"),
  period: withDefault(PositiveDuration, 1_000),
  burst,
  key: withDefault(RateLimitKey, "client-ip", "What is limited: client-ip or header:NAME"),
  store: withDefault(Schema.Literal("memory", "redis"), "memory")
})

/** A rate limit (token bucket); `burst` defaults to `average`. */
export const RateLimitMiddlewareConfig = Schema.transform(
  Schema.Struct(rateLimitFields(optional(PositiveNumber, "Bucket size; default = average"))),
  Schema.typeSchema(Schema.Struct(rateLimitFields(PositiveNumber))),
  {
    strict: true,
    decode: ({ burst, ...rest }) => ({ ...rest, burst: burst ?? rest.average }),
    encode: (config) => config
  }
).annotations({ identifier: "RateLimitMiddlewareConfig" })
export type RateLimitMiddlewareConfig = typeof RateLimitMiddlewareConfig.Type

/** Middleware types of the catalogue that are not built yet: accepted with any options, refused by `Support`. */
export const plannedMiddlewareTypes = [
  "basic-auth",
  "forward-auth",
  "jwt-auth",
  "ip-filter",
  "cors",
  "request-validation",
  "body-transform",
  "cache",
  "compress",
  "error-pages",
  "fault-injection",
  "circuit-breaker"
] as const
export type PlannedMiddlewareType = typeof plannedMiddlewareTypes[number]

const planned = <T extends PlannedMiddlewareType>(type: T) =>
  Schema.Struct({ type: Schema.Literal(type) }, Schema.Record({ key: Schema.String, value: Schema.Unknown }))
    .annotations({
      jsonSchema: {
        type: "object",
        required: ["type"],
        properties: { type: { type: "string", enum: [type] } },
        description: `The ${type} middleware (not supported yet; options are checked once it is built)`
      }
    })

/** `{ type: <planned type>, …any options }`; options are validated once the middleware is built. */
export const PlannedMiddlewareConfig = Schema.Union(
  planned("basic-auth"),
  planned("forward-auth"),
  planned("jwt-auth"),
  planned("ip-filter"),
  planned("cors"),
  planned("request-validation"),
  planned("body-transform"),
  planned("cache"),
  planned("compress"),
  planned("error-pages"),
  planned("fault-injection"),
  planned("circuit-breaker")
)
export type PlannedMiddlewareConfig = typeof PlannedMiddlewareConfig.Type

/** A middleware, discriminated by `type`. */
export const MiddlewareConfig = Schema.Union(
  HeadersMiddlewareConfig,
  RateLimitMiddlewareConfig,
  ...PlannedMiddlewareConfig.members
)
export type MiddlewareConfig = typeof MiddlewareConfig.Type

/** Every `type` a middleware may have. */
export const middlewareTypes = ["headers", "rate-limit", ...plannedMiddlewareTypes] as const
export type MiddlewareType = MiddlewareConfig["type"]

// ---------------------------------------------------------------------------------------------------------
// admin, observability, sources
// ---------------------------------------------------------------------------------------------------------

export const AdminConfig = Schema.Struct({
  address: withDefault(Schema.NullOr(ListenAddress), "127.0.0.1:9901", "host:port of the admin API; null disables it"),
  token: withDefault(
    Schema.NullOr(NonEmptyString),
    null,
    "When set, every endpoint but /healthz needs \"Authorization: Bearer <token>\""
  )
})
export type AdminConfig = typeof AdminConfig.Type

export const LogsConfig = Schema.Struct({
  level: withDefault(Schema.Literal("trace", "debug", "info", "warn", "error", "fatal", "silent"), "info"),
  format: withDefault(Schema.Literal("json", "pretty"), "json"),
  accessLog: withDefault(Schema.Boolean, true)
})
export type LogsConfig = typeof LogsConfig.Type

export const MetricsConfig = Schema.Struct({
  enabled: withDefault(Schema.Boolean, true)
})
export type MetricsConfig = typeof MetricsConfig.Type

export const TracingConfig = Schema.Struct({
  endpoint: withDefault(Schema.NullOr(HttpUrl), null, "OTLP/HTTP traces endpoint; null = no tracing"),
  serviceName: withDefault(NonEmptyString, "switchyard"),
  sampleRatio: withDefault(Ratio, 1)
})
export type TracingConfig = typeof TracingConfig.Type

export const ObservabilityConfig = Schema.Struct({
  logs: withDefault(LogsConfig, defaultsOf(LogsConfig)),
  metrics: withDefault(MetricsConfig, defaultsOf(MetricsConfig)),
  tracing: withDefault(TracingConfig, defaultsOf(TracingConfig))
})
export type ObservabilityConfig = typeof ObservabilityConfig.Type

export const FileSourceConfig = Schema.Struct({
  watch: withDefault(Schema.Boolean, true, "Reload the --config file when it changes")
})
export type FileSourceConfig = typeof FileSourceConfig.Type

export const EnvSourceConfig = Schema.Struct({
  prefix: withDefault(NonEmptyString, "SWITCHYARD__", "SWITCHYARD__a__b=value sets key path a.b")
})
export type EnvSourceConfig = typeof EnvSourceConfig.Type

export const EtcdSourceConfig = Schema.Struct({
  endpoints: withDefault(nonEmptyList(HttpUrl, "endpoints"), ["http://127.0.0.1:2379"]),
  prefix: withDefault(Schema.String, "/switchyard/", "Keys <prefix>routes/<name>, …; empty = this layer holds nothing"),
  username: withDefault(Schema.NullOr(Schema.String), null),
  password: withDefault(Schema.NullOr(Schema.String), null)
})
export type EtcdSourceConfig = typeof EtcdSourceConfig.Type

export const ConsulSourceConfig = Schema.Struct({
  address: withDefault(HttpUrl, "http://127.0.0.1:8500"),
  prefix: withDefault(Schema.String, "switchyard/", "Keys <prefix>routes/<name>, …; empty = this layer holds nothing"),
  token: withDefault(Schema.NullOr(Schema.String), null)
})
export type ConsulSourceConfig = typeof ConsulSourceConfig.Type

export const SourcesConfig = Schema.Struct({
  file: withDefault(FileSourceConfig, defaultsOf(FileSourceConfig)),
  env: withDefault(EnvSourceConfig, defaultsOf(EnvSourceConfig)),
  etcd: withDefault(Schema.NullOr(EtcdSourceConfig), null, "etcd KV layer; null = not used"),
  consul: withDefault(Schema.NullOr(ConsulSourceConfig), null, "Consul KV layer; null = not used")
})
export type SourcesConfig = typeof SourcesConfig.Type

// ---------------------------------------------------------------------------------------------------------
// the document
// ---------------------------------------------------------------------------------------------------------

const Listeners = refine(
  namedMap(ListenerConfig),
  (listeners) => Object.keys(listeners).length > 0 ? undefined : "expected at least one listener, found none",
  { minProperties: 1 }
)

export const SwitchyardConfig = Schema.Struct({
  $schema: optional(Schema.String, "The JSON Schema of this document, for editors"),
  listeners: described(Listeners, "Listener name → listener; at least one"),
  routes: withDefault(namedMap(RouteConfig), {}, "Route name → route"),
  pools: withDefault(namedMap(PoolConfig), {}, "Pool name → pool"),
  middlewares: withDefault(namedMap(MiddlewareConfig), {}, "Middleware name → { type, …options }"),
  admin: withDefault(AdminConfig, defaultsOf(AdminConfig)),
  observability: withDefault(ObservabilityConfig, defaultsOf(ObservabilityConfig)),
  sources: withDefault(SourcesConfig, defaultsOf(SourcesConfig), "Dynamic configuration sources"),
  shutdownTimeout: withDefault(Duration, 30_000, "In-flight requests get this long to finish on SIGTERM/SIGINT")
}).annotations({ title: "Switchyard configuration" })
export type SwitchyardConfig = typeof SwitchyardConfig.Type

/** The kinds of dynamic entities (CONTRACT §3), with their schemas. */
export const entitySchemas = {
  routes: RouteConfig,
  pools: PoolConfig,
  middlewares: MiddlewareConfig
} as const
export type EntityKind = keyof typeof entitySchemas
/** The entity kinds, in the order of `entitySchemas` (the one list of them). */
export const entityKinds = Object.keys(entitySchemas) as ReadonlyArray<EntityKind>
/** Narrows a key (of a KV path, an admin URL) to an entity kind. */
export const isEntityKind = (kind: string): kind is EntityKind => Object.hasOwn(entitySchemas, kind)
export interface EntityConfig {
  readonly routes: RouteConfig
  readonly pools: PoolConfig
  readonly middlewares: MiddlewareConfig
}
