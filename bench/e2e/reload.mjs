// reload scenario: throughput and errors while the route under load is rewritten in etcd 200 times.
//
// Load: the throughput scenario's settings (wrk -t1 -cN -dDs --latency) on GET /api/items with
// Host: reload.bench.test, the `reload` route in etcd. Its backends stay valid throughout: each write
// alternates the route between pool `reload-a` and `reload-b` (both round-robin over the same two backend
// ports) and bumps its timeout (30000+seq ms), so every write is a distinct, valid document that changes
// the route being served. The writes (etcd3 npm client) are spread evenly over the run: write i is due at
// start + (i + 0.5) × duration / reloads. Each round has three runs, in an order that rotates between
// rounds: one with reloads, one without any write ("quiet"), and a control ("writes elsewhere") with the
// same writes at the same times to a key outside the watched prefix, so that etcd, the etcd client and
// this harness do the same work while Switchyard has nothing to reload. On a 2-CPU machine those share
// the load generator's and the backend's CPU, and their work shows in the req/s of every target; the
// control takes it out: with reloads / writes elsewhere is what the reloads cost Switchyard. Both
// ratios are reported. After each run the harness waits until GET /config serves the last write and
// records how far the config version advanced.
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { configOf, key, PREFIX, RELOAD_HOST, RELOAD_PATH, reloadRoute } from "./dynamic.mjs"
import { load, warmUp } from "./load.mjs"
import { sleep } from "./procs.mjs"
import { summarize } from "./propagation.mjs"
import { httpRequest } from "./targets.mjs"

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** The route as /config shows it is the one written with `seq` (timeout 30000+seq ms, given pool). */
const serves = (config, pool, seq) => {
  const route = config?.routes?.reload
  if (!route) return false
  const timeout = route.timeout
  const ms = typeof timeout === "number" ? timeout : typeof timeout === "string" ? parseDurationMs(timeout) : undefined
  return route.backends?.[0]?.pool === pool && ms === 30_000 + seq
}
const parseDurationMs = (text) => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  if (!m) return undefined
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"]
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (USER_HZ = 100). */
const cpuMsOf = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime (fields 14, 15)
  } catch {
    return undefined
  }
}

