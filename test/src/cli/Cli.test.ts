/**
 * The `switchyard` command line (CONTRACT §1), run as a real process from the build (`bin/switchyard.js`
 * imports `dist/`): `npm run build` must have run first.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import * as http from "node:http"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Backends from "../../support/backends.js"
import { reservePorts } from "../../support/ports.js"
import { request } from "../../support/client.js"

const ROOT = fileURLToPath(new URL("../../../", import.meta.url))
const BIN = join(ROOT, "bin", "switchyard.js")
const BUILT = join(ROOT, "dist", "src", "cli", "Cli.js")

// ---------------------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------------------

/** A temporary directory for config files, removed with the test's scope. */
const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "switchyard-cli-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

const write = (dir: string, name: string, text: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    const path = join(dir, name)
    await writeFile(path, text, "utf8")
    return path
  })

/** A loopback port for the CLI to bind (see test/support/ports.ts for why not port 0). */
const freePort: Effect.Effect<number> = Effect.promise(() => reservePorts(1)).pipe(Effect.map(([port]) => port!))

/** A server holding a loopback port (so binding it again fails), closed with the test's scope. */
const occupiedPort: Effect.Effect<number, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<net.Server>((resume) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => (server.address() as AddressInfo).port))

/** Whether a TCP connection to the port is refused. */
const refused = (port: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(false))
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code === "ECONNREFUSED")))
  })

/** GET that never fails: status 0 when the connection failed. */
const probe = (url: string, headers: Record<string, string> = {}): Effect.Effect<{ status: number; text: string }> =>
  Effect.async<{ status: number; text: string }>((resume) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") })))
      res.on("error", () => resume(Effect.succeed({ status: 0, text: "" })))
    })
    req.on("error", () => resume(Effect.succeed({ status: 0, text: "" })))
  })

/** Polls `check` every 50 ms until it holds; fails after `within`. */
const eventually = (what: string, check: Effect.Effect<boolean>, within: Duration.DurationInput = "10 seconds") =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep("50 millis")
  }).pipe(Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`timed out waiting for ${what}`) }), Effect.orDie)

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

interface Process {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves once the process has exited and its output is closed. */
  readonly exit: Effect.Effect<Exit>
}

/** The environment of a child: this one's, without overrides that would leak into the config. */
const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SWITCHYARD__")) env[k] = v
  return { ...env, ...extra }
}

/** Spawns `node bin/switchyard.js …args` from the repository root; killed (if still running) with the scope. */
const spawnCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Effect.Effect<Process, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      assert.isTrue(existsSync(BUILT), `${BUILT} is missing: run \`npm run build\` before the CLI tests`)
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      const closed = new Promise<Exit>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
      )
      return {
        child,
        stdout: () => stdout,
        stderr: () => stderr,
        exit: Effect.promise(() => closed).pipe(
          Effect.timeoutFail({
            duration: "15 seconds",
            onTimeout: () => new Error(`switchyard ${args.join(" ")} did not exit\nstdout: ${stdout}\nstderr: ${stderr}`)
          }),
          Effect.orDie
        )
      } satisfies Process
    }),
    (p) =>
      p.child.exitCode === null && p.child.signalCode === null
        ? Effect.sync(() => p.child.kill("SIGKILL")).pipe(Effect.zipRight(Effect.promise(() => new Promise((r) => p.child.once("close", r)))))
        : Effect.void
  )

/** Runs the CLI to completion. */
const runCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.flatMap(spawnCli(args, env), (p) => p.exit)

const yamlConfig = (options: { port: number; admin: number | null; pool: string; extra?: string }) =>
  `listeners:
  web:
    address: 127.0.0.1:${options.port}
routes:
  r:
    backends: [{ pool: app }]
pools:
  app:
    servers:
      - url: "${options.pool}"
admin:
  address: ${options.admin === null ? "null" : `127.0.0.1:${options.admin}`}
observability:
  metrics: { enabled: false }
sources:
  file: { watch: false }
shutdownTimeout: 10s
${options.extra ?? ""}`

