#!/usr/bin/env node
// `npm run bench`: end-to-end benchmark of Switchyard against a raw node:http+undici reference and
// @fastify/http-proxy (throughput scenario), plus 1 GiB up/down streaming through Switchyard with its
// peak RSS (stream scenario), and the dynamic configuration plane against a real etcd: write-to-visible
// latency (propagation) and load under 200 route rewrites (reload). See bench/README.md. Every process
// runs on 127.0.0.1 and is killed on exit.
//
// Env: BENCH_DURATION (s, default 10), BENCH_ROUNDS (3), BENCH_WARMUP (s, 4), BENCH_CONNECTIONS (50),
//      BENCH_SCENARIOS (throughput,stream,propagation,reload), BENCH_TARGETS (reference,fastify,switchyard),
//      BENCH_TOOL (wrk|autocannon; default wrk when on PATH), BENCH_STREAM_BYTES (1073741824),
//      BENCH_STREAM_TARGETS (reference,switchyard), BENCH_OUT (bench/results/latest.json),
//      BENCH_PROPAGATION_CHANGES (200), BENCH_RELOADS (200), BENCH_RELOAD_ROUNDS (min(BENCH_ROUNDS, 2)),
//      BENCH_PIN (auto: the proxy under test alone on CPU 0, the rest on the other CPUs; 0 = not placed),
//      BENCH_INSTRUCTIONS_WARMUP (12000), BENCH_INSTRUCTIONS_REQUESTS (8000) for the opt-in `instructions`
//      scenario (valgrind: instructions per request, a count the machine's noise does not move)
import { mkdirSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describePlacement, offTest, pinHarness, placement, underTest } from "./e2e/cpus.mjs"
import { instructionsScenario } from "./e2e/instructions.mjs"
import { startDynamic } from "./e2e/dynamic.mjs"
import { load, warmUp } from "./e2e/load.mjs"
import { installCleanup, memoryOf, onPath, sleep, stop } from "./e2e/procs.mjs"
import { propagationScenario } from "./e2e/propagation.mjs"
import { reloadScenario } from "./e2e/reload.mjs"
import { streamScenario } from "./e2e/stream.mjs"
import {
  httpRequest,
  LOAD_HOST,
  LOAD_PATH,
  startBackend,
  startFastify,
  startReference,
  startSwitchyard,
  SWITCHYARD_CLI
} from "./e2e/targets.mjs"

installCleanup()

const here = path.dirname(fileURLToPath(import.meta.url))
const num = (name, fallback) => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return n
}
const list = (name, fallback) => (process.env[name] ?? fallback).split(",").map((s) => s.trim()).filter(Boolean)

