/**
 * The etcd configuration source: a `Stream` of full snapshots of `<prefix>` (CONTRACT §3).
 *
 * Design (Traefik's kv provider, cilium's re-list on compaction):
 * - A *session* reads the whole prefix (one linearizable range read; its header revision R is the
 *   snapshot's revision), emits it, then watches the prefix from R + 1, so nothing written between the
 *   read and the watch is missed. The watch's events are applied to the read's state in order (as
 *   Kubernetes' reflectors do), and each response with events makes a snapshot of the state; a
 *   sliding buffer of one signal coalesces a burst into one snapshot of the latest state. Progress
 *   notifications (events-less responses) are ignored. Any gap ends the session, and the next one
 *   re-reads the whole prefix.
 * - The watch is opened when the consumer asks for the next snapshot. A consumer that pauses does not
 *   hold a watch; when it resumes, the watch starts from R + 1, and if the store was compacted past R
 *   meanwhile, etcd cancels it (ErrCompacted) and the session fails like any other: the state is
 *   re-read at the head, never resumed silently (etcd-io/etcd#8668).
 * - Any failure (compaction, watch cancelled or ended, `disconnected`, read error, authentication)
 *   ends the session. It is logged with `Effect.logWarning`, and the next session starts after a
 *   jittered exponential backoff (100 ms doubling to 5 s by default; reset once a watch is live again).
 *   Nothing is emitted meanwhile, so the last snapshot stays in force downstream; the stream itself
 *   never fails and ends only when the scope given to `make` closes.
 * - Authentication (etcd3 with `auth: {username, password}`): etcd3 caches one token per client. On
 *   a unary call rejected with `invalid auth token` it drops the token and authenticates again by
 *   itself, but a watch stream is opened with whatever token is cached then, and etcd3's own watch
 *   reconnection never refreshes it; etcd refuses such a watch ("Watcher canceled: … Unauthenticated
 *   … invalid auth token") and forgets simple tokens on restart, on `auth disable` and after
 *   `--auth-token-ttl`. Two rules make every watch start with a valid token: each session begins
 *   with a unary read (which refreshes a rejected token) before it opens its watch, and the client of
 *   a failed session (auth failure, refused watch, disconnection…) is closed and the next session
 *   builds a fresh one: a new authentication, and fresh channels and circuit breakers (etcd3
 *   otherwise refuses calls for 5 s after three failures). A wrong password is an `Unauthorized`
 *   failure like any other: logged and retried with backoff, forever.
 * - Snapshots whose revision and content equal the previous one are not emitted (a reconnection to an
 *   unchanged store re-reads the same revision).
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  EtcdUserNotFoundError,
  GRPCUnauthenticatedError,
  type IOptions,
  type IWatchResponse,
  type Watcher
} from "etcd3"
import { type ConfigSnapshot, type ConfigSource, ConfigSourceError } from "../../streams/ConfigSource.js"
import * as KvLayout from "../../streams/KvLayout.js"

export interface EtcdSourceConfig {
  readonly endpoints: ReadonlyArray<string>
  readonly prefix: string
  readonly username: string | null
  readonly password: string | null
}

export interface Options {
  /** Jittered exponential backoff between sessions: `initial` doubling up to `max` (100 ms, 5 s). */
  readonly backoff?: { readonly initial?: Duration.DurationInput; readonly max?: Duration.DurationInput }
  /** Deadline of each unary call (range read, authentication); default 5 s. */
  readonly requestTimeout?: Duration.DurationInput
}

/**
 * Builds the source; the etcd3 client it uses is closed with the scope, which also ends `snapshots`.
 * A non-empty prefix is normalized to end with `/` (`etcd:/switchyard/`).
 */
