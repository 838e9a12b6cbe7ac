/**
 * The Consul KV configuration source: a `Stream` of full snapshots of `<prefix>` (CONTRACT §3),
 * driven by a loop of blocking queries (Consul `api-docs/features/blocking`):
 *
 *   GET /v1/kv/<prefix>?recurse=true&index=<i>&wait=<w>      (ACL token in X-Consul-Token)
 *
 * - Every answer is a full listing; its `X-Consul-Index` is the snapshot's revision and the next
 *   query's `index`. The first query (and the first after an error) uses index 0, so it answers at
 *   once with the current state: after an outage the source resynchronizes fully, deletions included.
 * - An index that goes backwards (snapshot restore, the newest key of the prefix deleted, tombstones
 *   reaped) restarts the loop from 0; a missing, invalid or zero index is treated as 0. Such queries
 *   do not block, so the loop is rate limited: two queries start at least `minInterval` (100 ms)
 *   apart, which also bounds the reads caused by a burst of writes.
 * - 404 is an empty prefix (empty entities). Values arrive base64-encoded and are decoded (by the
 *   client) as UTF-8. A listing flagged `X-Consul-Results-Filtered-By-ACLs: true` (Consul hides keys
 *   the token may not read, which would look like deletions) gets a problem, so it is not applied.
 * - Errors (connection refused, timeouts, 403, 500 "No cluster leader", …) are logged with
 *   `Effect.logWarning` and retried after a jittered exponential backoff (100 ms doubling to 5 s by
 *   default). Nothing is emitted meanwhile: the last snapshot stays in force downstream. The stream
 *   never fails and ends only when the scope given to `make` closes; an in-flight blocking query is
 *   aborted then.
 * - A snapshot whose revision and content equal the previous one (a blocking query that timed out)
 *   is not emitted.
 *
 * Client: the `consul` package. Its typings do not declare them, but `kv.get` forwards `index`,
 * `wait`, `token`, `timeout` and `ctx` (papi's request context) and, when `ctx.includeResponse` is
 * set, resolves to `[response, body]`, which gives `X-Consul-Index`; its own `Watch` relies on
 * exactly that. `ctx.emit("cancel")` aborts the request (documented in its README).
 */
import Consul from "consul"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { EventEmitter } from "node:events"
import type { IncomingMessage } from "node:http"
import type { ConfigProblem } from "../../src/config/ConfigError.js"
import { type ConfigSnapshot, type ConfigSource, ConfigSourceError } from "../../streams/ConfigSource.js"
import * as KvLayout from "../../streams/KvLayout.js"

export interface ConsulSourceConfig {
  /** e.g. `http://127.0.0.1:8500` (a missing scheme means `http://`). */
  readonly address: string
  readonly prefix: string
  readonly token: string | null
  /** Longest wait of a blocking query, as a Go duration (`5m` by default, Consul caps it at `10m`). */
  readonly wait?: string
}

export interface Options {
  /** Jittered exponential backoff after an error: `initial` doubling up to `max` (100 ms, 5 s). */
  readonly backoff?: { readonly initial?: Duration.DurationInput; readonly max?: Duration.DurationInput }
  /** Least time between the starts of two queries (100 ms). */
  readonly minInterval?: Duration.DurationInput
  /** Added to `wait` (and its jitter) for a blocking query; the whole timeout of a non-blocking one (10 s). */
  readonly requestTimeout?: Duration.DurationInput
}

/**
 * Builds the source; the HTTP client (and its keep-alive agent) is closed with the scope, which also
 * ends `snapshots`. A non-empty prefix is normalized to end with `/` (`consul:switchyard/`).
 */