const opts = {
  duration: Math.round(num("BENCH_DURATION", 10)),
  rounds: Math.round(num("BENCH_ROUNDS", 3)),
  warmup: Math.round(num("BENCH_WARMUP", 4)),
  connections: Math.round(num("BENCH_CONNECTIONS", 50)),
  scenarios: list("BENCH_SCENARIOS", "throughput,stream,propagation,reload"),
  targets: list("BENCH_TARGETS", "reference,fastify,switchyard"),
  streamBytes: Math.round(num("BENCH_STREAM_BYTES", 1024 ** 3)),
  streamTargets: list("BENCH_STREAM_TARGETS", "reference,switchyard"),
  propagationChanges: Math.round(num("BENCH_PROPAGATION_CHANGES", 200)),
  reloads: Math.round(num("BENCH_RELOADS", 200)),
  reloadRounds: Math.round(num("BENCH_RELOAD_ROUNDS", Math.min(2, Math.round(num("BENCH_ROUNDS", 3))))),
  instructionsWarmup: Math.round(num("BENCH_INSTRUCTIONS_WARMUP", 12000)),
  instructionsRequests: Math.round(num("BENCH_INSTRUCTIONS_REQUESTS", 8000)),
  out: process.env.BENCH_OUT ?? path.join(here, "results/latest.json")
}
const tool = process.env.BENCH_TOOL ?? ((await onPath("wrk")) ? "wrk" : "autocannon")
if (tool !== "wrk" && tool !== "autocannon") throw new Error(`BENCH_TOOL must be wrk or autocannon, got ${tool}`)
const SCENARIOS = ["throughput", "stream", "propagation", "reload", "instructions"]
for (const s of opts.scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (one of ${SCENARIOS.join(", ")})`)

const log = (...args) => console.log("[bench]", ...args)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}
const fmt = (n, d = 2) => (n === undefined || n === null || Number.isNaN(n) ? "-" : n.toFixed(d))
const pad = (rows) => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ")).join("\n")
}
const MiB = 1024 * 1024

/** `options`: `{ wrap, readyTimeoutMs }` (the instructions scenario runs each target under valgrind). */
const starters = {
  reference: (backend, options) => startReference(backend.origin, options),
  fastify: (backend, options) => startFastify(backend.origin, options),
  switchyard: (backend, options) => startSwitchyard(backend.origins, options)
}

const results = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, platform: `${os.platform()} ${os.release()}` },
  options: { ...opts, tool, out: undefined, placement: placement ?? "none" },
  request: { host: LOAD_HOST, path: LOAD_PATH, responseBytes: 64 },
  unavailable: {}
}

const startTarget = async (name, backend) => {
  try {
    return await starters[name](backend)
  } catch (error) {
    const reason = error.message.split("\n").slice(0, 30).join("\n")
    log(`${name} not runnable: ${reason}`)
    results.unavailable[name] = reason
    return undefined
  }
}

// Sanity checks before load: the load request answers 200 with the backend's 64-byte body; for
// Switchyard also the other routes, no_route, and x-request-id.
const preflight = async (target) => {
  const r = await httpRequest({ port: target.port, host: LOAD_HOST, path: LOAD_PATH })
  if (r.status !== 200 || r.body.length !== 64) throw new Error(`${target.name}: load request answered ${r.status} ${r.body.slice(0, 200)}`)
  if (target.name !== "switchyard") return undefined
  const checks = {}
  const www = await httpRequest({ port: target.port, host: "www.bench.test", path: "/index.html" })
  checks.wwwRoute = www.status === 200
  const stat = await httpRequest({ port: target.port, host: "cdn.bench.test", path: "/static/app.js" })
  checks.staticWildcardRoute = stat.status === 200
  const none = await httpRequest({ port: target.port, host: "other.test", path: "/" })
  checks.noRoute404 = none.status === 404
  checks.requestIdHeader = typeof r.headers["x-request-id"] === "string"
  const metrics = await httpRequest({ port: target.adminPort, path: "/metrics" }).catch(() => undefined)
  checks.metricsEndpoint = metrics?.status === 200 && metrics.body.includes("switchyard_")
  for (const [k, v] of Object.entries(checks)) if (!v) log(`warning: switchyard check ${k} failed`)
  return checks
}

const throughput = async (backend) => {
  const running = []
  for (const name of opts.targets) {
    if (!starters[name]) throw new Error(`unknown target ${name}`)
    const t = await startTarget(name, backend)
    if (t) running.push(t)
  }
  if (running.length === 0) throw new Error("no target could be started")
  const checks = {}
  for (const t of running) checks[t.name] = await preflight(t)
  const loadOf = async (t, duration) => {
    underTest(t.pid)
    try {
      return await load(tool, {
        url: `http://127.0.0.1:${t.port}${LOAD_PATH}`,
        headers: { Host: LOAD_HOST },
        connections: opts.connections,
        duration
      })
    } finally {
      offTest(t.pid)
    }
  }

  for (const t of running) {
    log(`warm-up ${t.name} (${opts.warmup}s, as two loads)`)
    await warmUp(opts.warmup, (seconds) => loadOf(t, seconds))
  }
  const runs = Object.fromEntries(running.map((t) => [t.name, []]))
  for (let round = 0; round < opts.rounds; round++) {
    // Alternate, rotating the order each round so no target always runs first.
    const order = running.map((_, i) => running[(i + round) % running.length])
    for (const t of order) {
      const r = await loadOf(t, opts.duration)
      runs[t.name].push(r)
      log(`round ${round + 1}/${opts.rounds} ${t.name.padEnd(10)} ${fmt(r.rps, 0).padStart(7)} req/s  p50 ${fmt(r.p50, 3)} ms  p99 ${fmt(r.p99, 3)} ms` +
        (r.non2xx || r.errors ? `  non2xx ${r.non2xx} errors ${r.errors}` : ""))
      await sleep(1000)
    }
  }
  const memory = {}
  for (const t of running) memory[t.name] = memoryOf(t.pid)
  for (const t of running) await stop(t.child)

  const medians = {}
  for (const [name, rs] of Object.entries(runs)) {
    medians[name] = {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      non2xx: rs.reduce((a, r) => a + (r.non2xx ?? 0), 0),
      errors: rs.reduce((a, r) => a + (r.errors ?? 0), 0),
      rssAfterMiB: memory[name]?.rss !== undefined ? memory[name].rss / MiB : undefined,
      vmHwmMiB: memory[name]?.hwm !== undefined ? memory[name].hwm / MiB : undefined
    }
  }
  const sy = medians.switchyard
  const fa = medians.fastify
  const ref = medians.reference
  const comparisons = {}
  const targets = {}
  if (sy && fa) {
    comparisons.rpsVsFastify = sy.rps / fa.rps
    comparisons.p99VsFastify = sy.p99 / fa.p99
    targets.fastify = {
      goal: ">= 1.0x fastify req/s with p99 no worse",
      pass: comparisons.rpsVsFastify >= 1.0 && sy.p99 <= fa.p99 && sy.non2xx === 0 && sy.errors === 0
    }
  }
  // Paired ratios: each round's Switchyard run against the other targets' runs in the same round. This
  // machine's speed drifts by tens of percent between minutes; within one round the drift is smaller.
  const paired = (other) =>
    runs.switchyard && runs[other] ? median(runs.switchyard.map((r, i) => r.rps / runs[other][i].rps)) : undefined
  comparisons.pairedRpsVsFastify = paired("fastify")
  comparisons.pairedRpsVsReference = paired("reference")
  if (sy && ref) {
    comparisons.rpsVsReference = sy.rps / ref.rps
    comparisons.p99VsReference = sy.p99 / ref.p99
    targets.reference = { goal: ">= 0.75x reference req/s", pass: comparisons.rpsVsReference >= 0.75 && sy.non2xx === 0 && sy.errors === 0 }
  }

  const rows = [["target", "req/s", "p50 ms", "p99 ms", "non2xx", "errors", "RSS MiB"]]
  for (const [name, m] of Object.entries(medians)) {
    rows.push([name, fmt(m.rps, 0), fmt(m.p50, 3), fmt(m.p99, 3), m.non2xx, m.errors, fmt(m.rssAfterMiB, 1)])
  }
  console.log(`\n== throughput: ${tool}, ${opts.connections} connections, ${opts.duration}s x ${opts.rounds} rounds, median per target ==`)
  console.log(`   GET http://127.0.0.1:PORT${LOAD_PATH}  Host: ${LOAD_HOST}  (64-byte JSON response)`)
  console.log(pad(rows))
  if (sy && fa) {
    console.log(`switchyard/fastify   req/s ${fmt(comparisons.rpsVsFastify, 3)}x   p99 ${fmt(sy.p99, 3)} vs ${fmt(fa.p99, 3)} ms (${fmt(comparisons.p99VsFastify, 3)}x)`)
  }
  if (sy && ref) {
    console.log(`switchyard/reference req/s ${fmt(comparisons.rpsVsReference, 3)}x   p99 ${fmt(sy.p99, 3)} vs ${fmt(ref.p99, 3)} ms (${fmt(comparisons.p99VsReference, 3)}x)`)
  }
  if (comparisons.pairedRpsVsFastify !== undefined || comparisons.pairedRpsVsReference !== undefined) {
    const perRound = (other) => runs.switchyard.map((r, i) => fmt(r.rps / runs[other][i].rps, 2)).join(" / ")
    console.log(`paired per round (median): switchyard/fastify ${fmt(comparisons.pairedRpsVsFastify, 3)}x (${runs.fastify ? perRound("fastify") : "-"}), ` +
      `switchyard/reference ${fmt(comparisons.pairedRpsVsReference, 3)}x (${runs.reference ? perRound("reference") : "-"})`)
  }
  for (const t of Object.values(targets)) console.log(`target ${t.goal.padEnd(42)} ${t.pass ? "PASS" : "MISS"}`)
  if (!sy) console.log("switchyard: not measured (not runnable)")
  return { runs, medians, comparisons, targets, checks }
}

