/**
 * An emulator of Consul's KV HTTP API for tests (no Consul server can be installed on these machines).
 *
 * Written from Consul's HTTP API documentation: `api-docs/kv` (Read/Create-Update/Delete Key) and
 * `api-docs/features/blocking` (blocking queries), plus the index rules of Consul's state store:
 *
 * - `GET /v1/kv/<key>`: a JSON array with the one entry `{Key, Value (base64 or null), Flags,
 *   CreateIndex, ModifyIndex, LockIndex}`; `?recurse` treats the key as a plain string prefix
 *   (not segment-aware, as Consul does); `?keys` (with `?separator`) lists key names; `?raw` returns
 *   the bare value. Nothing there → 404 with an empty body. Every answer carries `X-Consul-Index`,
 *   `X-Consul-KnownLeader: true` and `X-Consul-LastContact: 0`.
 * - The index of a read is the highest `ModifyIndex` of the entries it covers or of the tombstones of
 *   keys deleted under it; if that is 0, the index of the last KV write (Consul's `kvs` table index),
 *   and never less than 1.
 * - Blocking queries: with `?index=N` (N > 0), the answer waits until that index exceeds N or until
 *   `?wait` (Go duration, default 5m, at most 10m) plus a random jitter of up to wait/16 has passed,
 *   and then answers with the current state whatever it is ("no guarantee of a change").
 * - `PUT /v1/kv/<key>` (body = raw value, `?flags`, `?cas`) answers `true`/`false`;
 *   `DELETE /v1/kv/<key>` (`?recurse`, `?cas`) answers `true`.
 * - ACL mode (`acl.token`): the token comes from `X-Consul-Token`, `?token=` or
 *   `Authorization: Bearer`. Without the right one the answer is 403 `Permission denied`, or, with
 *   `anonymous: "filter"`, reads behave as for an anonymous token with no key:read rights: entries are
 *   filtered out (so a listing is a 404) and `X-Consul-Results-Filtered-By-ACLs: true` is set.
 *
 * Test controls: `stop()`/`start()` take the HTTP server down (open connections, blocked queries
 * included, are dropped) and up again on the same port; `resetIndex()` makes the index go backwards,
 * as after a snapshot restore (blocked queries re-evaluate, as Consul's abandoned state store makes
 * them do, and keep waiting); `failNext(n, status, body)` answers the next n requests with that
 * error (e.g. 500 `No cluster leader`); `forceIndexHeader` answers a zero or invalid
 * `X-Consul-Index`; `put`/`remove`/`entries` change or read the store directly,
 * also while the server is stopped; `requests` records what was asked.
 *
 * Not emulated: sessions and locks (`?acquire`/`?release` answer 400; `LockIndex` stays 0), `Session`
 * in entries, transactions (`/v1/txn`), datacenters, namespaces and partitions (`?dc`/`?ns` are
 * ignored), consistency modes (`?stale`/`?consistent` are ignored: one node is always consistent),
 * hash-based blocking, agent caching, tombstone reaping (tombstones are kept until `resetIndex`),
 * ACL policies beyond one token, the 512 KB value limit, every endpoint other than `/v1/kv/` (404).
 */
