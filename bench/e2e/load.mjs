// One load run against one target: wrk when available (parsed from --latency output), else autocannon
// in its own process. Returns { rps, p50, p99 (ms), requests, non2xx, errors, tool }.
import { fileURLToPath } from "node:url"
import { forkServer, run, sleep } from "./procs.mjs"

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const toMs = (text) => {
  const m = String(text).trim().match(/^([\d.]+)(us|ms|s|m|h)$/)
  if (!m) throw new Error(`cannot parse wrk latency "${text}"`)
  return Number(m[1]) * UNIT_MS[m[2]]
}

/** Parses `wrk --latency` output. */
export const parseWrk = (out) => {
  const rps = out.match(/Requests\/sec:\s+([\d.]+)/)
  const p50 = out.match(/^\s*50(?:\.000)?%\s+(\S+)/m)
  const p99 = out.match(/^\s*99(?:\.000)?%\s+(\S+)/m)
  if (!rps || !p50 || !p99) throw new Error(`unexpected wrk output:\n${out}`)
  const total = out.match(/(\d+) requests in/)
  const non2xx = out.match(/Non-2xx or 3xx responses:\s+(\d+)/)
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/)
  return {
    rps: Number(rps[1]),
    p50: toMs(p50[1]),
    p99: toMs(p99[1]),
    requests: total ? Number(total[1]) : undefined,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0
  }
}

const wrk = async ({ url, headers, connections, duration }) => {
  const args = ["-t1", `-c${connections}`, `-d${duration}s`, "--latency", "--timeout", "10s"]
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`)
  args.push(url)
  const { code, stdout, stderr } = await run("wrk", args, { timeoutMs: (duration + 30) * 1000 })
  if (code !== 0) throw new Error(`wrk exited ${code}: ${stderr}${stdout}`)
  return { ...parseWrk(stdout), tool: "wrk" }
}

const WORKER = fileURLToPath(new URL("./autocannon-worker.mjs", import.meta.url))
const autocannon = async ({ url, headers, connections, duration }) => {
  const { child, info } = await forkServer(WORKER, [JSON.stringify({ url, headers, connections, duration })], {
    timeoutMs: (duration + 30) * 1000
  })
  child.disconnect()
  const { rps, p50, p99, requests, non2xx, errors } = info
  return { rps, p50, p99, requests, non2xx, errors, tool: "autocannon" }
}

/** Runs `duration` seconds of load with `connections` connections. */
export const load = (tool, opts) => (tool === "wrk" ? wrk(opts) : autocannon(opts))

/**
 * Warm-up of `seconds` as two loads, not one, each followed by a pause. Every measured load ends with
 * the load generator closing its connections mid-request, and the first time a proxy sees that
 * (aborted requests, closed sockets) V8 deoptimizes parts of its request path. Re-optimizing took up
 * to ≈0.7 s of slower serving at the start of the next load, which then set that run's p99
 * (bench/README.md, "The tail"). After the second load the start of a run looks like its middle.
 * `run(seconds)` is one load. Returns the loads' lengths, for the log.
 */
export const warmUp = async (seconds, run) => {
  const parts = [Math.ceil(seconds / 2), Math.floor(seconds / 2)].filter((s) => s > 0)
  for (const part of parts) {
    await run(part)
    await sleep(500)
  }
  return parts
}