export const make = (config: ConsulSourceConfig, options: Options = {}): Effect.Effect<ConfigSource, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = KvLayout.normalizePrefix(config.prefix)
    const name = `consul:${prefix}`
    let wait = config.wait ?? "5m"
    let waitMillis = goDurationMillis(wait)
    if (waitMillis === undefined) {
      yield* Effect.logWarning("invalid Consul wait; using 5m").pipe(
        Effect.annotateLogs({ "switchyard.config.source": name, "switchyard.config.wait": wait })
      )
      wait = "5m"
      waitMillis = 300_000
    }
    // an unusable address fails every query (logged, retried) rather than `make`
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => Either.try(() => new Consul(clientOptions(config.address)))),
      (client) => Effect.sync(() => Either.map(client, (c) => c.destroy()))
    )
    const closed = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(closed, undefined))

    const query = makeQuery({
      client,
      name,
      prefix,
      wait,
      token: config.token,
      blockingTimeout: Math.ceil(waitMillis * 17 / 16) + Duration.toMillis(options.requestTimeout ?? "10 seconds"),
      plainTimeout: Duration.toMillis(options.requestTimeout ?? "10 seconds")
    })
    const minInterval = Duration.toMillis(options.minInterval ?? "100 millis")
    const backoff = Schedule.exponential(options.backoff?.initial ?? "100 millis", 2).pipe(
      Schedule.union(Schedule.spaced(options.backoff?.max ?? "5 seconds")),
      Schedule.jittered
    )

    const snapshots: Stream.Stream<ConfigSnapshot> = Stream.unwrap(Effect.map(Schedule.driver(backoff), (driver) => {
      const step = (state: LoopState): Effect.Effect<readonly [Option.Option<ConfigSnapshot>, LoopState]> =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (now - state.lastStart < minInterval) yield* Effect.sleep(Duration.millis(minInterval - (now - state.lastStart)))
          const started = yield* Clock.currentTimeMillis
          const result = yield* Effect.either(query(state.index))
          if (Either.isLeft(result)) {
            const error = result.left
            const failures = state.failures + 1
            yield* Effect.logWarning("Consul config source failed; retrying after a backoff").pipe(
              Effect.annotateLogs({
                "switchyard.config.source": name,
                "switchyard.config.failures": failures,
                "error.type": error.reason,
                "exception.message": causeMessage(error.cause),
                ...(statusOf(error.cause) === undefined ? {} : { "http.response.status_code": statusOf(error.cause) })
              })
            )
            yield* Effect.ignore(driver.next(error))
            return [Option.none(), { ...state, index: 0n, lastStart: started, failures }] as const
          }
          yield* driver.reset
          if (state.failures > 0) {
            yield* Effect.logInfo("Consul config source reading again").pipe(
              Effect.annotateLogs({ "switchyard.config.source": name, "switchyard.config.failures": state.failures })
            )
          }
          const listing = result.right
          let next = listing.index
          if (listing.index < state.index) {
            yield* Effect.logInfo("X-Consul-Index went backwards; restarting the blocking loop from 0").pipe(
              Effect.annotateLogs({
                "switchyard.config.source": name,
                "switchyard.consul.index.previous": state.index.toString(),
                "switchyard.consul.index": listing.index.toString()
              })
            )
            next = 0n
          }
          const key = `${listing.index}\n${listing.fingerprint}`
          const nextState: LoopState = { index: next, lastStart: started, failures: 0, lastKey: key }
          if (key === state.lastKey) return [Option.none(), nextState] as const
          return [Option.some(toSnapshot(name, prefix, listing)), nextState] as const
        })
      const initial: LoopState = { index: 0n, lastStart: Number.NEGATIVE_INFINITY, failures: 0, lastKey: undefined }
      return Stream.unfoldEffect(initial, (state) => Effect.map(step(state), ([emit, next]) => Option.some([emit, next] as const)))
    })).pipe(
      Stream.filterMap((emit) => emit),
      Stream.interruptWhen(Deferred.await(closed))
    )
    return { name, snapshots }
  })

interface LoopState {
  readonly index: bigint
  readonly lastStart: number
  readonly failures: number
  /** Revision and content of the last emitted snapshot. */
  readonly lastKey: string | undefined
}

interface Listing {
  readonly index: bigint
  readonly entries: ReadonlyArray<readonly [string, string]>
  readonly filteredByAcls: boolean
  readonly fingerprint: string
}

const toSnapshot = (name: string, prefix: string, listing: Listing): ConfigSnapshot => {
  const { entities, problems } = KvLayout.fromKeyValues("consul", prefix, listing.entries)
  const all: Array<ConfigProblem> = listing.filteredByAcls
    ? [{
      file: name,
      path: "",
      message:
        "expected every key under the prefix to be readable with the configured ACL token, found keys hidden by ACLs (X-Consul-Results-Filtered-By-ACLs: true)"
    }, ...problems]
    : problems
  return { source: name, revision: listing.index.toString(), entities, problems: all }
}

/** The subset of `kv.get`'s options and result the typings leave out (see the header comment). */
interface KvGetOptions {
  readonly key: string
  readonly recurse: true
  readonly index: string
  readonly wait: string
  readonly timeout: number
  readonly token?: string
  readonly ctx: EventEmitter & { readonly includeResponse: true }
}
type KvGet = (options: KvGetOptions) => Promise<[IncomingMessage & { body?: unknown }, unknown?]>

