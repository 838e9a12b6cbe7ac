// Renders bench/results/latest.json (or the file given) into the RESULTS block of bench/README.md:
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
lines.push(`Measured ${r.date.slice(0, 10)} on ${r.machine.cpus} vCPU ${r.machine.cpuModel ?? ""}, Node ${r.machine.node}, ` +
  `${o.tool}, ${o.connections} connections, ${o.duration} s × ${o.rounds} rounds (medians).`)
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
for (const [name, reason] of Object.entries(r.unavailable ?? {})) lines.push(`- ${name} was not runnable: ${reason.split("\n")[0]}`)
const readme = path.join(bench, "README.md")
const text = readFileSync(readme, "utf8")
const next = text.replace(/<!-- RESULTS:BEGIN -->[\s\S]*<!-- RESULTS:END -->/, `<!-- RESULTS:BEGIN -->\n${lines.join("\n").trim()}\n<!-- RESULTS:END -->`)
writeFileSync(readme, next)
console.log(lines.join("\n"))
