/**
 * Launches a real single-member etcd (Debian's `etcd-server`) for tests, as a scoped resource.
 *
 * - The binary is `$ETCD_BIN`, else `etcd` on `PATH`, else `/usr/bin/etcd`.
 * - Client and peer listeners are on free loopback ports; the data dir is a temp dir removed when
 *   the scope closes. `stop`/`start` stop and restart the same member (same data dir and ports),
 *   for outage tests.
 * - Sources under test connect to `endpoint`, a loopback TCP forwarder in front of etcd.
 *   `partition`/`heal` cut that path (open connections are dropped and new ones refused) while etcd
 *   keeps running, so a test can change the store while the source cannot see it. The helpers
 *   (`put`, `remove`, `compact`, …) use `directEndpoint` and their own etcd3 client.
 * - `auth: { rootPassword }` creates `root` (with the `root` role) and enables authentication; the
 *   helpers then authenticate as root. `authTokenTtlSeconds` sets `--auth-token-ttl` (simple tokens).
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { Etcd3, type IOptions } from "etcd3"
import { reservePorts } from "./ports.js"

export interface EtcdOptions {
  readonly auth?: { readonly rootPassword: string }
  readonly authTokenTtlSeconds?: number
}

export interface EtcdServer {
  /** What a source under test connects to (through the forwarder), e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string
  /** etcd's own client URL. */
  readonly directEndpoint: string
  readonly dataDir: string
  /** Stops the etcd process (SIGTERM, SIGKILL after 5 s) and waits for it to exit. */
  readonly stop: Effect.Effect<void>
  /** Starts it again with the same data dir and ports and waits until it is healthy. */
  readonly start: Effect.Effect<void>
  /** Drops every connection through `endpoint` and refuses new ones; etcd keeps running. */
  readonly partition: Effect.Effect<void>
  readonly heal: Effect.Effect<void>
  readonly put: (key: string, value: string) => Effect.Effect<void>
  readonly remove: (key: string) => Effect.Effect<void>
  readonly removePrefix: (prefix: string) => Effect.Effect<void>
  /** The current store revision. */
  readonly revision: Effect.Effect<string>
  /** Compacts (physically) up to the current revision and returns it. */
  readonly compact: Effect.Effect<string>
  /** Disables and re-enables authentication: etcd drops every simple token it handed out. */
  readonly cycleAuth: Effect.Effect<void>
  /** Runs `f` with the helper client (authenticated as root when auth is on). */
  readonly withClient: <A>(f: (client: Etcd3) => Promise<A>) => Effect.Effect<A>
}

export class Etcd extends Context.Tag("switchyard/test/Etcd")<Etcd, EtcdServer>() {
  static readonly layer = (options: EtcdOptions = {}): Layer.Layer<Etcd> => Layer.scoped(Etcd, make(options))
}

export const findEtcdBinary = (): string | undefined => {
  const fromEnv = process.env["ETCD_BIN"]
  if (fromEnv !== undefined && fromEnv !== "" && existsSync(fromEnv)) return fromEnv
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir !== "" && existsSync(join(dir, "etcd"))) return join(dir, "etcd")
  }
  return existsSync("/usr/bin/etcd") ? "/usr/bin/etcd" : undefined
}

export const make = (options: EtcdOptions = {}): Effect.Effect<EtcdServer, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => EtcdProcess.launch(options)), (etcd) => Effect.promise(() => etcd.dispose())).pipe(
    Effect.map((etcd): EtcdServer => ({
      endpoint: `http://127.0.0.1:${etcd.forwarder.port}`,
      directEndpoint: etcd.clientUrl,
      dataDir: etcd.dataDir,
      stop: Effect.promise(() => etcd.stop()),
      start: Effect.promise(() => etcd.start()),
      partition: Effect.promise(() => etcd.forwarder.cut()),
      heal: Effect.promise(() => etcd.forwarder.restore()),
      put: (key, value) => Effect.promise(() => etcd.withClient((c) => c.put(key).value(value).exec())).pipe(Effect.asVoid),
      remove: (key) => Effect.promise(() => etcd.withClient((c) => c.delete().key(key).exec())).pipe(Effect.asVoid),
      removePrefix: (prefix) => Effect.promise(() => etcd.withClient((c) => c.delete().prefix(prefix).exec())).pipe(Effect.asVoid),
      revision: Effect.promise(() => etcd.revision()),
      compact: Effect.promise(async () => {
        const revision = await etcd.revision()
        await etcd.withClient((c) => c.kv.compact({ revision, physical: true }))
        return revision
      }),
      cycleAuth: Effect.promise(() => etcd.cycleAuth()),
      withClient: (f) => Effect.promise(() => etcd.withClient(f))
    }))
  )

class EtcdProcess {
  private child: ChildProcess | undefined
  private client: Etcd3 | undefined
  private output: Array<string> = []

  private constructor(
    readonly binary: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly forwarder: Forwarder,
    readonly options: EtcdOptions
  ) {}

  get clientUrl(): string {
    return `http://127.0.0.1:${this.clientPort}`
  }