export const make = (config: EtcdSourceConfig, options: Options = {}): Effect.Effect<ConfigSource, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = KvLayout.normalizePrefix(config.prefix)
    const name = `etcd:${prefix}`
    const clients = yield* makeClients(name, clientOptions(config, Duration.toMillis(options.requestTimeout ?? "5 seconds")))
    // Closing the scope ends `snapshots`: a session that is watching ends its watch stream, and no new
    // session starts (not `Stream.interruptWhen`, which forks a fiber for every element it passes on).
    const closed = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(closed, undefined))
    const initialMillis = Duration.toMillis(options.backoff?.initial ?? "100 millis")
    const maxMillis = Duration.toMillis(options.backoff?.max ?? "5 seconds")

    const supervised: Stream.Stream<Reading> = Stream.unwrap(Effect.gen(function*() {
      // consecutive failed sessions; reset once a watch is live again, not merely after a read
      const failures = yield* Ref.make(0)
      const watching = Ref.getAndSet(failures, 0).pipe(
        Effect.flatMap((failed) =>
          failed > 0
            ? Effect.logInfo("etcd config source watching again").pipe(
              Effect.annotateLogs({ "switchyard.config.source": name, "switchyard.config.failures": failed })
            )
            : Effect.void
        )
      )
      // the backoff before a session that follows a failed one; cut short when the scope closes
      const backoff = Effect.flatMap(Ref.get(failures), (failed) =>
        failed === 0 ? Effect.void : Effect.flatMap(Random.nextRange(0.8, 1.2), (jitter) =>
          Effect.raceFirst(
            Effect.sleep(Duration.millis(Math.min(initialMillis * 2 ** (failed - 1), maxMillis) * jitter)),
            Deferred.await(closed)
          )))
      const running: Running = { backoff, watching, closed }
      const failed = (error: ConfigSourceError) =>
        Ref.updateAndGet(failures, (n) => n + 1).pipe(
          Effect.flatMap((count) =>
            Effect.logWarning("etcd config source failed; re-reading after a backoff").pipe(
              Effect.annotateLogs({
                "switchyard.config.source": name,
                "switchyard.config.failures": count,
                "error.type": error.reason,
                "exception.message": causeMessage(error.cause)
              })
            )
          )
        )
      // Stream.retry, not a recursive catchAll: the latter grows the heap with every retry
      return session(clients, name, prefix, running).pipe(
        // a session cut short by the scope closing is not a failure to count or report
        Stream.tapError((error) => Effect.flatMap(Deferred.isDone(closed), (done) => (done ? Effect.void : failed(error)))),
        Stream.retry(Schedule.forever),
        Stream.orDie // unreachable: the schedule never ends
      )
    }))

    const snapshots: Stream.Stream<ConfigSnapshot> = supervised.pipe(
      Stream.changesWith(sameReading),
      Stream.map((reading): ConfigSnapshot => {
        const { entities, problems } = KvLayout.fromKeyValues("etcd", prefix, reading.entries)
        return { source: name, revision: reading.revision, entities, problems }
      })
    )
    return { name, snapshots }
  })

/** The prefix's keys and values at a revision. */
interface Reading {
  readonly revision: string
  readonly entries: ReadonlyArray<readonly [string, string]>
}

/** What a session needs from the source that runs it. */
interface Running {
  /** Waits before a session that follows a failed one (returns at once when the scope closes). */
  readonly backoff: Effect.Effect<void>
  /** Runs once a watch is live. */
  readonly watching: Effect.Effect<void>
  /** Completed when the scope of `make` closes. */
  readonly closed: Deferred.Deferred<void>
}

interface Lease {
  readonly client: Etcd3
  /** The session failed: the client is closed when the session's scope closes. */
  readonly poison: Effect.Effect<void>
}

interface Clients {
  /** The current client; `undefined` once the scope of `make` closed. */
  readonly lease: Effect.Effect<Lease | undefined, ConfigSourceError, Scope.Scope>
}