import { Context, Effect, Layer, type Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface Entry {
  readonly Key: string
  readonly Value: string | null
  readonly Flags: number
  readonly CreateIndex: number
  readonly ModifyIndex: number
  readonly LockIndex: number
}

export interface RecordedRequest {
  readonly method: string
  readonly key: string
  readonly query: Readonly<Record<string, string>>
  /** The token as sent, and how. */
  readonly token: string | null
  readonly tokenFrom: "header" | "query" | "bearer" | null
  readonly status: number
}

export interface EmulatorOptions {
  readonly acl?: { readonly token: string; readonly anonymous?: "deny" | "filter" }
}

export interface ConsulEmulator {
  /** `http://127.0.0.1:<port>`. */
  readonly address: string
  readonly port: number
  readonly stop: Effect.Effect<void>
  readonly start: Effect.Effect<void>
  /** Makes the index go backwards (default to 1, entries restamped), as after a snapshot restore. */
  readonly resetIndex: (to?: number) => Effect.Effect<void>
  /**
   * Answers `X-Consul-Index: <value>` (e.g. `"0"`, as the Consul bugs the blocking-query docs warn
   * about, or garbage) instead of the real index; `null` restores it. Blocking still uses the real one.
   */
  readonly forceIndexHeader: (value: string | null) => Effect.Effect<void>
  /** The next `count` requests get `status` with `body` (text/plain, no `X-Consul-Index`). */
  readonly failNext: (count: number, status: number, body: string) => Effect.Effect<void>
  readonly put: (key: string, value: string) => Effect.Effect<void>
  readonly remove: (key: string, options?: { readonly recurse?: boolean }) => Effect.Effect<void>
  readonly entries: Effect.Effect<ReadonlyArray<Entry>>
  readonly index: Effect.Effect<number>
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clearRequests: Effect.Effect<void>
}

export class Consul extends Context.Tag("switchyard/test/ConsulEmulator")<Consul, ConsulEmulator>() {
  static readonly layer = (options: EmulatorOptions = {}): Layer.Layer<Consul> => Layer.scoped(Consul, make(options))
}

const defaultWaitMs = 5 * 60_000
const maxWaitMs = 10 * 60_000

export const make = (options: EmulatorOptions = {}): Effect.Effect<ConsulEmulator, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => Emulator.listen(options)), (emulator) => Effect.promise(() => emulator.close())).pipe(
    Effect.map((emulator): ConsulEmulator => ({
      address: `http://127.0.0.1:${emulator.port}`,
      port: emulator.port,
      stop: Effect.promise(() => emulator.stop()),
      start: Effect.promise(() => emulator.start()),
      resetIndex: (to = 1) => Effect.sync(() => emulator.resetIndex(to)),
      failNext: (count, status, body) => Effect.sync(() => emulator.failNext(count, status, body)),
      forceIndexHeader: (value) => Effect.sync(() => void (emulator.indexHeader = value)),
      put: (key, value) => Effect.sync(() => void emulator.store.put(key, Buffer.from(value, "utf8"), undefined, undefined)),
      remove: (key, opts) => Effect.sync(() => void emulator.store.remove(key, opts?.recurse === true, undefined)),
      entries: Effect.sync(() => [...emulator.store.entries.values()].map(toJson)),
      index: Effect.sync(() => emulator.store.index),
      requests: Effect.sync(() => [...emulator.requests]),
      clearRequests: Effect.sync(() => void (emulator.requests.length = 0))
    }))
  )

interface StoredEntry {
  readonly key: string
  readonly value: Buffer | null
  readonly flags: number
  readonly createIndex: number
  readonly modifyIndex: number
}

const toJson = (entry: StoredEntry): Entry => ({
  Key: entry.key,
  Value: entry.value === null ? null : entry.value.toString("base64"),
  Flags: entry.flags,
  CreateIndex: entry.createIndex,
  ModifyIndex: entry.modifyIndex,
  LockIndex: 0
})

/** The KV state: entries, tombstones and the raft-like index, plus wake-ups for blocked queries. */
class Store {
  readonly entries = new Map<string, StoredEntry>()
  readonly tombstones = new Map<string, number>()
  /** The last raft index used. */
  index = 1
  /** Consul's `kvs` table index: the last index at which the KV table changed. */
  tableIndex = 1
  private readonly wakers = new Set<() => void>()

  /** `cas`: 0 = only if absent, N = only if the entry's ModifyIndex is N. */
  put(key: string, value: Buffer, flags: number | undefined, cas: number | undefined): boolean {
    const existing = this.entries.get(key)
    if (cas !== undefined) {
      if (cas === 0 ? existing !== undefined : existing?.modifyIndex !== cas) return false
    }
    const index = this.bump()
    this.entries.set(key, {
      key,
      value: value.length === 0 ? null : value,
      flags: flags ?? existing?.flags ?? 0,
      createIndex: existing?.createIndex ?? index,
      modifyIndex: index
    })
    this.tombstones.delete(key)
    this.wake()
    return true
  }

  remove(key: string, recurse: boolean, cas: number | undefined): boolean {
    const doomed = recurse ? [...this.entries.keys()].filter((k) => k.startsWith(key)) : this.entries.has(key) ? [key] : []
    if (cas !== undefined && !recurse) {
      const existing = this.entries.get(key)
      if (existing === undefined || (cas !== 0 && existing.modifyIndex !== cas)) return false
    }
    if (doomed.length === 0) return true
    const index = this.bump()
    for (const k of doomed) {
      this.entries.delete(k)
      this.tombstones.set(k, index)
    }
    this.wake()
    return true
  }

