// instructions scenario: what one request costs each proxy in CPU instructions, counted by valgrind's
// callgrind in the proxy process (every thread: JavaScript, V8's compilers and GC, libuv, llhttp).
//
// Why: requests/s on this 2-vCPU virtual machine drift by tens of percent from one minute to the next,
// whatever the placement; an instruction count is the same whatever else the machine is doing. It is
// not time (no cache misses, no syscalls' kernel side), but it is the work each proxy does per request.
//
// Each target runs under `valgrind --tool=callgrind`; the harness sends `warmup` requests (JIT warm-up),
// dumps and zeroes the counters (`callgrind_control -d`), sends `requests` more, dumps again and divides
// the dump's total. V8's optimizing compiler still runs in that window (valgrind slows the program ~50×,
// so tiering is still settling): its work is in the count, as it is in a real process's first minutes.
import { execFile } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import http from "node:http"
import os from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { anyCpu } from "./cpus.mjs"
import { onPath, stop } from "./procs.mjs"
import { LOAD_HOST, LOAD_PATH } from "./targets.mjs"

const exec = promisify(execFile)

/** `n` GET requests over `connections` keep-alive connections. */
const drive = (port, n, connections) =>
  new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
    let sent = 0
    let done = 0
    let failed = 0
    const one = () => {
      if (sent >= n) return
      sent++
      http.get({ host: "127.0.0.1", port, path: LOAD_PATH, headers: { host: LOAD_HOST }, agent }, (res) => {
        if (res.statusCode !== 200) failed++
        res.resume()
        res.on("end", () => {
          if (++done === n) {
            agent.destroy()
            resolve({ failed })
          } else one()
        })
      }).on("error", (error) => {
        agent.destroy()
        reject(error)
      })
    }
    for (let i = 0; i < connections; i++) one()
  })

/** Instructions of the last dump (the counters since the previous one). */
const dump = async (pid, dir) => {
  const before = new Set(readdirSync(dir))
  await exec("callgrind_control", ["-d", String(pid)], { timeout: 120_000 })
  for (let i = 0; i < 600; i++) {
    const fresh = readdirSync(dir).filter((f) => !before.has(f) && /\.\d+$/.test(f))
    if (fresh.length > 0) {
      const file = path.join(dir, fresh[0])
      // the file is complete once its totals line is written
      const text = readFileSync(file, "utf8")
      if (/^totals: \d+/m.test(text)) return file
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`callgrind dump of ${pid} did not appear in ${dir}`)
}

const total = (file) => Number(/^totals: (\d+)/m.exec(readFileSync(file, "utf8"))[1])

/** `start(name, { wrap, readyTimeoutMs })` starts a target. → { [target]: { perRequest, requests, failed } } */
export const instructionsScenario = async ({ targets, start, warmup, requests, connections, log }) => {
  if (!(await onPath("valgrind")) || !(await onPath("callgrind_control"))) {
    throw new Error("valgrind (callgrind) is not installed (Debian: apt-get install -y valgrind)")
  }
  const measure = async (name) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `switchyard-callgrind-${name}-`))
    const wrap = ["valgrind", "--tool=callgrind", "--dump-instr=no", `--callgrind-out-file=${path.join(dir, "callgrind.out")}`]
    const target = await start(name, { wrap, readyTimeoutMs: 300_000 })
    anyCpu(target.pid)
    try {
      log(`instructions ${name}: ${warmup} warm-up requests under valgrind`)
      await drive(target.port, warmup, connections)
      await dump(target.pid, dir)
      const t0 = Date.now()
      const { failed } = await drive(target.port, requests, connections)
      const file = await dump(target.pid, dir)
      const instructions = total(file)
      log(`instructions ${name}: ${requests} requests in ${((Date.now() - t0) / 1000).toFixed(0)} s under valgrind, ` +
        `${(instructions / requests / 1000).toFixed(1)}k instructions per request`)
      return { requests, failed, perRequest: instructions / requests }
    } finally {
      await stop(target.child, 30_000)
      if (process.env.BENCH_INSTRUCTIONS_KEEP) log(`instructions ${name}: callgrind files kept in ${dir}`)
      else rmSync(dir, { recursive: true, force: true })
    }
  }
  // One target at a time: programs under valgrind run ~50× slower, and work that runs by the clock
  // (timers, V8's idle-time GC) counts more per request the slower each request is.
  const out = {}
  for (const name of targets) out[name] = await measure(name)
  return out
}