const stream = async (backend) => {
  const out = {}
  for (const name of opts.streamTargets) {
    if (!starters[name]) throw new Error(`unknown stream target ${name}`)
    // A fresh process, so VmHWM reflects only start-up plus the streams.
    const t = await startTarget(name, backend)
    if (!t) continue
    log(`stream ${name}: ${fmt(opts.streamBytes / MiB, 0)} MiB up, then down`)
    underTest(t.pid)
    const r = await streamScenario(t, { bytes: opts.streamBytes })
    await stop(t.child)
    const peak = Math.max(r.vmHwmMiB ?? 0, r.peakRssSampledMiB ?? 0)
    out[name] = { ...r, peakRssMiB: peak }
    if (name === "switchyard") {
      out[name].target = { goal: "peak RSS < 100 MiB, byte counts verified", pass: peak < 100 && r.upload.ok && r.download.ok }
    }
  }
  const rows = [["target", "up MiB/s", "up ok", "down MiB/s", "down ok", "RSS before", "peak RSS (sampled)", "VmHWM MiB"]]
  for (const [name, r] of Object.entries(out)) {
    rows.push([
      name,
      fmt(r.upload.mibPerSecond, 0),
      r.upload.ok ? "yes" : `NO ${r.upload.error ?? `${r.upload.received}/${r.upload.sent} status ${r.upload.status}`}`,
      fmt(r.download.mibPerSecond, 0),
      r.download.ok ? "yes" : `NO ${r.download.error ?? `${r.download.received}/${r.download.expected} status ${r.download.status}`}`,
      fmt(r.rssBeforeMiB, 1),
      fmt(r.peakRssSampledMiB, 1),
      fmt(r.vmHwmMiB, 1)
    ])
  }
  console.log(`\n== stream: ${fmt(opts.streamBytes / MiB, 0)} MiB up (generated POST body) and down (generated by the backend) ==`)
  console.log(pad(rows))
  if (out.switchyard) console.log(`target ${out.switchyard.target.goal.padEnd(42)} ${out.switchyard.target.pass ? "PASS" : "MISS"}`)
  else console.log("switchyard: not measured (not runnable)")
  return out
}