  resetIndex(to: number): void {
    this.index = Math.max(1, to)
    this.tableIndex = this.index
    const entries = [...this.entries.values()]
    this.entries.clear()
    for (const e of entries) this.entries.set(e.key, { ...e, createIndex: this.index, modifyIndex: this.index })
    this.tombstones.clear()
    this.wake()
  }

  /** Entries covered by a read, and the read's index. */
  read(key: string, recurse: boolean): { entries: Array<StoredEntry>; index: number } {
    const covers = (k: string) => (recurse ? k.startsWith(key) : k === key)
    const entries = [...this.entries.values()].filter((e) => covers(e.key)).sort((a, b) => (a.key < b.key ? -1 : 1))
    let index = 0
    for (const e of entries) index = Math.max(index, e.modifyIndex)
    for (const [k, i] of this.tombstones) if (covers(k)) index = Math.max(index, i)
    if (index === 0) index = this.tableIndex
    return { entries, index: Math.max(1, index) }
  }

  onChange(waker: () => void): () => void {
    this.wakers.add(waker)
    return () => this.wakers.delete(waker)
  }

  private bump(): number {
    this.index += 1
    this.tableIndex = this.index
    return this.index
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker()
  }
}

class Emulator {
  readonly store = new Store()
  readonly requests: Array<RecordedRequest> = []
  private failures: Array<{ status: number; body: string }> = []
  indexHeader: string | null = null
  private server: http.Server | undefined
  private readonly pending = new Set<() => void>()

  private constructor(readonly options: EmulatorOptions, public port: number) {}

  static async listen(options: EmulatorOptions): Promise<Emulator> {
    const emulator = new Emulator(options, 0)
    await emulator.start()
    return emulator
  }

  async start(): Promise<void> {
    if (this.server !== undefined) return
    const server = http.createServer((req, res) => this.handle(req, res))
    server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject)
        resolve()
      })
    })
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    for (const cancel of [...this.pending]) cancel()
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
  }

  close(): Promise<void> {
    return this.stop()
  }

  resetIndex(to: number): void {
    this.store.resetIndex(to)
  }

  failNext(count: number, status: number, body: string): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, body })
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const query: Record<string, string> = {}
    for (const [name, value] of url.searchParams) query[name] = value
    const method = req.method ?? "GET"
    const { token, tokenFrom } = tokenOf(req, url)
    let key = ""
    const record = (status: number) => {
      this.requests.push({ method, key, query, token, tokenFrom, status })
    }
    const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
      record(status)
      if (res.destroyed) return
      res.writeHead(status, { "content-length": Buffer.byteLength(body), ...headers })
      res.end(body)
    }
    const text = (status: number, body: string) => send(status, body, { "content-type": "text/plain; charset=utf-8" })

    const failure = this.failures.shift()
    if (failure !== undefined) return text(failure.status, failure.body)

    if (!url.pathname.startsWith("/v1/kv/")) return text(404, "Not found")
    try {
      key = decodeURIComponent(url.pathname.slice("/v1/kv/".length))
    } catch {
      return text(400, "Invalid key encoding")
    }
    const acl = this.options.acl
    const authorized = acl === undefined || token === acl.token
    if (!authorized && (method !== "GET" || acl?.anonymous !== "filter")) return text(403, "Permission denied")

    switch (method) {
      case "GET":
        return this.get(res, key, query, authorized, send, text)
      case "PUT": {
        if ("acquire" in query || "release" in query) return text(400, "Sessions are not emulated")
        const flags = optionalUint(query["flags"])
        const cas = optionalUint(query["cas"])
        if (flags === null || cas === null) return text(400, "Invalid flags or cas")
        return void readBody(req).then(
          (body) => {
            const ok = this.store.put(key, body, flags, cas)
            send(200, JSON.stringify(ok), this.jsonHeaders(this.store.index))
          },
          () => text(400, "Failed to read the body")
        )
      }
      case "DELETE": {
        const cas = optionalUint(query["cas"])
        if (cas === null) return text(400, "Invalid cas")
        const ok = this.store.remove(key, "recurse" in query, cas)
        return send(200, JSON.stringify(ok), this.jsonHeaders(this.store.index))
      }
      default:
        return text(405, "Method not allowed")
    }
  }

  private get(
    res: http.ServerResponse,
    key: string,
    query: Record<string, string>,
    authorized: boolean,
    send: (status: number, body: string | Buffer, headers?: Record<string, string>) => void,
    text: (status: number, body: string) => void
  ): void {
    const keysOnly = "keys" in query
    const recurse = "recurse" in query || keysOnly
    const minIndex = query["index"] === undefined ? 0 : parseUint(query["index"])
    if (minIndex === null) return text(400, "Invalid index")
    let waitMs = defaultWaitMs
    if (query["wait"] !== undefined) {
      const parsed = parseGoDuration(query["wait"])
      if (parsed === null) return text(400, "Invalid wait time")
      waitMs = parsed
    }
    waitMs = Math.min(waitMs, maxWaitMs)

    const answer = () => {
      const { entries: all, index } = this.store.read(key, recurse)
      const entries = authorized ? all : []
      const headers: Record<string, string> = this.jsonHeaders(index)
      if (!authorized && all.length > 0) headers["x-consul-results-filtered-by-acls"] = "true"
      if (entries.length === 0) return send(404, "", headers)
      if (keysOnly) return send(200, JSON.stringify(listKeys(entries, key, query["separator"])), headers)
      if ("raw" in query) {
        const value = entries[0]?.value ?? Buffer.alloc(0)
        return send(200, value, { ...headers, "content-type": "application/octet-stream" })
      }
      return send(200, JSON.stringify(entries.map(toJson)), headers)
    }

    if (minIndex === 0 || this.store.read(key, recurse).index > minIndex) return answer()

    // Consul adds up to wait/16 of random jitter to spread the wake-ups of concurrent watchers.
    const deadline = waitMs + Math.floor(Math.random() * (waitMs / 16))
    let done = false
    const finish = (respond: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      unsubscribe()
      this.pending.delete(cancel)
      if (respond) answer()
    }
    const cancel = () => finish(false)
    const timer = setTimeout(() => finish(true), deadline)
    const unsubscribe = this.store.onChange(() => {
      if (this.store.read(key, recurse).index > minIndex) finish(true)
    })
    this.pending.add(cancel)
    // also emitted when the client goes away before the answer
    res.once("close", cancel)
  }

  private jsonHeaders(index: number): Record<string, string> {
    return {
      "content-type": "application/json",
      "x-consul-index": this.indexHeader ?? String(index),
      "x-consul-knownleader": "true",
      "x-consul-lastcontact": "0"
    }
  }
}