const makeQuery = (args: {
  readonly client: Either.Either<Consul, unknown>
  readonly name: string
  readonly prefix: string
  readonly wait: string
  readonly token: string | null
  readonly blockingTimeout: number
  readonly plainTimeout: number
}) => {
  if (Either.isLeft(args.client)) {
    const error = new ConfigSourceError({ source: args.name, reason: "Protocol", cause: args.client.left })
    return (_index: bigint): Effect.Effect<Listing, ConfigSourceError> => Effect.fail(error)
  }
  const consul = args.client.right
  const kvGet = consul.kv.get.bind(consul.kv) as unknown as KvGet
  return (index: bigint): Effect.Effect<Listing, ConfigSourceError> =>
    Effect.async<Listing, ConfigSourceError>((resume) => {
      const ctx = Object.assign(new EventEmitter(), { includeResponse: true as const })
      kvGet({
        key: args.prefix,
        recurse: true,
        index: index.toString(),
        wait: args.wait,
        timeout: index === 0n ? args.plainTimeout : args.blockingTimeout,
        ...(args.token === null ? {} : { token: args.token }),
        ctx
      }).then(
        ([response, items]) => resume(toListing(args.name, response, items)),
        (cause: unknown) => resume(Effect.fail(toConfigSourceError(args.name, cause)))
      )
      return Effect.sync(() => ctx.emit("cancel"))
    })
}

const toListing = (
  name: string,
  response: IncomingMessage & { body?: unknown },
  items: unknown
): Effect.Effect<Listing, ConfigSourceError> => {
  const protocol = (message: string) =>
    Effect.fail(new ConfigSourceError({ source: name, reason: "Protocol", cause: new Error(`${message} (HTTP ${response.statusCode})`) }))
  if (response.statusCode !== 200 && response.statusCode !== 404) return protocol(`unexpected status ${response.statusCode}`)
  let list: ReadonlyArray<unknown> = []
  if (response.statusCode === 200) {
    if (Array.isArray(items)) list = items
    else if (!Array.isArray(response.body)) return protocol("expected a JSON array of KV entries")
  }
  const entries: Array<readonly [string, string]> = []
  for (const item of list) {
    if (typeof item !== "object" || item === null) return protocol("expected KV entries to be objects")
    const { Key, Value } = item as { Key?: unknown; Value?: unknown }
    if (typeof Key !== "string" || (Value !== null && Value !== undefined && typeof Value !== "string")) {
      return protocol("expected KV entries with a string Key and a base64 Value")
    }
    entries.push([Key, Value ?? ""])
  }
  const header = response.headers["x-consul-index"]
  const index = typeof header === "string" && /^\d{1,20}$/.test(header) ? BigInt(header) : 0n
  const filteredByAcls = response.headers["x-consul-results-filtered-by-acls"] === "true"
  return Effect.succeed({
    index,
    entries,
    filteredByAcls,
    fingerprint: JSON.stringify([filteredByAcls, entries])
  })
}

const toConfigSourceError = (name: string, cause: unknown): ConfigSourceError => {
  const status = statusOf(cause)
  const reason: ConfigSourceError["reason"] = status === 401 || status === 403
    ? "Unauthorized"
    : status !== undefined && (status >= 500 || status === 429)
    ? "Unreachable"
    : status !== undefined
    ? "Protocol"
    : cause instanceof SyntaxError
    ? "Protocol"
    : "Unreachable"
  return new ConfigSourceError({ source: name, reason, cause })
}

const statusOf = (cause: unknown): number | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const response = (cause as { response?: { statusCode?: unknown } }).response
  return typeof response?.statusCode === "number" ? response.statusCode : undefined
}

/**
 * `http(s)://host[:port]` (no port: the scheme's), or `host[:port]` as in `CONSUL_HTTP_ADDR`
 * (plain HTTP, no port: Consul's 8500).
 */
const clientOptions = (address: string): ConstructorParameters<typeof Consul>[0] => {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address)
  const url = new URL(hasScheme ? address : `http://${address}`)
  const secure = url.protocol === "https:"
  const port = url.port !== "" ? Number(url.port) : !hasScheme ? 8500 : secure ? 443 : 80
  return { host: url.hostname, port, secure }
}

const goDurationMillis = (text: string): number | undefined => {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined
  return parts.reduce((total, p) => total + Number(p[1]) * (units[p[2] ?? ""] ?? 0), 0)
}

const causeMessage = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
