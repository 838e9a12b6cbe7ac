/**
 * Composition root: the only file in `src/` that imports `adapters/`. It wires the ports to undici,
 * prom-client and pino, and exposes the programmatic API (`Switchyard.layer`, `Switchyard.start`).
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as PinoLogger from "../adapters/pino/PinoLogger.js"
import * as PromMetrics from "../adapters/prometheus/PromMetrics.js"
import * as UndiciUpstream from "../adapters/undici/UndiciUpstream.js"
import type { ConfigError } from "./config/ConfigError.js"
import * as Load from "./config/Load.js"
import type { SwitchyardConfig } from "./config/Schema.js"
import type { ListenError } from "./server/HttpListener.js"
import * as Core from "./Switchyard.js"

/** A running proxy, as a service. */
export class Proxy extends Context.Tag("switchyard/Switchyard")<Proxy, Core.Instance>() {}

/** The adapters for one config: undici upstreams, Prometheus metrics, pino logs. */
export const adapters = (config: SwitchyardConfig) =>
  Layer.mergeAll(
    UndiciUpstream.layer,
    PromMetrics.layer({ defaultMetrics: config.observability.metrics.enabled }),
    PinoLogger.layer(config.observability.logs)
  )

/** Decodes a config document value (the shape of a YAML/JSON file) or passes a decoded one through. */
const decodeInput = (input: unknown, origin: string) => Load.decode(input, origin)

/**
 * The proxy as a scoped `Layer`: listening once built, drained and closed when its scope closes.
 *
 * @example
 * import { Effect, Layer } from "effect"
 * import { Switchyard } from "switchyard"
 * const program = Effect.gen(function*() {
 *   const proxy = yield* Switchyard.Proxy
 *   console.log(proxy.listeners().web?.url)
 * })
 * Effect.runPromise(Effect.scoped(Layer.build(Switchyard.layer(doc)).pipe(Effect.flatMap((ctx) => Effect.provide(program, ctx)))))
 */
export const layer = (input: unknown, origin = "<inline config>"): Layer.Layer<Proxy, ConfigError | ListenError> =>
  Layer.unwrapEffect(
    Effect.map(decodeInput(input, origin), (config) =>
      Layer.scoped(Proxy, Core.make(config)).pipe(Layer.provide(adapters(config))))
  )

/** A running proxy started from a promise-based API (for embedding in test suites). */
export interface Handle {
  /** URL of the first listener, e.g. `http://127.0.0.1:54321`. */
  readonly url: string
  /** Every listener's address by name. */
  readonly listeners: Readonly<Record<string, Core.ListenerAddress>>
  /** The admin API's URL, when enabled. */
  readonly adminUrl: string | undefined
  /** Applies a new config document (validated; the old one keeps serving when it is invalid). */
  readonly reload: (input: unknown) => Promise<number>
  /** Drains (up to `shutdownTimeout`) and stops. */
  readonly close: () => Promise<void>
}

/**
 * Starts a proxy from a config document value and resolves once it listens.
 * Rejects with a `ConfigError` (every problem listed) or a `ListenError`.
 *
 * @example
 * import { Switchyard } from "switchyard"
 * const proxy = await Switchyard.start({
 *   listeners: { web: { address: "127.0.0.1:0" } },
 *   routes: { all: { backends: [{ pool: "app" }] } },
 *   pools: { app: { servers: [{ url: "http://127.0.0.1:3000" }] } },
 *   admin: { address: null }
 * })
 * await fetch(proxy.url)
 * await proxy.close()
 */
export const start = async (input: unknown, origin = "<inline config>"): Promise<Handle> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const context = await Effect.runPromise(Layer.buildWithScope(layer(input, origin), scope))
    const instance = Context.get(context, Proxy)
    const listeners = instance.listeners()
    const first = Object.values(listeners)[0]
    return {
      url: first?.url ?? "",
      listeners,
      adminUrl: instance.admin?.url,
      reload: (next) => Effect.runPromise(Effect.flatMap(Load.decode(next, origin), instance.apply)),
      close: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}
