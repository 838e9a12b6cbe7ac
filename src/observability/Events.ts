/**
 * Typed events of the proxy (`GET /events` streams them): config changes now, backend and circuit events
 * as those features land. Published on one `PubSub`; subscribers that fall behind lose the oldest events
 * rather than slowing the publisher.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type { ConfigProblem } from "../config/ConfigError.js"

export type Event =
  | { readonly type: "config.applied"; readonly time: string; readonly version: number; readonly sources: ReadonlyArray<string> }
  | { readonly type: "config.rejected"; readonly time: string; readonly sources: ReadonlyArray<string>; readonly errors: ReadonlyArray<ConfigProblem> }
  | { readonly type: "source.error"; readonly time: string; readonly source: string; readonly message: string }

export class Events extends Context.Tag("switchyard/Events")<Events, PubSub.PubSub<Event>>() {
  static readonly layer = Layer.scoped(
    Events,
    Effect.acquireRelease(PubSub.sliding<Event>(1024), PubSub.shutdown)
  )
}

export const now = () => new Date().toISOString()