  static async launch(options: EtcdOptions): Promise<EtcdProcess> {
    const binary = findEtcdBinary()
    if (binary === undefined) {
      throw new Error("etcd binary not found: install etcd-server (apt-get install -y etcd-server) or set ETCD_BIN")
    }
    const dataDir = await mkdtemp(join(tmpdir(), "switchyard-etcd-"))
    const [clientPort, peerPort] = await reservePorts(2)
    const forwarder = await Forwarder.listen(clientPort!)
    const etcd = new EtcdProcess(binary, dataDir, clientPort!, peerPort!, forwarder, options)
    try {
      await etcd.start()
      if (options.auth !== undefined) await etcd.enableAuth(options.auth.rootPassword)
    } catch (error) {
      await etcd.dispose()
      throw error
    }
    return etcd
  }

  async start(): Promise<void> {
    if (this.child !== undefined) return
    const peer = `http://127.0.0.1:${this.peerPort}`
    const args = [
      "--name", "switchyard-test",
      "--data-dir", join(this.dataDir, "member"),
      "--listen-client-urls", this.clientUrl,
      "--advertise-client-urls", this.clientUrl,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", `switchyard-test=${peer}`,
      "--initial-cluster-state", "new",
      "--logger", "zap",
      "--log-level", "error",
      // one member on loopback: elect the leader within ~100 ms of a (re)start instead of ~1 s
      "--heartbeat-interval", "10",
      "--election-timeout", "100",
      ...(this.options.authTokenTtlSeconds === undefined ? [] : ["--auth-token-ttl", String(this.options.authTokenTtlSeconds)])
    ]
    const child = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"] })
    this.child = child
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString("utf8"))
      if (this.output.length > 50) this.output.shift()
    }
    child.stdout?.on("data", keep)
    child.stderr?.on("data", keep)
    // a worker that dies without closing its scope must not leave etcd running
    const reap = () => child.kill("SIGKILL")
    process.once("exit", reap)
    child.once("exit", () => {
      process.off("exit", reap)
      if (this.child === child) this.child = undefined
    })
    const deadline = Date.now() + 15_000
    while (!(await this.healthy())) {
      if (this.child !== child) throw new Error(`etcd exited during start-up:\n${this.output.join("")}`)
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy within 15 s:\n${this.output.join("")}`)
      await sleep(50)
    }
    this.resetClient()
  }

  async stop(): Promise<void> {
    const child = this.child
    if (child === undefined) return
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      else child.once("exit", () => resolve())
    })
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
    await exited
    clearTimeout(timer)
    this.child = undefined
    this.resetClient()
  }

  async dispose(): Promise<void> {
    this.client?.close()
    this.client = undefined
    await this.stop()
    await this.forwarder.close()
    await rm(this.dataDir, { recursive: true, force: true })
  }

  /** Runs `f` with the helper client, retrying for a few seconds (etcd may just have restarted). */
  async withClient<A>(f: (client: Etcd3) => Promise<A>): Promise<A> {
    const deadline = Date.now() + 5_000
    for (;;) {
      try {
        return await f(this.helper())
      } catch (error) {
        if (Date.now() > deadline) throw error
        this.resetClient()
        await sleep(100)
      }
    }
  }

  async revision(): Promise<string> {
    const response = await this.withClient((c) => c.get("\0").exec())
    return String(response.header.revision)
  }

  private helper(): Etcd3 {
    if (this.client === undefined) {
      const options: IOptions = {
        hosts: this.clientUrl,
        ...(this.options.auth === undefined ? {} : { auth: { username: "root", password: this.options.auth.rootPassword } })
      }
      this.client = new Etcd3(options)
    }
    return this.client
  }

  private resetClient(): void {
    this.client?.close()
    this.client = undefined
  }

  async cycleAuth(): Promise<void> {
    await this.withClient((c) => c.auth.authDisable({}))
    // the helper's token died with auth: enable it again without one
    await this.enableAuth(undefined)
  }

  /** Creates root (unless `rootPassword` is undefined: it exists) and enables authentication. */
  private async enableAuth(rootPassword: string | undefined): Promise<void> {
    const client = new Etcd3({ hosts: this.clientUrl })
    try {
      if (rootPassword !== undefined) {
        await client.user("root").create(rootPassword)
        await client.role("root").create().catch(() => undefined)
        await client.user("root").addRole("root")
      }
      await client.auth.authEnable({})
    } finally {
      client.close()
    }
    this.resetClient()
  }

  private async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(1_000) })
      const body = (await response.json()) as { health?: string }
      return response.ok && body.health === "true"
    } catch {
      return false
    }
  }
}

/** A loopback TCP forwarder whose path can be cut (connections dropped, listener closed) and restored. */
class Forwarder {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()

  private constructor(readonly target: number, public port: number) {}

  static async listen(target: number): Promise<Forwarder> {
    const forwarder = new Forwarder(target, 0)
    await forwarder.restore()
    return forwarder
  }

  async restore(): Promise<void> {
    if (this.server !== undefined) return
    const server = net.createServer((downstream) => {
      const upstream = net.connect(this.target, "127.0.0.1")
      for (const socket of [downstream, upstream]) {
        this.sockets.add(socket)
        socket.once("close", () => this.sockets.delete(socket))
        socket.on("error", () => {
          downstream.destroy()
          upstream.destroy()
        })
      }
      downstream.once("close", () => upstream.destroy())
      upstream.once("close", () => downstream.destroy())
      downstream.pipe(upstream)
      upstream.pipe(downstream)
    })
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject)
        resolve()
      })
    })
    this.port = (server.address() as net.AddressInfo).port
    this.server = server
  }

  async cut(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    await closed
  }

  close(): Promise<void> {
    return this.cut()
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
