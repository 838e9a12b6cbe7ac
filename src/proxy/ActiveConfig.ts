/**
 * The compiled configuration the request path reads. Applying a config swaps one immutable value
 * (Pingora's ArcSwap): a request reads it once when it starts and keeps it, so requests in flight finish
 * on the config they started with.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { SwitchyardConfig } from "../config/Schema.js"
import type { Handler } from "../middleware/Middleware.js"
import type { RequestRecorder } from "../observability/Metrics.js"
import type { Pool } from "../pool/Pool.js"
import type { RouteTable } from "../router/Router.js"

/** A route ready for the request path: its middleware chain and forwarder composed once. */
export interface CompiledRoute {
  readonly name: string
  readonly handler: Handler
  readonly stripPrefix: boolean
  readonly recorder: RequestRecorder
}

export interface CompiledConfig {
  /** Increases by one with every applied config. */
  readonly version: number
  /** The decoded, effective config (dynamic layers merged). */
  readonly config: SwitchyardConfig
  /** One route table per listener name. */
  readonly tables: ReadonlyMap<string, RouteTable<CompiledRoute>>
  readonly pools: ReadonlyMap<string, Pool>
}

export interface ActiveConfigState {
  /** `undefined` until a first valid config is applied: the proxy is then not ready. */
  current: CompiledConfig | undefined
}

export class ActiveConfig extends Context.Tag("switchyard/ActiveConfig")<ActiveConfig, ActiveConfigState>() {
  static readonly layer = Layer.effect(ActiveConfig, Effect.sync((): ActiveConfigState => ({ current: undefined })))
}
