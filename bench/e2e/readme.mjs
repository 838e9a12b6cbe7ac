// Renders bench/results/latest.json (or the file given) into bench/README.md: throughput and stream into
// the RESULTS block, propagation and reload into the RESULTS-DYNAMIC block. A block is only rewritten
// when the results hold one of its scenarios, so a run of some scenarios keeps the others' text.
//   node bench/e2e/readme.mjs [results.json]
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const bench = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const file = process.argv[2] ?? path.join(bench, "results/latest.json")
const r = JSON.parse(readFileSync(file, "utf8"))
const f = (n, d = 2) => (n === undefined || n === null ? "–" : Number(n).toFixed(d))
const o = r.options
const lines = []
const placed = o.placement && o.placement !== "none"
  ? `the proxy under test alone on CPU ${o.placement.proxy}, everything else on CPU ${o.placement.rest}`
  : "processes not placed on CPUs"
lines.push(`Measured ${r.date.slice(0, 10)} on ${r.machine.cpus} vCPU ${r.machine.cpuModel ?? ""}, Node ${r.machine.node}, ` +
  `${o.tool}, ${o.connections} connections, ${o.duration} s × ${o.rounds} rounds (medians); ${placed}.`)
lines.push("")
if (r.throughput) {
  const t = r.throughput
  lines.push("**throughput** — `GET /api/items`, `Host: api.bench.test`, 64-byte body")
  lines.push("")
  lines.push("| target | req/s | p50 ms | p99 ms | non-2xx / errors | RSS after MiB |")
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: |")
  for (const [name, m] of Object.entries(t.medians)) {
    lines.push(`| ${name} | ${f(m.rps, 0)} | ${f(m.p50)} | ${f(m.p99)} | ${m.non2xx} / ${m.errors} | ${f(m.rssAfterMiB, 0)} |`)
  }
  lines.push("")
  const c = t.comparisons
  if (c.rpsVsFastify !== undefined) {
    lines.push(`- Switchyard / fastify: **${f(c.rpsVsFastify)}×** req/s, p99 ${f(c.p99VsFastify)}× — ` +
      `target ≥ 1.0× with p99 no worse: **${t.targets.fastify.pass ? "PASS" : "MISS"}**`)
  }
  if (c.rpsVsReference !== undefined) {
    lines.push(`- Switchyard / reference: **${f(c.rpsVsReference)}×** req/s, p99 ${f(c.p99VsReference)}× — ` +
      `target ≥ 0.75×: **${t.targets.reference.pass ? "PASS" : "MISS"}**`)
  }
  const rounds = Object.entries(t.runs).map(([n, rs]) => `${n} ${rs.map((x) => f(x.rps, 0)).join(" / ")}`)
  lines.push(`- per-round req/s: ${rounds.join("; ")}`)
  lines.push("")
}
if (r.stream) {
  lines.push(`**stream** — ${f(o.streamBytes / 1024 ** 2, 0)} MiB up and ${f(o.streamBytes / 1024 ** 2, 0)} MiB down, fresh process each`)
  lines.push("")
  lines.push("| target | up MiB/s | down MiB/s | bytes verified | RSS before MiB | peak RSS (100 ms samples) MiB | VmHWM MiB |")
  lines.push("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
  for (const [name, s] of Object.entries(r.stream)) {
    lines.push(`| ${name} | ${f(s.upload.mibPerSecond, 0)} | ${f(s.download.mibPerSecond, 0)} | ` +
      `${s.upload.ok && s.download.ok ? "yes" : "NO"} | ${f(s.rssBeforeMiB, 1)} | ${f(s.peakRssSampledMiB, 1)} | ${f(s.vmHwmMiB, 1)} |`)
  }
  if (r.stream.switchyard) {
    lines.push("")
    lines.push(`- Switchyard peak RSS ${f(r.stream.switchyard.peakRssMiB, 1)} MiB — target < 100 MiB: ` +
      `**${r.stream.switchyard.target.pass ? "PASS" : "MISS"}**`)
  }
  lines.push("")
}
if (r.instructions) {
  const i = r.instructions
  lines.push(`**instructions** — callgrind, ${o.instructionsRequests} requests counted after ${o.instructionsWarmup} warm-up requests, ` +
    "10 keep-alive connections, one target at a time")
  lines.push("")
  lines.push("| target | k instructions per request |")
  lines.push("| --- | ---: |")
  for (const [name, x] of Object.entries(i.perTarget)) lines.push(`| ${name} | ${f(x.perRequest / 1000, 1)} |`)
  lines.push("")
  if (i.comparisons.reference !== undefined) {
    lines.push(`- work ratio (reference's instructions per request / Switchyard's): **${f(i.comparisons.reference, 3)}×** — ` +
      `target ≥ 0.75×: **${i.targets.reference.pass ? "PASS" : "MISS"}**`)
  }
  if (i.comparisons.fastify !== undefined) {
    lines.push(`- work ratio (fastify's / Switchyard's): **${f(i.comparisons.fastify, 3)}×** — ` +
      `target ≥ 1.0×: **${i.targets.fastify.pass ? "PASS" : "MISS"}**`)
  }
  lines.push("")
}
for (const [name, reason] of Object.entries(r.unavailable ?? {})) {
  if (name !== "dynamic") lines.push(`- ${name} was not runnable: ${reason.split("\n")[0]}`)
}

const dyn = []
if (r.propagation || r.reload || r.unavailable?.dynamic) {
  dyn.push(`Measured ${r.date.slice(0, 10)} on ${r.machine.cpus} vCPU ${r.machine.cpuModel ?? ""}, Node ${r.machine.node}, ` +
    `${r.dynamic?.etcd ?? "etcd"} (single member, loopback); ${placed}.`)
  dyn.push("")
}
if (r.unavailable?.dynamic) dyn.push(`- etcd + Switchyard were not runnable: ${r.unavailable.dynamic.split("\n")[0]}`, "")
if (r.propagation) {
  const p = r.propagation
  dyn.push(`**propagation** — ${p.changes} rewrites of \`/switchyard/routes/probe\` (pool \`probe-a\` ⇄ \`probe-b\`), ` +
    "etcd3 client put, then sequential keep-alive GETs until the new backend answers")
  dyn.push("")
  dyn.push("| ms | p50 | p90 | p99 | max | mean |")
  dyn.push("| --- | ---: | ---: | ---: | ---: | ---: |")
  const row = (name, st) => `| ${name} | ${f(st?.p50)} | ${f(st?.p90)} | ${f(st?.p99)} | ${f(st?.max)} | ${f(st?.mean)} |`
  dyn.push(row("put → first response from the new pool", p.ms))
  dyn.push(row("put call alone", p.putMs))
  dyn.push(row("put → Switchyard's `config.applied` event", p.appliedMs))
  dyn.push("")
  dyn.push(`- target p99 < 100 ms: **${p.target.pass ? "PASS" : "MISS"}** (p99 ${f(p.ms.p99)} ms); ` +
    `timeouts ${p.problems.timeouts}, non-200 while polling ${Object.values(p.problems.non200).reduce((a, b) => a + b, 0)}, ` +
    `request errors ${p.problems.requestErrors}, flaps back to the old pool ${p.problems.flaps}`)
  dyn.push("")
}
if (r.reload) {
  const q = r.reload
  dyn.push(`**reload** — \`GET /api/items\`, \`Host: reload.bench.test\`, ${o.tool}, ${o.connections} connections, ` +
    `${o.duration} s × ${q.rounds} round(s) (medians); ${q.reloadsPerRun} route rewrites spread over each reload run`)
  dyn.push("")
  dyn.push("| run | req/s | p50 ms | p99 ms | non-2xx / errors | versions applied |")
  dyn.push("| --- | ---: | ---: | ---: | ---: | ---: |")
  const rows = [["with reloads", q.withReloads], ["without", q.without]]
  if (q.control) rows.push(["with the same writes outside the prefix", q.control])
  for (const [name, m] of rows) {
    dyn.push(`| ${name} | ${f(m.rps, 0)} | ${f(m.p50)} | ${f(m.p99)} | ${m.non2xx} / ${m.errors} | ${m.versionsApplied.join(" / ")} |`)
  }
  dyn.push("")
  dyn.push(`- failed requests during reloads: ${q.failed} — target 0: **${q.targets.noFailures.pass ? "PASS" : "MISS"}**`)
  dyn.push(`- req/s with / without reloads: **${f(q.ratio)}×** — target ≥ 0.90×: **${q.targets.throughput.pass ? "PASS" : "MISS"}**` +
    (q.paired ? ` (paired per round: ${f(q.paired.vsQuiet)}×)` : ""))
  if (q.control) {
    dyn.push(`- req/s with reloads / with the same etcd writes outside the prefix (what the reloads cost Switchyard): ` +
      `**${f(q.controlRatio)}×** — ≥ 0.90×: **${q.targets.throughputControlled.pass ? "PASS" : "MISS"}**` +
      (q.paired ? ` (paired per round: ${f(q.paired.vsElsewhere)}×)` : ""))
  }
  dyn.push(`- ${q.writes} writes → ${q.versionsApplied} config versions applied (GET /config); ` +
    `/config served the last write after every run: ${q.runs.reload.every((x) => x.converged) ? "yes" : "NO"}`)
  if (q.idleReloadCost?.cpuMsPerVersion !== undefined) {
    dyn.push(`- one applied reload costs Switchyard ~${f(q.idleReloadCost.cpuMsPerVersion, 1)} ms of CPU (measured with no traffic)`)
  }
  dyn.push("")
}

const readme = path.join(bench, "README.md")
let text = readFileSync(readme, "utf8")
if (r.throughput || r.stream) {
  text = text.replace(/<!-- RESULTS:BEGIN -->[\s\S]*<!-- RESULTS:END -->/, `<!-- RESULTS:BEGIN -->\n${lines.join("\n").trim()}\n<!-- RESULTS:END -->`)
  console.log(lines.join("\n"))
}
if (dyn.length > 0) {
  text = text.replace(/<!-- RESULTS-DYNAMIC:BEGIN -->[\s\S]*<!-- RESULTS-DYNAMIC:END -->/, `<!-- RESULTS-DYNAMIC:BEGIN -->\n${dyn.join("\n").trim()}\n<!-- RESULTS-DYNAMIC:END -->`)
  console.log(dyn.join("\n"))
}
writeFileSync(readme, text)
