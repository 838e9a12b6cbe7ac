// propagation scenario: how long from an etcd write to the first proxied response that reflects it.
//
// The `probe` route (in etcd) points at pool `probe-a` (first backend port) or `probe-b` (second); the
// backend answers /probe/* with `x-backend-port`. Each change rewrites /switchyard/routes/probe with the
// other pool, through the etcd3 npm client (one long-lived gRPC connection; no etcdctl process spawn). The
// clock starts just before the put call; after the put resolves, the harness sends sequential GETs on one
// keep-alive connection, no sleep, until a 200 comes from the new backend; the elapsed time is one sample.
// Then `confirm` more requests must also come from the new backend (a later request served by the old
// config would be a "flap"). Switchyard's own `config.applied` event time is recorded beside each sample
// to split the delay into write → applied → seen.
import http from "node:http"
import { performance } from "node:perf_hooks"
import { key, PROBE_HOST, PROBE_PATH, probeRoute } from "./dynamic.mjs"

const percentile = (sorted, p) => {
  if (sorted.length === 0) return undefined
  const rank = Math.ceil((p / 100) * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]
}

export const summarize = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return {
    n: s.length,
    min: s[0],
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1],
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : undefined
  }
}

/**
 * @param dyn from startDynamic
 * @param opts { changes = 200, warmup = 5, timeoutMs = 5000, confirm = 3, targetP99Ms = 100 }
 */
export const propagationScenario = async (dyn, { changes = 200, warmup = 5, timeoutMs = 5000, confirm = 3, targetP99Ms = 100 } = {}) => {
  const { etcd, switchyard, events } = dyn
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = () =>
    new Promise((resolve) => {
      const req = http.request(
        { host: "127.0.0.1", port: switchyard.port, path: PROBE_PATH, headers: { host: PROBE_HOST }, agent, timeout: 5000 },
        (res) => {
          res.resume()
          res.on("end", () => resolve({ status: res.statusCode, port: Number(res.headers["x-backend-port"]) }))
          res.on("error", (error) => resolve({ status: 0, error: error.message }))
        }
      )
      req.on("timeout", () => req.destroy(new Error("timeout")))
      req.on("error", (error) => resolve({ status: 0, error: error.message }))
      req.end()
    })

  const portOf = { "probe-a": dyn.ports[0], "probe-b": dyn.ports[1] }
  // where the route points now (startDynamic wrote probe-a)
  let pool = "probe-a"
  const first = await get()
  if (first.status !== 200 || first.port !== portOf[pool]) {
    throw new Error(`probe route answered ${first.status} from port ${first.port}, expected 200 from ${portOf[pool]}`)
  }

  const samples = []
  const problems = { non200: {}, requestErrors: 0, flaps: 0, timeouts: 0, errorSamples: [] }
  for (let i = -warmup; i < changes; i++) {
    const next = pool === "probe-a" ? "probe-b" : "probe-a"
    const want = portOf[next]
    const value = JSON.stringify(probeRoute(next))
    const eventsBefore = events.events.length
    const wall0 = Date.now()
    const t0 = performance.now()
    await etcd.put(key("routes", "probe"), value)
    const putMs = performance.now() - t0
    let polls = 0
    let seen = false
    let elapsed
    for (;;) {
      const r = await get()
      polls++
      if (r.status === 200 && r.port === want) {
        elapsed = performance.now() - t0
        seen = true
        break
      }
      if (r.status !== 200) {
        if (i >= 0) {
          if (r.status === 0) problems.requestErrors++
          else problems.non200[r.status] = (problems.non200[r.status] ?? 0) + 1
          if (problems.errorSamples.length < 5) problems.errorSamples.push({ change: i, status: r.status, error: r.error })
        }
      }
      if (performance.now() - t0 > timeoutMs) {
        elapsed = performance.now() - t0
        break
      }
    }
    pool = next
    if (!seen) {
      if (i >= 0) problems.timeouts++
      // resynchronise before the next change: wait (bounded) until the change shows
      const deadline = performance.now() + 10_000
      while (performance.now() < deadline) {
        const r = await get()
        if (r.status === 200 && r.port === want) break
      }
    }
    let flaps = 0
    for (let c = 0; c < confirm; c++) {
      const r = await get()
      if (!(r.status === 200 && r.port === want)) flaps++
    }
    if (i < 0) continue
    problems.flaps += flaps
    // Switchyard's config.applied for this write: the first one published after the put started
    const applied = events.events.slice(eventsBefore).find((e) => e.type === "config.applied")
    const appliedMs = applied ? Date.parse(applied.time) - wall0 : undefined
    samples.push({ change: i, ms: elapsed, putMs, polls, seen, appliedMs, version: applied?.version, flaps })
  }
  agent.destroy()

  const seenMs = samples.map((s) => s.ms)
  const stats = summarize(seenMs)
  const put = summarize(samples.map((s) => s.putMs))
  const appliedSamples = samples.filter((s) => s.appliedMs !== undefined).map((s) => s.appliedMs)
  const applied = appliedSamples.length ? summarize(appliedSamples) : undefined
  const polls = summarize(samples.map((s) => s.polls))
  const slowest = [...samples].sort((a, b) => b.ms - a.ms).slice(0, 5)
  const clean = problems.timeouts === 0 && problems.flaps === 0 && problems.requestErrors === 0 && Object.keys(problems.non200).length === 0
  const target = {
    goal: `p99 < ${targetP99Ms} ms from etcd put to first proxied response reflecting it`,
    pass: stats.p99 < targetP99Ms && problems.timeouts === 0
  }
  return {
    method: "etcd3 npm client put (gRPC, long-lived connection); clock starts just before the put call",
    changes,
    warmupChanges: warmup,
    confirmRequests: confirm,
    ms: stats,
    putMs: put,
    appliedMs: applied,
    pollsPerChange: polls,
    problems,
    clean,
    slowest,
    target,
    samples
  }
}
