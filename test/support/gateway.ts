/** Runs the whole proxy (data plane + config plane + admin) in-process on chosen sources. */
import { Context, Effect, Layer, type PubSub, type Scope } from "effect"
import { type Event, Events } from "../../src/observability/Events.js"
import * as Load from "../../src/config/Load.js"
import { adapters } from "../../src/Main.js"
import type { ConfigSource } from "../../streams/ConfigSource.js"
import * as Gateway from "../../streams/Gateway.js"
import { withTestDefaults } from "./proxy.js"

/** `base` is the file-like document (listeners, admin…); `sources` start with the base source. */
export const make = (
  base: Record<string, unknown>,
  sources: ReadonlyArray<ConfigSource>,
  env: Load.Env = {}
): Effect.Effect<Gateway.Gateway & { readonly events: PubSub.PubSub<Event> }, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* Load.decode(withTestDefaults(base), "<test>")
    const context = yield* Layer.build(adapters(config))
    const gateway = yield* Gateway.make(config, sources, env).pipe(Effect.provide(context))
    return { ...gateway, events: Context.get(context, Events) }
  })

/** Polls `check` until it holds (or fails after `ms`): for waiting on asynchronous reloads. */
export const eventually = <A>(check: Effect.Effect<A, unknown>, ms = 5000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    for (;;) {
      const result = yield* Effect.either(check)
      if (result._tag === "Right") return result.right
      if (Date.now() > deadline) return yield* Effect.fail(result.left)
      yield* Effect.sleep("25 millis")
    }
  })
