// Load generator fallback (its own process): autocannon, driven by a JSON argument, result over IPC.
import autocannon from "autocannon"

const opts = JSON.parse(process.argv[2])
process.on("disconnect", () => process.exit(0))
const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  duration: opts.duration,
  pipelining: 1,
  headers: opts.headers,
  timeout: 10
})
process.send({
  ready: true,
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  requests: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts
})
