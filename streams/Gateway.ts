/**
 * The whole running proxy: the data plane (`src/Switchyard.ts`), fed by the config plane
 * (`ConfigWatcher`, merging every source), and the admin API with the config plane's write endpoints.
 * Written against ports; `src/Main.ts` chooses the sources' adapters.
 */
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Scope from "effect/Scope"
import * as AdminApi from "../src/admin/AdminApi.js"
import type * as Load from "../src/config/Load.js"
import type { SwitchyardConfig } from "../src/config/Schema.js"
import type { AccessLog } from "../src/observability/AccessLog.js"
import type { Events } from "../src/observability/Events.js"
import type { Metrics } from "../src/observability/Metrics.js"
import type { Upstream } from "../src/proxy/Upstream.js"
import type { ListenError } from "../src/server/HttpListener.js"
import * as Core from "../src/Switchyard.js"
import * as AdminConfigRoutes from "./AdminConfigRoutes.js"
import type { ConfigSource } from "./ConfigSource.js"
import * as ConfigWatcher from "./ConfigWatcher.js"

export interface Gateway {
  readonly core: Core.Instance
  readonly plane: ConfigWatcher.ConfigPlane
  readonly admin: Core.ListenerAddress | undefined
}

/**
 * Starts listeners and admin from `initial` (the validated base document), then follows `sources`.
 * Requests get 503 `not_ready` until every source has delivered and the merged config is valid.
 */
export const make = (
  initial: SwitchyardConfig,
  sources: ReadonlyArray<ConfigSource>,
  env: Load.Env
): Effect.Effect<Gateway, ListenError, Upstream | Metrics | AccessLog | Events | Scope.Scope> =>
  Effect.gen(function*() {
    // The admin API is the last thing to close: while the listeners drain, /healthz still answers and
    // /readyz says 503 (what a load balancer's health check needs to take the instance out).
    const adminScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const core = yield* Core.make(initial)
    const plane = yield* ConfigWatcher.make({ sources, env, apply: core.apply })
    let admin: Core.ListenerAddress | undefined
    if (initial.admin.address !== null) {
      const routes = yield* AdminConfigRoutes.make(plane)
      const bound = yield* AdminApi.bind(initial.admin.address, {
        active: core.active,
        ready: core.ready,
        token: initial.admin.token,
        metricsEnabled: initial.observability.metrics.enabled,
        routes
      }).pipe(Scope.extend(adminScope))
      admin = { host: bound.host, port: bound.port, url: Core.urlOf(bound.host, bound.port) }
    }
    yield* Effect.logInfo("switchyard started").pipe(
      Effect.annotateLogs({
        listeners: Object.fromEntries(Object.entries(core.listeners()).map(([n, a]) => [n, a.url])),
        admin: admin?.url ?? null,
        sources: sources.map((s) => s.name)
      })
    )
    return { core, plane, admin }
  })