export const reloadScenario = async (dyn, { tool, duration, connections, rounds = 2, warmup = 3, reloads = 200, minRatio = 0.9 }) => {
  const { etcd, switchyard } = dyn
  const url = `http://127.0.0.1:${switchyard.port}${RELOAD_PATH}`
  const check = await httpRequest({ port: switchyard.port, host: RELOAD_HOST, path: RELOAD_PATH })
  if (check.status !== 200 || check.body.length !== 64) throw new Error(`reload route answered ${check.status} ${check.body.slice(0, 200)}`)
  const loadRun = () => load(tool, { url, headers: { Host: RELOAD_HOST }, connections, duration })

  let seq = 0 // startDynamic wrote seq 0 with reload-a
  let pool = "reload-a"
  // the control writes the same values under this key, outside the prefix Switchyard watches
  const elsewhere = `/elsewhere${PREFIX}routes/reload`
  const reloadLoop = async (durationMs, control = false) => {
    const start = performance.now()
    const putMs = []
    const failures = []
    let late = 0
    for (let i = 0; i < reloads; i++) {
      const due = start + ((i + 0.5) * durationMs) / reloads
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      else late++
      const t0 = performance.now()
      try {
        if (control) {
          await etcd.put(elsewhere, JSON.stringify(reloadRoute(pool === "reload-a" ? "reload-b" : "reload-a", seq + 1)))
        } else {
          seq++
          pool = pool === "reload-a" ? "reload-b" : "reload-a"
          await etcd.put(key("routes", "reload"), JSON.stringify(reloadRoute(pool, seq)))
        }
        putMs.push(performance.now() - t0)
      } catch (error) {
        failures.push(error.message)
      }
    }
    return { sent: reloads - failures.length, failures, late, putMs: summarize(putMs), spanMs: performance.now() - start }
  }
  /** Waits (≤ 5 s) until /config serves the last write; → { version, converged, waitedMs } */
  const settle = async () => {
    const t0 = performance.now()
    for (;;) {
      const c = await configOf(switchyard.adminPort)
      if (serves(c.config, pool, seq)) return { version: c.version, converged: true, waitedMs: performance.now() - t0 }
      if (performance.now() - t0 > 5000) return { version: c.version, converged: false, waitedMs: performance.now() - t0, route: c.config?.routes?.reload }
      await sleep(20)
    }
  }

  // What one reload costs Switchyard in CPU, with no traffic: idle CPU over 2 s, then `idleWrites`
  // writes 50 ms apart (and the wait until the last is served), minus the idle rate over that span.
  const idleWrites = 50
  const idle = await (async () => {
    const pid = switchyard.pid
    const c0 = cpuMsOf(pid)
    const t0 = performance.now()
    await sleep(2000)
    const c1 = cpuMsOf(pid)
    const t1 = performance.now()
    const before = await settle()
    for (let i = 0; i < idleWrites; i++) {
      seq++
      pool = pool === "reload-a" ? "reload-b" : "reload-a"
      await etcd.put(key("routes", "reload"), JSON.stringify(reloadRoute(pool, seq)))
      await sleep(50)
    }
    const after = await settle()
    const c2 = cpuMsOf(pid)
    const t2 = performance.now()
    if (c0 === undefined || c2 === undefined) return undefined
    const idleRate = (c1 - c0) / (t1 - t0)
    const versions = after.version - before.version
    const cpuMs = c2 - c1 - idleRate * (t2 - t1)
    return { writes: idleWrites, versions, cpuMs, idleCpuPerSecondMs: idleRate * 1000, cpuMsPerVersion: versions > 0 ? cpuMs / versions : undefined }
  })()
  if (idle) {
    console.log(`[bench] reload: ${idle.writes} writes with no traffic -> ${idle.versions} versions, ` +
      `~${idle.cpuMsPerVersion?.toFixed(1)} ms of Switchyard CPU per applied version (idle ${idle.idleCpuPerSecondMs.toFixed(0)} ms/s)`)
  }

  console.log(`[bench] reload: warm-up (${warmup}s, as two loads)`)
  await warmUp(warmup, (seconds) => load(tool, { url, headers: { Host: RELOAD_HOST }, connections, duration: seconds }))

  const runs = { reload: [], quiet: [], elsewhere: [] }
  const kinds = ["reload", "quiet", "elsewhere"]
  for (let round = 0; round < rounds; round++) {
    const order = kinds.map((_, i) => kinds[(i + round) % kinds.length])
    for (const kind of order) {
      const before = await settle()
      let r
      let loop
      if (kind === "quiet") {
        r = await loadRun()
      } else {
        ;[r, loop] = await Promise.all([loadRun(), reloadLoop(duration * 1000, kind === "elsewhere")])
      }
      const after = await settle()
      const run = {
        ...r,
        failed: (r.non2xx ?? 0) + (r.errors ?? 0),
        versionBefore: before.version,
        versionAfter: after.version,
        versionsApplied: after.version - before.version,
        converged: after.converged,
        ...(loop ? { reloads: loop } : {})
      }
      runs[kind].push(run)
      console.log(`[bench] reload round ${round + 1}/${rounds} ${kind.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(3)} ms  ` +
        `p99 ${r.p99.toFixed(3)} ms  non2xx ${r.non2xx} errors ${r.errors}  versions +${run.versionsApplied}` +
        (loop ? ` (${loop.sent} writes, put p50 ${loop.putMs.p50?.toFixed(2)} ms max ${loop.putMs.max?.toFixed(2)} ms)` : "") +
        (after.converged ? "" : `  NOT CONVERGED: ${JSON.stringify(after.route)}`))
      await sleep(1000)
    }
  }

  const med = (kind) => ({
    rps: median(runs[kind].map((r) => r.rps)),
    p50: median(runs[kind].map((r) => r.p50)),
    p99: median(runs[kind].map((r) => r.p99)),
    non2xx: runs[kind].reduce((a, r) => a + (r.non2xx ?? 0), 0),
    errors: runs[kind].reduce((a, r) => a + (r.errors ?? 0), 0),
    requests: runs[kind].reduce((a, r) => a + (r.requests ?? 0), 0),
    versionsApplied: runs[kind].map((r) => r.versionsApplied)
  })
  const withReloads = med("reload")
  const without = med("quiet")
  const control = med("elsewhere")
  const ratio = withReloads.rps / without.rps
  const controlRatio = withReloads.rps / control.rps
  // per round (runs minutes apart see different machine speeds): the median of each round's ratio
  const pairedOf = (kind) => median(runs.reload.map((r, i) => r.rps / runs[kind][i].rps))
  const paired = { vsQuiet: pairedOf("quiet"), vsElsewhere: pairedOf("elsewhere") }
  const failed = withReloads.non2xx + withReloads.errors
  const writes = runs.reload.reduce((a, r) => a + r.reloads.sent, 0)
  const applied = runs.reload.reduce((a, r) => a + r.versionsApplied, 0)
  const targets = {
    noFailures: { goal: "0 failed requests (non-2xx + socket errors) during reloads", pass: failed === 0 },
    throughput: { goal: `req/s with reloads >= ${minRatio}x without`, pass: ratio >= minRatio },
    // the same, against the run with the same etcd writes outside the prefix (what the reloads cost Switchyard)
    throughputControlled: { goal: `req/s with reloads >= ${minRatio}x with writes elsewhere`, pass: controlRatio >= minRatio },
    // informational: etcd watch events and the 20 ms debounce may coalesce close writes into one version
    versions: {
      goal: `config version advanced by ~${reloads} per reload run (>= 90%), /config serves the last write`,
      pass: runs.reload.every((r) => r.versionsApplied >= 0.9 * reloads && r.converged)
    }
  }
  return {
    method: "etcd3 npm client puts of /switchyard/routes/reload, alternating pool reload-a/reload-b and timeout 30000+seq ms",
    reloadsPerRun: reloads,
    rounds,
    withReloads,
    without,
    control,
    ratio,
    controlRatio,
    paired,
    failed,
    writes,
    versionsApplied: applied,
    quietVersionsApplied: runs.quiet.reduce((a, r) => a + r.versionsApplied, 0),
    // 0 unless something else wrote to the prefix: the control run reloads nothing
    elsewhereVersionsApplied: runs.elsewhere.reduce((a, r) => a + r.versionsApplied, 0),
    idleReloadCost: idle,
    targets,
    runs
  }
}