/** Starts `switchyard …args` on a config and waits until its admin API says it is ready. */
const serve = (args: ReadonlyArray<string>, admin: number, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const p = yield* spawnCli(args, env)
    yield* eventually(
      `readiness\nstderr: ${p.stderr()}`,
      Effect.map(probe(`http://127.0.0.1:${admin}/readyz`), (r) => {
        if (p.child.exitCode !== null) throw new Error(`switchyard exited early (${p.child.exitCode}): ${p.stderr()}`)
        return r.status === 200
      })
    )
    return p
  })

/** Backend "a", a config routing to it on free ports (`edit` may change the YAML), and the CLI serving it. */
const serveBackend = (
  options: { readonly args?: ReadonlyArray<string>; readonly env?: Record<string, string>; readonly edit?: (yaml: string) => string } = {}
) =>
  Effect.gen(function*() {
    const backend = yield* Backends.make("a")
    const dir = yield* tempDir
    const port = yield* freePort
    const admin = yield* freePort
    const yaml = yamlConfig({ port, admin, pool: backend.url })
    const file = yield* write(dir, "serve.yaml", options.edit === undefined ? yaml : options.edit(yaml))
    const p = yield* serve([...(options.args ?? []), "--config", file], admin, options.env)
    return { backend, port, admin, p }
  })

const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as Record<string, unknown>)

// ---------------------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------------------

