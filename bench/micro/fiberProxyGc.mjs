// A minimal proxy (node:http → undici Pool, like bench/e2e/reference.mjs) with and without one Effect fiber
// per request, to measure what the fiber does to the young-generation GC (bench/README.md, "The fiber per
// request and the young-generation GC"). Needs `npm run build` (for the FiberRoots fix).
//
//   node bench/micro/fiberProxyGc.mjs [plain|fiber] [--roots] [--no-pretenuring]
//
// `plain`: the reference. `fiber`: each request runs in `runFork` + one `Effect.async` that forwards.
// `--roots`: Effect's root-fiber set kept in an array (src/runtime/FiberRoots.ts).
// `--no-pretenuring`: V8's allocation-site pretenuring off (what src/cli/V8Flags.ts does).
// It starts its own backend, drives itself with wrk (6 s, 50 connections; `wrk` must be on PATH) and
// prints bytes allocated, surviving and promoted per request and the mean scavenge pause, read from
// V8's --trace-gc-nvp output of a child process.
import { execFile, spawn } from "node:child_process"
import { promisify } from "node:util"
import http from "node:http"
import { fileURLToPath } from "node:url"

const args = process.argv.slice(2)
const mode = args.find((a) => !a.startsWith("--")) ?? "fiber"

if (process.env.FIBER_PROXY_CHILD === "1") {
  const v8 = await import("node:v8")
  if (args.includes("--no-pretenuring")) v8.setFlagsFromString("--no-allocation-site-pretenuring")
  const { Pool } = await import("undici")
  const { Context, Effect, FiberRefs, Runtime, RuntimeFlags } = await import("effect")
  if (args.includes("--roots")) (await import("../../dist/src/runtime/FiberRoots.js")).install()
  const pool = new Pool(process.env.UPSTREAM, { connections: 128, pipelining: 1 })
  const HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"])
  const strip = (headers) => {
    const out = {}
    for (const key in headers) if (!HOP.has(key)) out[key] = headers[key]
    return out
  }
  const runFork = Runtime.runFork(Runtime.make({
    context: Context.empty(),
    runtimeFlags: RuntimeFlags.make(RuntimeFlags.Interruption, RuntimeFlags.CooperativeYielding),
    fiberRefs: FiberRefs.empty()
  }))
  const forward = (req, cb) => pool.request({ method: req.method, path: req.url, headers: strip(req.headers), body: null }, cb)
  const send = (res, error, up) => {
    if (error) {
      res.writeHead(502)
      return res.end()
    }
    res.writeHead(up.statusCode, strip(up.headers))
    up.body.pipe(res)
    res.on("close", () => !up.body.readableEnded && up.body.destroy())
  }
  const server = http.createServer((req, res) => {
    if (mode === "plain") return forward(req, (e, up) => send(res, e, up))
    const fiber = runFork(Effect.async((resume) => forward(req, (e, up) => resume(e ? Effect.fail(e) : Effect.succeed(up)))))
    fiber.addObserver((exit) => (exit._tag === "Success" ? send(res, undefined, exit.value) : send(res, exit.cause)))
  })
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }))
  process.on("disconnect", () => process.exit(0))
} else {
  const body = Buffer.from("x".repeat(64))
  const backend = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length })
    res.end(body)
  })
  backend.keepAliveTimeout = 120_000
  await new Promise((resolve) => backend.listen(0, "127.0.0.1", resolve))
  const child = spawn(process.execPath, ["--trace-gc-nvp", fileURLToPath(import.meta.url), ...args], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: { ...process.env, FIBER_PROXY_CHILD: "1", UPSTREAM: `http://127.0.0.1:${backend.address().port}` }
  })
  let gc = ""
  child.stdout.on("data", (d) => (gc += d))
  const { port } = await new Promise((resolve) => child.once("message", resolve))
  const url = `http://127.0.0.1:${port}/`
  // asynchronously: the backend lives in this process's event loop
  const wrk = async (seconds) => (await promisify(execFile)("wrk", ["-t1", "-c50", `-d${seconds}s`, url])).stdout
  await wrk(2) // warm-up
  await new Promise((resolve) => setTimeout(resolve, 300))
  const from = gc.length
  const out = await wrk(6)
  await new Promise((resolve) => setTimeout(resolve, 300))
  child.disconnect()
  await new Promise((resolve) => child.once("exit", resolve))
  backend.close()
  const requests = Number(/(\d+) requests in/.exec(out)[1])
  let n = 0, pause = 0, allocated = 0, survived = 0, promoted = 0
  for (const line of gc.slice(from).split("\n")) {
    if (!line.includes("gc=s ")) continue
    const field = (name) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0)
    n++
    pause += field("pause")
    allocated += field("allocated")
    survived += field("new_space_survived")
    promoted += field("promoted")
  }
  const per = (x) => `${(x / requests).toFixed(0)} B`
  console.log(`${[mode, ...args.filter((a) => a.startsWith("--"))].join(" ")}: ${(requests / 6).toFixed(0)} req/s, ` +
    `${n} scavenges of ${(pause / Math.max(n, 1)).toFixed(2)} ms; per request: allocated ${per(allocated)}, ` +
    `survived ${per(survived)}, promoted ${per(promoted)}`)
}
