/**
 * Micro-benchmark of `LoadBalancer.pick` per algorithm, for pools of 3 and 50 servers.
 * Run: npx vite-node bench/micro/loadBalancer.bench.ts
 */
import * as LoadBalancer from "../../src/pool/LoadBalancer.js"
import * as SmoothWeighted from "../../src/pool/SmoothWeighted.js"

interface Server {
  readonly key: string
  readonly weight: number
  activeRequests: number
  available: boolean
}

const WARMUP = 200_000
const ITERATIONS = 2_000_000
const ROUNDS = 5

const servers = (count: number, weighted: boolean): Array<Server> =>
  Array.from({ length: count }, (_, i) => ({
    key: `10.0.${i >> 8}.${i & 255}:8080`,
    weight: weighted ? 1 + (i % 4) : 1,
    activeRequests: (i * 7) % 11,
    available: i % 10 !== 9
  }))

const contexts: Array<LoadBalancer.PickContext> = Array.from({ length: 1024 }, (_, i) => ({
  clientAddress: `192.168.${i >> 8}.${i & 255}`,
  path: `/api/items/${i}`,
  headers: { "x-user": `user-${i}`, cookie: `theme=dark; session=s${i}; lang=en` },
  query: `page=2&user=u${i}`
}))

let sink = 0

const measure = (run: (i: number) => unknown): number => {
  for (let i = 0; i < WARMUP; i++) if (run(i) === undefined) sink++
  let best = Infinity
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now()
    for (let i = 0; i < ITERATIONS; i++) if (run(i) === undefined) sink++
    best = Math.min(best, ((performance.now() - start) * 1e6) / ITERATIONS)
  }
  return best
}

const cases: ReadonlyArray<readonly [string, LoadBalancer.Algorithm, string, boolean]> = [
  ["round-robin", "round-robin", "", false],
  ["weighted-round-robin", "weighted-round-robin", "", true],
  ["least-connections", "least-connections", "", true],
  ["power-of-two", "power-of-two", "", false],
  ["random (uniform)", "random", "", false],
  ["random (weighted)", "random", "", true],
  ["consistent-hash client-ip", "consistent-hash", "client-ip", false],
  ["consistent-hash path", "consistent-hash", "path", false],
  ["consistent-hash header", "consistent-hash", "header:X-User", false],
  ["consistent-hash cookie", "consistent-hash", "cookie:session", false],
  ["consistent-hash query", "consistent-hash", "query:user", false]
]

const rows: Array<Record<string, string>> = []
for (const [name, algorithm, hashOn, weighted] of cases) {
  const row: Record<string, string> = { algorithm: name }
  for (const count of [3, 50]) {
    const balancer = LoadBalancer.make(algorithm, hashOn, servers(count, weighted))
    row[`${count} servers (ns/op)`] = measure((i) => balancer.pick(contexts[i & 1023]!)).toFixed(1)
  }
  rows.push(row)
}
{
  const row: Record<string, string> = { algorithm: "SmoothWeighted.next (routes)" }
  for (const count of [3, 50]) {
    const rotation = SmoothWeighted.make(servers(count, true).map((value) => ({ value, weight: value.weight })))
    const available = (server: Server) => server.available
    row[`${count} servers (ns/op)`] = measure(() => rotation.next(available)).toFixed(1)
  }
  rows.push(row)
}
console.table(rows)
if (sink < 0) console.log(sink)
