/**
 * The runtime request fibers run on. Measured on the request path (bench/README.md):
 *
 * - not the application's runtime: forking copies every FiberRef of the parent runtime (logger, services,
 *   annotations), about a third of the per-request cost; the request path needs none of them, since its
 *   services were resolved when the route was compiled;
 * - without Effect's `RuntimeMetrics` flag, which `Runtime.defaultRuntime` has on: it records four
 *   metrics (one a tagged histogram) for every fiber started and ended, which allocates and doubled the
 *   garbage collector's share of the request path;
 * - resuming on one shared scheduler (`RequestScheduler`) rather than Effect's per-fiber task runners.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"
import { requestScheduler } from "./RequestScheduler.js"

const runtime: Runtime.Runtime<never> = Runtime.make({
  context: Context.empty(),
  runtimeFlags: RuntimeFlags.make(RuntimeFlags.Interruption, RuntimeFlags.CooperativeYielding),
  fiberRefs: FiberRefs.empty()
})

const runFork = Runtime.runFork(runtime)
// the scheduler is a fork option, not a FiberRef of the runtime: an empty FiberRefs is the cheapest to fork
const options = { scheduler: requestScheduler }

/** Starts a request's fiber on the request runtime and scheduler. */
export const fork = <A, E>(effect: Effect.Effect<A, E>): Fiber.RuntimeFiber<A, E> => runFork(effect, options)
