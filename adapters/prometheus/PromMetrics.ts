/**
 * The `Metrics` port on prom-client (CONTRACT §6), with its own registry so that several proxies in one
 * process (tests, embedding) do not share series. Label sets are bounded: route, pool and server names
 * from the config, a fixed method list, status codes.
 *
 * The per-request series are `internal/series.ts` families (plain number writes, rendered by prom-client
 * at scrape time); the cold ones (reloads, version) and the default process metrics are prom-client's.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Prom from "prom-client"
import { Metrics, type Gauge as GaugePort, type RequestRecorder } from "../../src/observability/Metrics.js"
import * as Series from "./internal/series.js"

/** The `method` label: the standard methods, anything else as `OTHER` (bounded label values). */
const METHOD_LABELS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "OTHER"] as const
const METHOD_INDEX = new Map<string, number>(METHOD_LABELS.map((m, i) => [m, i]))
const OTHER_INDEX = METHOD_LABELS.length - 1
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const OUTCOMES = ["success", "connect_error", "reset", "timeout", "status_5xx"] as const

export const make = (options: { readonly defaultMetrics: boolean } = { defaultMetrics: true }) => {
  const registry = new Prom.Registry()
  if (options.defaultMetrics) Prom.collectDefaultMetrics({ register: registry })
  const requests = Series.register(registry, new Series.Counter(
    "switchyard_requests_total",
    "Requests handled, by listener, route, pool, method and status code.",
    ["listener", "route", "pool", "method", "code"]
  ))
  const duration = Series.register(registry, new Series.Histogram(
    "switchyard_request_duration_seconds",
    "Time from the request's arrival to the end of its response, as the client observes it.",
    ["listener", "route", "pool"],
    DURATION_BUCKETS
  ))
  const upstreamDuration = Series.register(registry, new Series.Histogram(
    "switchyard_upstream_request_duration_seconds",
    "Time to the response head of each upstream attempt.",
    ["pool", "server"],
    DURATION_BUCKETS
  ))
  const attempts = Series.register(registry, new Series.Counter(
    "switchyard_upstream_attempts_total",
    "Upstream attempts by outcome (success, connect_error, reset, timeout, status_5xx).",
    ["pool", "server", "outcome"]
  ))
  const openConnections = Series.register(registry, new Series.Gauge(
    "switchyard_open_connections",
    "Client connections open, by listener.",
    ["listener"]
  ))
  const inFlight = Series.register(registry, new Series.Gauge(
    "switchyard_requests_in_flight",
    "Requests being handled, by listener.",
    ["listener"]
  ))
  const backendUp = Series.register(registry, new Series.Gauge(
    "switchyard_backend_up",
    "1 when a server is healthy and not ejected.",
    ["pool", "server"]
  ))
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
  const circuitState = new Prom.Gauge({
    name: "switchyard_circuit_state",
    help: "Circuit state of each pool: 0 closed, 1 open, 2 half-open.",
    labelNames: ["pool"] as const,
    registers: [registry]
  })
  // Families of the contract whose features (retries, rate limiting) no config can turn on yet: present
  // with no series, so dashboards and alerts can be written against them now.
  new Prom.Counter({
    name: "switchyard_retries_total",
    help: "Upstream retries, by route.",
    labelNames: ["route"] as const,
    registers: [registry]
  })
  new Prom.Counter({
    name: "switchyard_ratelimited_total",
    help: "Requests refused by a rate-limit middleware, by middleware.",
    labelNames: ["middleware"] as const,
    registers: [registry]
  })
  reloads.labels("applied").inc(0)
  reloads.labels("rejected").inc(0)

  const gauge = (family: Series.Gauge, listener: string): GaugePort => {
    const series = family.labels(listener)
    return { inc: () => void series.value++, dec: () => void series.value-- }
  }

  return Metrics.of({
    requests: (listener, route): RequestRecorder => {
      // series bound once per (pool, method, code), found again by a numeric key: no label work and no
      // string building per request
      const counters = new Map<string, Map<number, { value: number }>>()
      const histograms = new Map<string, { readonly observe: (value: number) => void }>()
      return {
        record: (pool, method, status, seconds) => {
          const m = METHOD_INDEX.get(method) ?? OTHER_INDEX
          let byCode = counters.get(pool)
          if (byCode === undefined) counters.set(pool, byCode = new Map())
          const key = m * 1000 + status
          let counter = byCode.get(key)
          if (counter === undefined) {
            counter = requests.labels(listener, route, pool, METHOD_LABELS[m]!, String(status))
            byCode.set(key, counter)
          }
          counter.value++
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
      const hist = upstreamDuration.labels(pool, server)
      const outcomes = {
        success: attempts.labels(pool, server, "success"),
        connect_error: attempts.labels(pool, server, "connect_error"),
        reset: attempts.labels(pool, server, "reset"),
        timeout: attempts.labels(pool, server, "timeout"),
        status_5xx: attempts.labels(pool, server, "status_5xx")
      } satisfies Record<(typeof OUTCOMES)[number], { value: number }>
      return {
        record: (outcome, seconds) => {
          outcomes[outcome].value++
          hist.observe(seconds)
        }
      }
    },
    openConnections: (listener) => gauge(openConnections, listener),
    inFlight: (listener) => gauge(inFlight, listener),
    configReload: (result) => reloads.labels(result).inc(),
    configVersion: (v) => version.set(v),
    backendUp: (pool, server, up) => {
      backendUp.labels(pool, server).value = up ? 1 : 0
    },
    circuitState: (pool, state) => circuitState.labels(pool).set(state),
    forgetPool: (pool) => {
      for (const family of [upstreamDuration, attempts, backendUp]) family.remove({ pool })
      circuitState.remove(pool)
    },
    render: Effect.promise(() => registry.metrics()).pipe(
      Effect.map((body) => ({ contentType: registry.contentType, body }))
    )
  })
}

export const layer = (options?: { readonly defaultMetrics: boolean }) => Layer.sync(Metrics, () => make(options))