const instructions = async (backend) => {
  const targets = opts.targets.filter((name) => starters[name])
  const out = await instructionsScenario({
    targets,
    start: (name, options) => starters[name](backend, options),
    warmup: opts.instructionsWarmup,
    requests: opts.instructionsRequests,
    connections: 10,
    log
  })
  const rows = [["target", "k instructions / request", "failed requests"]]
  for (const [name, r] of Object.entries(out)) rows.push([name, fmt(r.perRequest / 1000, 1), r.failed])
  console.log(`\n== instructions: callgrind, ${opts.instructionsRequests} requests after ${opts.instructionsWarmup} warm-up requests, 10 connections ==`)
  console.log(pad(rows))
  const sy = out.switchyard
  const comparisons = {}
  const targetsOut = {}
  // inverted, so that it reads like a req/s ratio: 0.8x = Switchyard does 1/0.8 times the other's work
  for (const other of ["reference", "fastify"]) {
    if (!sy || !out[other]) continue
    comparisons[other] = out[other].perRequest / sy.perRequest
    console.log(`switchyard/${other.padEnd(9)} work ratio ${fmt(comparisons[other], 3)}x (the other's instructions per request / Switchyard's)`)
  }
  if (comparisons.reference) {
    targetsOut.reference = { goal: ">= 0.75x the reference's work per request", pass: comparisons.reference >= 0.75 && sy.failed === 0 }
  }
  if (comparisons.fastify) {
    targetsOut.fastify = { goal: ">= 1.0x fastify's work per request", pass: comparisons.fastify >= 1.0 && sy.failed === 0 }
  }
  for (const t of Object.values(targetsOut)) console.log(`target ${t.goal.padEnd(42)} ${t.pass ? "PASS" : "MISS"}`)
  return { perTarget: out, comparisons, targets: targetsOut }
}

