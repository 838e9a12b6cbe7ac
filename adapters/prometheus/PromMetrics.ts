/**
 * The `Metrics` port on prom-client (CONTRACT §6), with its own registry so that several proxies in one
 * process (tests, embedding) do not share series. Label sets are bounded: route, pool and server names
 * from the config, a fixed method list, status codes.
 */
import { Effect, Layer } from "effect"
import * as Prom from "prom-client"
import { Metrics, type Gauge as GaugePort, type RequestRecorder } from "../../src/observability/Metrics.js"

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"])
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export const make = (options: { readonly defaultMetrics: boolean } = { defaultMetrics: true }) => {
  const registry = new Prom.Registry()
  if (options.defaultMetrics) Prom.collectDefaultMetrics({ register: registry })
  const requests = new Prom.Counter({
    name: "switchyard_requests_total",
    help: "Requests handled, by listener, route, pool, method and status code.",
    labelNames: ["listener", "route", "pool", "method", "code"] as const,
    registers: [registry]
  })
  const duration = new Prom.Histogram({
    name: "switchyard_request_duration_seconds",
    help: "Time from the request's arrival to the end of its response, as the client observes it.",
    labelNames: ["listener", "route", "pool"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry]
  })
  const upstreamDuration = new Prom.Histogram({
    name: "switchyard_upstream_request_duration_seconds",
    help: "Time to the response head of each upstream attempt.",
    labelNames: ["pool", "server"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry]
  })
  const attempts = new Prom.Counter({
    name: "switchyard_upstream_attempts_total",
    help: "Upstream attempts by outcome (success, connect_error, reset, timeout, status_5xx).",
    labelNames: ["pool", "server", "outcome"] as const,
    registers: [registry]
  })
  const openConnections = new Prom.Gauge({
    name: "switchyard_open_connections",
    help: "Client connections open, by listener.",
    labelNames: ["listener"] as const,
    registers: [registry]
  })
  const inFlight = new Prom.Gauge({
    name: "switchyard_requests_in_flight",
    help: "Requests being handled, by listener.",
    labelNames: ["listener"] as const,
    registers: [registry]
  })
  const reloads = new Prom.Counter({
    name: "switchyard_config_reloads_total",
    help: "Configuration changes applied or rejected.",
    labelNames: ["result"] as const,
    registers: [registry]
  })
  const version = new Prom.Gauge({
    name: "switchyard_config_version",
    help: "Version of the configuration being served.",
    registers: [registry]
  })
  const backendUp = new Prom.Gauge({
    name: "switchyard_backend_up",
    help: "1 when a server is healthy and not ejected.",
    labelNames: ["pool", "server"] as const,
    registers: [registry]
  })
  reloads.labels("applied").inc(0)
  reloads.labels("rejected").inc(0)

  const gauge = (g: Prom.Gauge<"listener">, listener: string): GaugePort => {
    const child = g.labels(listener)
    child.inc(0)
    return { inc: () => child.inc(), dec: () => child.dec() }
  }

  // which servers each pool has series for, so that a retired pool's series can be removed exactly
  const poolServers = new Map<string, Set<string>>()
  const remember = (pool: string, server: string) => {
    let servers = poolServers.get(pool)
    if (servers === undefined) poolServers.set(pool, servers = new Set())
    servers.add(server)
  }

  const service = Metrics.of({
    requests: (listener, route): RequestRecorder => {
      // children cached per (pool, method, code): label lookups happen once per combination, not per request
      const counters = new Map<string, ReturnType<typeof requests.labels>>()
      const histograms = new Map<string, ReturnType<typeof duration.labels>>()
      return {
        record: (pool, method, status, seconds) => {
          const m = METHODS.has(method) ? method : "OTHER"
          const key = `${pool}\u0000${m}\u0000${status}`
          let counter = counters.get(key)
          if (counter === undefined) {
            counter = requests.labels(listener, route, pool, m, String(status))
            counters.set(key, counter)
          }
          counter.inc()
          let histogram = histograms.get(pool)
          if (histogram === undefined) {
            histogram = duration.labels(listener, route, pool)
            histograms.set(pool, histogram)
          }
          histogram.observe(seconds)
        }
      }
    },
    upstream: (pool, server) => {
      remember(pool, server)
      const hist = upstreamDuration.labels(pool, server)
      const outcomes = {
        success: attempts.labels(pool, server, "success"),
        connect_error: attempts.labels(pool, server, "connect_error"),
        reset: attempts.labels(pool, server, "reset"),
        timeout: attempts.labels(pool, server, "timeout"),
        status_5xx: attempts.labels(pool, server, "status_5xx")
      }
      return {
        record: (outcome, seconds) => {
          outcomes[outcome].inc()
          hist.observe(seconds)
        }
      }
    },
    openConnections: (listener) => gauge(openConnections, listener),
    inFlight: (listener) => gauge(inFlight, listener),
    configReload: (result) => reloads.labels(result).inc(),
    configVersion: (v) => version.set(v),
    backendUp: (pool, server, up) => {
      remember(pool, server)
      backendUp.labels(pool, server).set(up ? 1 : 0)
    },
    forgetPool: (pool) => {
      for (const server of poolServers.get(pool) ?? []) {
        upstreamDuration.remove(pool, server)
        backendUp.remove(pool, server)
        for (const outcome of ["success", "connect_error", "reset", "timeout", "status_5xx"]) attempts.remove(pool, server, outcome)
      }
      poolServers.delete(pool)
    },
    render: Effect.promise(() => registry.metrics()).pipe(
      Effect.map((body) => ({ contentType: registry.contentType, body }))
    )
  })
  return service
}

export const layer = (options?: { readonly defaultMetrics: boolean }) => Layer.sync(Metrics, () => make(options))