describe("Cli", () => {
  describe("validate", () => {
    it.scopedLive("exits 0 on a valid file", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = yield* write(dir, "good.yaml", yamlConfig({ port: 0, admin: null, pool: "http://127.0.0.1:9000" }))
        const result = yield* runCli(["validate", "--config", file])
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stdout, "valid")
      }))

    it.scopedLive("exits 1 and lists every problem with file, key path and what was expected and found", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = yield* write(
          dir,
          "bad.yaml",
          `listeners:
  web: { address: 127.0.0.1:0 }
routes:
  typo:
    backends: [{ pool: app }]
    tmeout: 5s
  slow:
    backends: [{ pool: app }]
    timeout: 5 seconds
  dangling:
    backends: [{ pool: nope }]
  "-bad":
    backends: [{ pool: app }]
pools:
  app: { servers: [{ url: "http://127.0.0.1:9000" }] }
`
        )
        const result = yield* runCli(["validate", "--config", file])
        assert.strictEqual(result.code, 1)
        const lines = result.stderr.trim().split("\n")
        const line = (path: string) => {
          const found = lines.find((l) => l.startsWith(`${file}: ${path}: `))
          assert.isDefined(found, `no problem for ${path} in:\n${result.stderr}`)
          return found!
        }
        assert.include(line("routes.typo.tmeout"), `unknown key (did you mean "timeout"?)`)
        assert.include(line("routes.slow.timeout"), `expected a duration such as "250ms", "5s" or a number of milliseconds, found "5 seconds"`)
        assert.include(line("routes.dangling.backends[0].pool"), `pool "nope" is not defined (defined pools: app)`)
        assert.include(line(`routes["-bad"]`), `expected a name matching ^[A-Za-z0-9][A-Za-z0-9._-]*$, found "-bad"`)
        assert.lengthOf(lines, 4, result.stderr)
      }))

    it.scopedLive("exits 1 with a clear message when the file does not exist", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = join(dir, "missing.yaml")
        const result = yield* runCli(["validate", "--config", file])
        assert.strictEqual(result.code, 1)
        assert.include(result.stderr, file)
        assert.include(result.stderr, "cannot read the file")
        assert.include(result.stderr, "ENOENT")
      }))

    it.scopedLive("accepts YAML, JSON and TOML, chosen by extension", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const files = [
          yield* write(dir, "c.yaml", `listeners:\n  web: { address: "127.0.0.1:0" }\nroutes:\n  r: { backends: [{ pool: app }], timeout: 2s }\npools:\n  app: { servers: [{ url: "http://127.0.0.1:9000" }] }\n`),
          yield* write(dir, "c.yml", `listeners:\n  web: { address: "127.0.0.1:0" }\n`),
          yield* write(dir, "c.json", JSON.stringify({
            listeners: { web: { address: "127.0.0.1:0" } },
            routes: { r: { backends: [{ pool: "app" }], timeout: "2s" } },
            pools: { app: { servers: [{ url: "http://127.0.0.1:9000" }] } }
          })),
          yield* write(dir, "c.toml", `[listeners.web]\naddress = "127.0.0.1:0"\n\n[routes.r]\nbackends = [{ pool = "app" }]\ntimeout = "2s"\n\n[pools.app]\nservers = [{ url = "http://127.0.0.1:9000" }]\n`)
        ]
        const results = yield* Effect.forEach(files, (file) => runCli(["validate", "--config", file]), { concurrency: "unbounded" })
        results.forEach((result, i) => assert.strictEqual(result.code, 0, `${files[i]}: ${result.stderr}`))
      }))

    it.scopedLive("names the line and column of a syntax error", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const yaml = yield* write(dir, "s.yaml", "listeners:\n  web:\n    address: [127.0.0.1:8080\nroutes: {}\n")
        const json = yield* write(dir, "s.json", `{\n  "listeners": {\n    "web": { "address": "127.0.0.1:0", }\n  }\n}\n`)
        const toml = yield* write(dir, "s.toml", `[listeners.web]\naddress = "127.0.0.1:0"\nbroken = = 1\n`)
        const [y, j, t] = yield* Effect.forEach([yaml, json, toml], (file) => runCli(["validate", "--config", file]), { concurrency: "unbounded" })
        assert.strictEqual(y!.code, 1)
        assert.match(y!.stderr, new RegExp(`^${yaml.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: \\(document\\): invalid YAML at line \\d+, column \\d+: `))
        assert.strictEqual(j!.code, 1)
        assert.match(j!.stderr, /invalid JSON at line 3, column \d+: /)
        assert.strictEqual(t!.code, 1)
        assert.match(t!.stderr, /invalid TOML at line 3, column \d+: /)
      }))

    it.scopedLive("interpolates ${VAR} and ${VAR:-default} from the environment", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = yield* write(
          dir,
          "i.yaml",
          `listeners:
  web:
    address: \${HOST:-127.0.0.1}:0
routes:
  r:
    backends: [{ pool: app }]
    timeout: \${TIMEOUT:-soon}
pools:
  app:
    servers:
      - url: "http://\${APP_HOST}:9000"
`
        )
        // TIMEOUT given, APP_HOST given, HOST from its default
        const ok = yield* runCli(["validate", "--config", file], { TIMEOUT: "3s", APP_HOST: "10.0.0.7" })
        assert.strictEqual(ok.code, 0, ok.stderr)
        // the default "soon" is not a duration; APP_HOST unset
        const bad = yield* runCli(["validate", "--config", file])
        assert.strictEqual(bad.code, 1)
        assert.include(bad.stderr, `${file}: pools.app.servers[0].url: environment variable APP_HOST is not set`)
        // interpolation problems are reported before decoding; with APP_HOST set the default is decoded
        const soon = yield* runCli(["validate", "--config", file], { APP_HOST: "10.0.0.7" })
        assert.strictEqual(soon.code, 1)
        assert.include(soon.stderr, `${file}: routes.r.timeout: expected a duration such as "250ms", "5s" or a number of milliseconds, found "soon"`)
      }))

    it.scopedLive("rejects an invalid environment override, naming the variable", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = yield* write(dir, "e.yaml", yamlConfig({ port: 0, admin: null, pool: "http://127.0.0.1:9000" }))
        const result = yield* runCli(["validate", "--config", file], { SWITCHYARD__routes__r__timeout: "soon" })
        assert.strictEqual(result.code, 1)
        assert.include(
          result.stderr,
          `env:SWITCHYARD__routes__r__timeout: routes.r.timeout: expected a duration such as "250ms", "5s" or a number of milliseconds, found "soon"`
        )
        const good = yield* runCli(["validate", "--config", file], { SWITCHYARD__routes__r__timeout: "5s" })
        assert.strictEqual(good.code, 0, good.stderr)
      }))
  })

  // -------------------------------------------------------------------------------------------------------
  // run
  // -------------------------------------------------------------------------------------------------------

  describe("run", () => {
    it.scopedLive("serves with `switchyard --config` and `switchyard run --config`, logging JSON lines", () =>
      Effect.gen(function*() {
        const backend = yield* Backends.make("a")
        const dir = yield* tempDir
        for (const args of [[], ["run"]]) {
          const port = yield* freePort
          const admin = yield* freePort
          const file = yield* write(dir, `serve-${args.length}.yaml`, yamlConfig({ port, admin, pool: backend.url }))
          const p = yield* serve([...args, "--config", file], admin)
          const ready = yield* probe(`http://127.0.0.1:${admin}/readyz`)
          assert.strictEqual(ready.status, 200)
          const reply = yield* request(`http://127.0.0.1:${port}/hello`)
          assert.strictEqual(reply.status, 200)
          assert.strictEqual(reply.json.server, "a")
          assert.strictEqual(reply.json.url, "/hello")
          p.child.kill("SIGTERM")
          const exit = yield* p.exit
          assert.strictEqual(exit.code, 0, exit.stderr)
          // pino writes asynchronously: the lines are certain to be out once the process has exited
          const lines = jsonLines(exit.stdout)
          const started = lines.find((l) => l["msg"] === "switchyard started")
          assert.isDefined(started, exit.stdout)
          assert.strictEqual(started!["level"], 30)
          assert.deepStrictEqual(started!["listeners"], { web: `http://127.0.0.1:${port}` })
          assert.strictEqual(started!["admin"], `http://127.0.0.1:${admin}`)
          assert.isTrue(lines.some((l) => l["msg"] === "configuration applied"), exit.stdout)
        }
      }))

    it.scopedLive("writes an access line per request, keep-alive requests with bodies included, and keeps serving", () =>
      Effect.gen(function*() {
        const { port, p } = yield* serveBackend()
        // undici's pooled keep-alive connection: Node detaches req.socket before such a response's 'close'
        for (let i = 0; i < 3; i++) {
          const reply = yield* request(`http://127.0.0.1:${port}/up/${i}`, { method: "POST", body: `body ${i}` })
          assert.strictEqual(reply.status, 200)
        }
        const reply = yield* request(`http://127.0.0.1:${port}/after`)
        assert.strictEqual(reply.status, 200, "the proxy must still serve")
        p.child.kill("SIGTERM")
        const exit = yield* p.exit
        assert.strictEqual(exit.code, 0, exit.stderr)
        const access = jsonLines(exit.stdout).filter((l) => l["type"] === "access")
        assert.deepStrictEqual(
          access.map((l) => [l["method"], l["path"], l["status"], l["client"], l["route"]]),
          [
            ["POST", "/up/0", 200, "127.0.0.1", "r"],
            ["POST", "/up/1", 200, "127.0.0.1", "r"],
            ["POST", "/up/2", 200, "127.0.0.1", "r"],
            ["GET", "/after", 200, "127.0.0.1", "r"]
          ]
        )
      }))

    it.scopedLive("loading the program does not size V8's young generation (src/cli/V8Flags.ts)", () =>
      Effect.gen(function*() {
        const { admin } = yield* serveBackend({ edit: (yaml) => yaml.replace("metrics: { enabled: false }", "metrics: { enabled: true }") })
        const metrics = yield* probe(`http://127.0.0.1:${admin}/metrics`)
        const line = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics.text)
        assert.isNotNull(line, metrics.text.slice(0, 2000))
        // V8 doubles it up to 2 × 16 MiB while ≈700 modules load unless the growth factor is 1 meanwhile
        assert.isAtMost(Number(line![1]), 8 * 1024 * 1024)
      }))

    it.scopedLive("applies environment overrides, visible in the admin GET /config", () =>
      Effect.gen(function*() {
        const { admin } = yield* serveBackend({ args: ["run"], env: { SWITCHYARD__routes__r__timeout: "5s" } })
        const config = yield* request(`http://127.0.0.1:${admin}/config`)
        assert.strictEqual(config.status, 200)
        assert.strictEqual(config.json.config.routes.r.timeout, 5000)
        assert.strictEqual(config.json.version, 1)
      }))

    it.scopedLive("a file the config refers to must be readable: validate reports it, run exits 1", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const port = yield* freePort
        const admin = yield* freePort
        const missing = join(dir, "missing-ca.pem")
        const file = yield* write(
          dir,
          "unreadable.yaml",
          yamlConfig({ port, admin, pool: "https://127.0.0.1:9443" }).replace(
            `      - url: "https://127.0.0.1:9443"`,
            `      - url: "https://127.0.0.1:9443"\n    tls: { caFile: "${missing}" }`
          )
        )
        const validate = yield* runCli(["validate", "--config", file])
        assert.strictEqual(validate.code, 1, validate.stdout)
        assert.include(validate.stderr, `${file}: pools.app.tls.caFile: expected a readable file`)
        const run = yield* runCli(["run", "--config", file])
        assert.strictEqual(run.code, 1, run.stdout)
        assert.include(run.stderr, "pools.app.tls.caFile: expected a readable file")
        assert.isTrue(yield* refused(port), "the data port must not stay bound")
      }))

    it.scopedLive("exits 1 on an invalid config, printing the problems, with nothing listening", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const port = yield* freePort
        const admin = yield* freePort
        const file = yield* write(
          dir,
          "invalid.yaml",
          yamlConfig({ port, admin, pool: "http://127.0.0.1:9000" }).replace("backends: [{ pool: app }]", "backends: [{ pool: nope }]\n    timeout: soon")
        )
        const p = yield* spawnCli(["run", "--config", file])
        const exit = yield* p.exit
        assert.strictEqual(exit.code, 1)
        assert.include(exit.stderr, `${file}: routes.r.timeout: expected a duration`)
        // the same problems as validate prints
        const validate = yield* runCli(["validate", "--config", file])
        assert.strictEqual(validate.stderr, exit.stderr)
        assert.isTrue(yield* refused(port), "the data port must not be bound")
        assert.isTrue(yield* refused(admin), "the admin port must not be bound")
      }))

    it.scopedLive("exits 1 naming the listener and address when a port is already in use", () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const taken = yield* occupiedPort
        const admin = yield* freePort
        const file = yield* write(dir, "taken.yaml", yamlConfig({ port: taken, admin, pool: "http://127.0.0.1:9000" }))
        const exit = yield* runCli(["--config", file])
        assert.strictEqual(exit.code, 1)
        assert.include(exit.stderr, `listener web cannot bind 127.0.0.1:${taken}`)
        assert.include(exit.stderr, "EADDRINUSE")
        assert.isTrue(yield* refused(admin), "the admin port must not stay bound")
        // the admin listener too
        const port = yield* freePort
        const adminFile = yield* write(dir, "admin-taken.yaml", yamlConfig({ port, admin: taken, pool: "http://127.0.0.1:9000" }))
        const adminExit = yield* runCli(["--config", adminFile])
        assert.strictEqual(adminExit.code, 1)
        assert.include(adminExit.stderr, `listener admin cannot bind 127.0.0.1:${taken}`)
        assert.isTrue(yield* refused(port), "the data port must not stay bound")
      }))

    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it.scopedLive(`on ${signal}, finishes the request in flight, refuses new connections and exits 0`, () =>
        Effect.gen(function*() {
          const backend = yield* Backends.make("slow", (req, res) => {
            req.resume()
            setTimeout(() => {
              res.writeHead(200, { "content-type": "text/plain" })
              res.end("done")
            }, 800)
          })
          const dir = yield* tempDir
          const port = yield* freePort
          const admin = yield* freePort
          const file = yield* write(dir, "drain.yaml", yamlConfig({ port, admin, pool: backend.url }))
          const p = yield* serve(["--config", file], admin)
          const inFlight = yield* Effect.fork(request(`http://127.0.0.1:${port}/slow`))
          yield* eventually("the backend to receive the request", Effect.sync(() => backend.seen.length === 1))
          p.child.kill(signal)
          // while the request drains, the listener no longer accepts
          yield* eventually("the listener to stop accepting", refused(port), "600 millis")
          // the admin API outlives the drain: alive, and not ready (load balancers take the instance out)
          assert.strictEqual((yield* probe(`http://127.0.0.1:${admin}/healthz`)).status, 200)
          assert.strictEqual((yield* probe(`http://127.0.0.1:${admin}/readyz`)).status, 503)
          const reply = yield* Fiber.join(inFlight)
          assert.strictEqual(reply.status, 200)
          assert.strictEqual(reply.text, "done")
          const exit = yield* p.exit
          assert.strictEqual(exit.code, 0, exit.stderr)
          assert.strictEqual(exit.signal, null)
          assert.isTrue(yield* refused(port))
          assert.isTrue(yield* refused(admin))
        }))
    }
  })
})