// propagation and reload share one etcd + Switchyard (routes and pools in etcd), started on first use.
let dynamic
const dynamicSetup = async (backend) => {
  if (dynamic !== undefined) return dynamic.running
  try {
    const running = await startDynamic(backend)
    underTest(running.switchyard.pid)
    log(`etcd ${running.etcd.endpoint} (pid ${running.etcd.pid}); switchyard on ${running.switchyard.port} (admin ${running.switchyard.adminPort}) following it`)
    dynamic = { running }
  } catch (error) {
    const reason = error.message.split("\n").slice(0, 30).join("\n")
    log(`etcd + switchyard not runnable: ${reason}`)
    results.unavailable.dynamic = reason
    dynamic = { running: undefined }
  }
  return dynamic.running
}

const propagation = async (backend) => {
  const dyn = await dynamicSetup(backend)
  if (!dyn) {
    console.log("\n== propagation: not measured (etcd + switchyard not runnable) ==")
    return undefined
  }
  log(`propagation: ${opts.propagationChanges} route changes in etcd (+5 warm-up)`)
  const r = await propagationScenario(dyn, { changes: opts.propagationChanges })
  console.log(`\n== propagation: etcd put of /switchyard/routes/probe -> first proxied response from the new pool, ${r.changes} changes ==`)
  console.log(`   ${r.method}; then sequential keep-alive GETs, no sleep`)
  const rows = [["", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"]]
  const row = (name, st) => [name, fmt(st?.p50), fmt(st?.p90), fmt(st?.p99), fmt(st?.max), fmt(st?.mean)]
  rows.push(row("put -> seen", r.ms))
  rows.push(row("put call", r.putMs))
  rows.push(row("put -> applied event", r.appliedMs))
  console.log(pad(rows))
  console.log(`polls per change: p50 ${r.pollsPerChange.p50}, max ${r.pollsPerChange.max}; timeouts ${r.problems.timeouts}; ` +
    `non-200 while polling ${JSON.stringify(r.problems.non200)}; request errors ${r.problems.requestErrors}; flaps ${r.problems.flaps}`)
  console.log(`slowest: ${r.slowest.map((s) => `#${s.change} ${fmt(s.ms)} ms (put ${fmt(s.putMs)}, applied ${fmt(s.appliedMs, 0)})`).join("; ")}`)
  console.log(`target ${r.target.goal.padEnd(42)} ${r.target.pass ? "PASS" : "MISS"}`)
  return r
}

const reload = async (backend) => {
  const dyn = await dynamicSetup(backend)
  if (!dyn) {
    console.log("\n== reload: not measured (etcd + switchyard not runnable) ==")
    return undefined
  }
  log(`reload: ${opts.reloadRounds} round(s) of ${opts.duration}s with ${opts.reloads} route rewrites, ${opts.duration}s without, ` +
    `${opts.duration}s with the same writes outside the prefix`)
  const r = await reloadScenario(dyn, {
    tool,
    duration: opts.duration,
    connections: opts.connections,
    rounds: opts.reloadRounds,
    warmup: opts.warmup,
    reloads: opts.reloads
  })
  console.log(`\n== reload: ${tool}, ${opts.connections} connections, ${opts.duration}s x ${opts.reloadRounds} rounds, GET ${"/api/items"} Host: reload.bench.test ==`)
  console.log(`   ${opts.reloads} writes per reload run: ${r.method}`)
  const rows = [["run", "req/s", "p50 ms", "p99 ms", "non2xx", "errors", "versions applied"]]
  rows.push(["with reloads", fmt(r.withReloads.rps, 0), fmt(r.withReloads.p50, 3), fmt(r.withReloads.p99, 3), r.withReloads.non2xx, r.withReloads.errors, r.withReloads.versionsApplied.join(" / ")])
  rows.push(["without", fmt(r.without.rps, 0), fmt(r.without.p50, 3), fmt(r.without.p99, 3), r.without.non2xx, r.without.errors, r.without.versionsApplied.join(" / ")])
  rows.push(["writes elsewhere", fmt(r.control.rps, 0), fmt(r.control.p50, 3), fmt(r.control.p99, 3), r.control.non2xx, r.control.errors, r.control.versionsApplied.join(" / ")])
  console.log(pad(rows))
  console.log(`with/without req/s ${fmt(r.ratio, 3)}x; with reloads / with writes elsewhere ${fmt(r.controlRatio, 3)}x; ` +
    `failed requests during reloads ${r.failed}; ${r.writes} writes -> ${r.versionsApplied} versions applied`)
  console.log(`paired per round (median): with/without ${fmt(r.paired.vsQuiet, 3)}x, with reloads / with writes elsewhere ${fmt(r.paired.vsElsewhere, 3)}x`)
  if (r.idleReloadCost) {
    console.log(`cost of a reload with no traffic: ~${fmt(r.idleReloadCost.cpuMsPerVersion, 1)} ms Switchyard CPU per applied version ` +
      `(${r.idleReloadCost.writes} writes -> ${r.idleReloadCost.versions} versions)`)
  }
  for (const t of Object.values(r.targets)) console.log(`target ${t.goal.padEnd(42)} ${t.pass ? "PASS" : "MISS"}`)
  return r
}

pinHarness()
log(`tool ${tool}; duration ${opts.duration}s; rounds ${opts.rounds}; warm-up ${opts.warmup}s; scenarios ${opts.scenarios.join(",")}`)
log(describePlacement())
const needsSwitchyard = opts.targets.includes("switchyard") || opts.streamTargets.includes("switchyard") ||
  opts.scenarios.includes("propagation") || opts.scenarios.includes("reload")
results.switchyardBuild = needsSwitchyard ? SWITCHYARD_CLI : undefined
const backend = await startBackend()
log(`backend on ports ${backend.ports.join(", ")} (pid ${backend.pid})`)
let failed
try {
  if (opts.scenarios.includes("throughput")) results.throughput = await throughput(backend)
  if (opts.scenarios.includes("stream")) results.stream = await stream(backend)
  if (opts.scenarios.includes("propagation")) results.propagation = await propagation(backend)
  if (opts.scenarios.includes("reload")) results.reload = await reload(backend)
  if (opts.scenarios.includes("instructions")) results.instructions = await instructions(backend)
} catch (error) {
  failed = error
  results.error = error.message
  console.error(`[bench] error: ${error.message}`)
} finally {
  if (dynamic?.running) {
    const summary = dynamic.running.summary()
    results.dynamic = { etcd: dynamic.running.etcd.binary, switchyard: summary }
    if (summary.logWarn || summary.logError || summary.eventsByType["config.rejected"] || summary.eventsByType["source.error"]) {
      log(`warning: switchyard (etcd-backed) logged ${summary.logWarn} warn / ${summary.logError} error lines; events ${JSON.stringify(summary.eventsByType)}`)
      for (const line of summary.logSamples.slice(0, 5)) log(`  ${line}`)
    }
    await dynamic.running.stop()
  }
  await stop(backend.child)
}
mkdirSync(path.dirname(opts.out), { recursive: true })
writeFileSync(opts.out, JSON.stringify(results, null, 2) + "\n")
log(`results written to ${opts.out}`)
process.exit(failed ? 1 : 0)
