/**
 * Turns a decoded config and its open pools into the `CompiledConfig` the request path reads: one route
 * table per listener, each route's middleware chain and forwarder composed once, metric series bound.
 */
import * as Effect from "effect/Effect"
import type { CompiledConfig, CompiledRoute } from "../proxy/ActiveConfig.js"
import * as Factory from "../middleware/Factory.js"
import { chain, type Middleware } from "../middleware/Middleware.js"
import { Metrics } from "../observability/Metrics.js"
import type { Pool } from "../pool/Pool.js"
import * as ProxyHandler from "../proxy/ProxyHandler.js"
import * as Router from "../router/Router.js"
import { ConfigError, type ConfigProblem } from "./ConfigError.js"
import type { SwitchyardConfig } from "./Schema.js"

export const compile = (
  config: SwitchyardConfig,
  pools: ReadonlyMap<string, Pool>,
  version: number
): Effect.Effect<CompiledConfig, ConfigError, Metrics> =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    const problems: Array<ConfigProblem> = []
    const middlewares = new Map<string, Middleware>()
    for (const [name, spec] of Object.entries(config.middlewares)) {
      const built = yield* Effect.either(Factory.make(name, spec))
      if (built._tag === "Left") problems.push(...built.left.problems)
      else middlewares.set(name, built.right)
    }
    if (problems.length > 0) return yield* new ConfigError({ problems })

    const perListener = new Map<string, Array<Router.RouteSpec<CompiledRoute>>>()
    for (const name of Object.keys(config.listeners)) perListener.set(name, [])
    for (const [name, route] of Object.entries(config.routes)) {
      const handler = chain(route.middlewares.map((m) => middlewares.get(m)!))(ProxyHandler.make(route, pools))
      for (const listener of route.listeners ?? Object.keys(config.listeners)) {
        perListener.get(listener)?.push({
          name,
          priority: route.priority,
          match: route.match,
          value: { name, handler, stripPrefix: route.stripPrefix, recorder: metrics.requests(listener, name) }
        })
      }
    }
    const tables = new Map<string, Router.RouteTable<CompiledRoute>>()
    for (const [listener, specs] of perListener) tables.set(listener, Router.compile(specs))
    return { version, config, tables, pools }
  })
