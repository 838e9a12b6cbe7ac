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
import { Context, FiberRefs, Runtime, RuntimeFlags } from "effect"
import { requestScheduler } from "./RequestScheduler.js"

export const runtime: Runtime.Runtime<never> = Runtime.make({
  context: Context.empty(),
  runtimeFlags: RuntimeFlags.make(RuntimeFlags.Interruption, RuntimeFlags.CooperativeYielding),
  fiberRefs: FiberRefs.empty()
})

/** Given to `runFork` per request (a fork option, so the runtime's FiberRefs stay empty and cheap to fork). */
export const scheduler = requestScheduler