/** Holds the current client; a poisoned one is closed (after its watcher) and replaced on next use. */
const makeClients = (name: string, options: IOptions): Effect.Effect<Clients, never, Scope.Scope> =>
  Effect.gen(function*() {
    let current: Etcd3 | undefined
    let closed = false
    const create = () => {
      current ??= new Etcd3(options)
      return current
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        try {
          create()
        } catch {
          // an unusable configuration is reported (and retried) by the first session
        }
      }),
      () =>
        Effect.sync(() => {
          closed = true
          current?.close()
          current = undefined
        })
    )
    const lease = Effect.suspend((): Effect.Effect<Lease | undefined, ConfigSourceError, Scope.Scope> =>
      // after the scope closed, no reconnection: the session ends
      closed ? Effect.succeed(undefined) : Effect.acquireRelease(
        Effect.try({
          try: () => ({ client: create(), poisoned: false }),
          catch: (cause) => new ConfigSourceError({ source: name, reason: "Protocol", cause })
        }),
        (state) =>
          Effect.sync(() => {
            if (!state.poisoned) return
            if (current === state.client) current = undefined
            state.client.close()
          })
      ).pipe(Effect.map((state): Lease => ({ client: state.client, poison: Effect.sync(() => void (state.poisoned = true)) })))
    )
    return { lease }
  })

const clientOptions = (config: EtcdSourceConfig, timeoutMillis: number): IOptions => {
  const deadline = () => ({ deadline: Date.now() + timeoutMillis })
  return {
    hosts: [...config.endpoints],
    ...(config.username === null ? {} : {
      auth: { username: config.username, password: config.password ?? "", callOptions: deadline }
    }),
    defaultCallOptions: (context) => (context.isStream ? {} : deadline()),
    // Notice a dead watch stream (half-open TCP, partition) within ~15 s. etcd refuses pings more
    // frequent than its --grpc-keepalive-min-time (5 s).
    grpcOptions: { "grpc.keepalive_time_ms": 10_000, "grpc.keepalive_timeout_ms": 5_000 }
  }
}

/** Read, emit, then watch from the read's revision + 1 and emit the state the watch's events lead to. */
const session = (
  clients: Clients,
  name: string,
  prefix: string,
  running: Running
): Stream.Stream<Reading, ConfigSourceError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    yield* running.backoff
    const lease = (yield* Deferred.isDone(running.closed)) ? undefined : yield* clients.lease
    if (lease === undefined) return Stream.empty
    const first = yield* read(lease.client, name, prefix).pipe(Effect.tapError(() => lease.poison))
    return Stream.concat(Stream.succeed(first), changes(lease.client, name, prefix, first, running)).pipe(
      Stream.tapError(() => lease.poison)
    )
  }))

const read = (client: Etcd3, name: string, prefix: string): Effect.Effect<Reading, ConfigSourceError> =>
  Effect.tryPromise({
    try: () => client.getAll().prefix(prefix).exec(),
    catch: (cause) => toSourceError(name, cause)
  }).pipe(Effect.map((response): Reading => ({
    revision: String(response.header.revision),
    entries: response.kvs.map((kv) => [kv.key.toString("utf8"), kv.value.toString("utf8")] as const)
  })))

/**
 * Two readings of the same revision have the same content, unless the store was replaced (a new
 * cluster restarts its revisions): the content is compared only then.
 */
const sameReading = (a: Reading, b: Reading): boolean =>
  a.revision === b.revision && fingerprint(a.entries) === fingerprint(b.entries)

const fingerprint = (entries: Reading["entries"]): string => JSON.stringify([...entries].sort(KvLayout.byKey))

const nextRevision = (revision: string): string => (BigInt(revision) + 1n).toString()

/**
 * The prefix's state after each watch response that carries events, starting from `first` and the
 * revision after it, once `watching` has run (the watch is live). Events are applied to the state as
 * they arrive, in order; a consumer that is slower than the writes gets the latest state (one signal
 * is buffered, sliding). etcd delivers every event after the start revision exactly once, in order, or
 * cancels the watch; any gap (compaction, cancellation, end or disconnection of the watch) fails the
 * stream, and the session that follows re-reads the whole prefix.
 *
 * Why not a range read per event (as before 2026-12-03): that unary call (gRPC, protobuf, etcd's
 * read) was the largest share of a reload's CPU in the proxy, and the watch response already carries
 * the keys and values it changed.
 */