const tokenOf = (req: http.IncomingMessage, url: URL): { token: string | null; tokenFrom: RecordedRequest["tokenFrom"] } => {
  const header = req.headers["x-consul-token"]
  if (typeof header === "string" && header !== "") return { token: header, tokenFrom: "header" }
  const authorization = req.headers["authorization"]
  if (typeof authorization === "string" && /^Bearer\s+/i.test(authorization)) {
    return { token: authorization.replace(/^Bearer\s+/i, ""), tokenFrom: "bearer" }
  }
  const fromQuery = url.searchParams.get("token")
  if (fromQuery !== null && fromQuery !== "") return { token: fromQuery, tokenFrom: "query" }
  return { token: null, tokenFrom: null }
}

const listKeys = (entries: ReadonlyArray<StoredEntry>, prefix: string, separator: string | undefined): Array<string> => {
  const keys = new Set<string>()
  for (const { key } of entries) {
    if (separator === undefined || separator === "") {
      keys.add(key)
      continue
    }
    const at = key.indexOf(separator, prefix.length)
    keys.add(at < 0 ? key : key.slice(0, at + separator.length))
  }
  return [...keys]
}

const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

const parseUint = (text: string | undefined): number | null =>
  text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : null

const optionalUint = (text: string | undefined): number | undefined | null => (text === undefined ? undefined : parseUint(text))

const goUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Go's `time.ParseDuration` (what Consul uses for `wait`), in milliseconds. */
export const parseGoDuration = (text: string): number | null => {
  if (text === "0") return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let total = 0
  let matched = 0
  re.lastIndex = 0
  while (re.lastIndex < text.length) {
    const at = re.lastIndex
    const m = re.exec(text)
    if (m === null || m.index !== at) return null
    total += Number(m[1]) * (goUnits[m[2] ?? ""] ?? Number.NaN)
    matched++
  }
  return matched === 0 || !Number.isFinite(total) ? null : total
}
