/** Builds a middleware from its decoded config; one entry per middleware `type` the proxy implements. */
import * as Effect from "effect/Effect"
import { ConfigError } from "../config/ConfigError.js"
import type { MiddlewareConfig } from "../config/Schema.js"
import * as Headers from "./Headers.js"
import type { Middleware } from "./Middleware.js"

export const make = (name: string, config: MiddlewareConfig): Effect.Effect<Middleware, ConfigError> => {
  switch (config.type) {
    case "headers":
      return Effect.succeed(Headers.make(config))
    default:
      return Effect.fail(
        new ConfigError({
          problems: [{ file: "", path: `middlewares.${name}.type`, message: `middleware type "${config.type}" is not supported yet` }]
        })
      )
  }
}
