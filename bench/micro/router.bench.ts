/**
 * Router lookup micro-benchmark: a 200-route table (exact hosts, wildcard hosts, prefix paths, a few
 * header/query conditions and one regex route), one `performance.now()` loop per scenario.
 * Run: npx vite-node bench/micro/router.bench.ts
 */
import * as Router from "../../src/router/Router.js"

const routes: Array<Router.RouteSpec<number>> = []
const add = (name: string, match: Router.MatchSpec, priority = 0) =>
  routes.push({ name, priority, match, value: routes.length })

// 40 exact hosts × 3 routes = 120
for (let h = 0; h < 40; h++) {
  const host = `svc${h}.example.com`
  add(`h${h}-api`, { hosts: [host], path: "/api/*", methods: ["GET", "POST"] })
  add(`h${h}-admin`, { hosts: [host], path: "/admin/*", headers: [{ name: "x-admin", present: true }] })
  add(`h${h}-root`, { hosts: [host], path: "/" })
}
// 20 wildcard suffixes × 3 routes = 60
for (let w = 0; w < 20; w++) {
  const host = `*.tenant${w}.example.net`
  add(`w${w}-api`, { hosts: [host], path: "/api/v1/*" })
  add(`w${w}-debug`, { hosts: [host], path: "/debug/*", query: [{ name: "debug", value: "1" }] })
  add(`w${w}-all`, { hosts: [host] })
}
// 19 host-less prefixes + 1 regex = 20
for (let p = 0; p < 19; p++) add(`p${p}`, { path: `/shared/section${p}/*` })
add("regex", { pathRegex: "^/v[0-9]+/users/[0-9]+" })

const table = Router.compile(routes)
if (table.size !== 200) throw new Error(`expected 200 routes, got ${table.size}`)

const input = (host: string, path: string, extra: Partial<Router.RouteInput> = {}): Router.RouteInput => ({
  host,
  path,
  method: "GET",
  headers: { "user-agent": "bench", accept: "*/*" },
  query: "",
  ...extra
})

const scenarios: ReadonlyArray<readonly [string, Router.RouteInput, string | undefined]> = [
  ["exact host, prefix hit", input("svc17.example.com", "/api/users/1"), "h17-api"],
  ["exact host, header condition", input("svc17.example.com", "/admin/x", { headers: { "x-admin": "1" } }), "h17-admin"],
  ["exact host → host-less prefix", input("svc17.example.com", "/shared/section18/x"), "p18"],
  ["wildcard host (depth 2), prefix hit", input("a.b.tenant7.example.net", "/api/v1/x"), "w7-api"],
  ["wildcard host, query condition", input("a.tenant7.example.net", "/debug/x", { query: "x=2&debug=1" }), "w7-debug"],
  ["unknown host → host-less prefix", input("unknown.example.org", "/shared/section3/a"), "p3"],
  ["unknown host → regex route", input("unknown.example.org", "/v2/users/42/profile"), "regex"],
  ["unknown host, no route (404)", input("unknown.example.org", "/nothing/here"), undefined]
]

let sink = 0
const run = (label: string, request: Router.RouteInput, expected: string | undefined) => {
  const check = table.match(request)?.name
  if (check !== expected) throw new Error(`${label}: expected ${expected}, got ${check}`)
  const iterations = 2_000_000
  for (let i = 0; i < 200_000; i++) sink += table.match(request)?.prefix.length ?? 1
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const start = performance.now()
    for (let i = 0; i < iterations; i++) sink += table.match(request)?.prefix.length ?? 1
    best = Math.min(best, ((performance.now() - start) * 1e6) / iterations)
  }
  console.log(`${label.padEnd(40)} ${best.toFixed(1).padStart(7)} ns/op`)
}

console.log(`router: ${table.size} routes (best of 5 × 2M lookups)`)
for (const [label, request, expected] of scenarios) run(label, request, expected)

const compileStart = performance.now()
for (let i = 0; i < 100; i++) sink += Router.compile(routes).size
console.log(`${"compile (200 routes)".padEnd(40)} ${(((performance.now() - compileStart) * 1e3) / 100).toFixed(1).padStart(7)} µs/op`)
if (sink === -1) console.log(sink)