const changes = (
  client: Etcd3,
  name: string,
  prefix: string,
  first: Reading,
  running: Running
): Stream.Stream<Reading, ConfigSourceError> =>
  Stream.suspend(() => {
    const state = new Map(first.entries)
    let revision = first.revision
    const current = (): Reading => ({ revision, entries: [...state] })
    const signals = Stream.asyncPush<void, ConfigSourceError>((emit) =>
      Effect.gen(function*() {
        const connected = yield* Deferred.make<void>()
        yield* Effect.acquireRelease(
          Effect.try({
            try: () => {
              const watcher = client.watch().prefix(prefix).startRevision(nextRevision(first.revision)).watcher()
              const handle = { watcher, dropped: false }
              watcher.on("connected", () => Deferred.unsafeDone(connected, Exit.void))
              watcher.on("data", (response: IWatchResponse) => {
                if (response.events.length === 0) return // a progress notification
                for (const event of response.events) {
                  const key = event.kv.key.toString("utf8")
                  if (event.type === "Delete") state.delete(key)
                  else state.set(key, event.kv.value.toString("utf8"))
                  revision = event.kv.mod_revision
                }
                emit.single(undefined)
              })
              watcher.on("disconnected", (cause) => emit.fail(new ConfigSourceError({ source: name, reason: "Unreachable", cause })))
              watcher.on("error", (cause) => {
                // a watch cancelled by etcd is already detached from the client's watch manager
                handle.dropped = true
                emit.fail(toSourceError(name, cause))
              })
              watcher.on("end", () => {
                handle.dropped = true
                emit.fail(new ConfigSourceError({ source: name, reason: "Protocol", cause: new Error("the watch ended") }))
              })
              return handle
            },
            catch: (cause) => toSourceError(name, cause)
          }),
          (handle) => (handle.dropped ? Effect.void : cancelWatcher(handle.watcher))
        )
        yield* Effect.forkScoped(Deferred.await(connected).pipe(Effect.zipRight(running.watching)))
        // the scope of `make` closed: the stream ends (and with it the session, without a failure)
        yield* Effect.forkScoped(Deferred.await(running.closed).pipe(Effect.zipRight(Effect.sync(() => emit.end()))))
      }), { bufferSize: 1, strategy: "sliding" })
    return Stream.map(signals, current)
  })

/**
 * Detaches the watcher before its client may be closed: etcd3 would otherwise keep re-opening a
 * watch stream on a closed client. Bounded, since a detach waits for etcd's confirmation.
 */
const cancelWatcher = (watcher: Watcher): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(Effect.void)
    }
    const timer = setTimeout(finish, 2_000)
    watcher.cancel().then(finish, finish)
  })

const toSourceError = (name: string, cause: unknown): ConfigSourceError =>
  new ConfigSourceError({ source: name, reason: classify(cause), cause })

const classify = (cause: unknown): ConfigSourceError["reason"] => {
  if (
    cause instanceof EtcdAuthenticationFailedError || cause instanceof EtcdInvalidAuthTokenError ||
    cause instanceof EtcdPermissionDeniedError || cause instanceof EtcdUserNotFoundError ||
    cause instanceof GRPCUnauthenticatedError
  ) return "Unauthorized"
  const message = causeMessage(cause)
  // etcd cancels a watch whose start revision was compacted with `compact_revision` set and no
  // `cancel_reason` (etcd3 only surfaces the reason: "Watcher canceled: "); every other server-side
  // cancel carries a reason.
  if (/compacted/i.test(message) || /^Watcher canceled:\s*$/.test(message)) return "Compacted"
  if (/auth|permission denied|user name is empty/i.test(message)) return "Unauthorized"
  if (/unavailable|deadline|ECONNREFUSED|ECONNRESET|No connection established|circuit|closed|canceled|cancelled/i.test(message)) {
    return "Unreachable"
  }
  return "Protocol"
}

const causeMessage = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
