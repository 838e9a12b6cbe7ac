/**
 * The metrics port (CONTRACT §6). The Prometheus adapter (`adapters/prometheus`) implements it.
 * Series with fixed labels are bound when a config is applied, so the request path only increments.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"

/** Records one finished request for a route (bound to listener and route at compile time). */
export interface RequestRecorder {
  readonly record: (pool: string, method: string, status: number, seconds: number) => void
}

export interface Gauge {
  readonly inc: () => void
  readonly dec: () => void
}

export class Metrics extends Context.Tag("switchyard/Metrics")<Metrics, {
  /** `switchyard_requests_total` and `switchyard_request_duration_seconds` for one listener and route (`""` when none matched). */
  readonly requests: (listener: string, route: string) => RequestRecorder
  /** `switchyard_upstream_request_duration_seconds` and `switchyard_upstream_attempts_total` for one server. */
  readonly upstream: (pool: string, server: string) => {
    readonly record: (outcome: "success" | "connect_error" | "reset" | "timeout" | "status_5xx", seconds: number) => void
  }
  /** `switchyard_open_connections{listener}` */
  readonly openConnections: (listener: string) => Gauge
  /** `switchyard_requests_in_flight{listener}` */
  readonly inFlight: (listener: string) => Gauge
  /** `switchyard_config_reloads_total{result}` */
  readonly configReload: (result: "applied" | "rejected") => void
  /** `switchyard_config_version` */
  readonly configVersion: (version: number) => void
  /** `switchyard_backend_up{pool,server}` */
  readonly backendUp: (pool: string, server: string, up: boolean) => void
  /** `switchyard_circuit_state{pool}`: 0 closed, 1 open, 2 half-open. */
  readonly circuitState: (pool: string, state: 0 | 1 | 2) => void
  /** Removes the per-server series of a pool that is gone. */
  readonly forgetPool: (pool: string) => void
  /** The Prometheus text exposition. */
  readonly render: Effect.Effect<{ readonly contentType: string; readonly body: string }>
}>() {}

const noopGauge: Gauge = { inc: () => {}, dec: () => {} }
const noopRecorder: RequestRecorder = { record: () => {} }

/** `observability.metrics.enabled: false`: nothing is collected and `GET /metrics` answers 404. */
export const noop: Metrics["Type"] = {
  requests: () => noopRecorder,
  upstream: () => ({ record: () => {} }),
  openConnections: () => noopGauge,
  inFlight: () => noopGauge,
  configReload: () => {},
  configVersion: () => {},
  backendUp: () => {},
  circuitState: () => {},
  forgetPool: () => {},
  render: Effect.succeed({ contentType: "text/plain", body: "" })
}
