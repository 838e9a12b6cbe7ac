/**
 * The scheduler request fibers resume on: one shared task runner, drained in a microtask.
 *
 * Why not Effect's default (`Scheduler.defaultScheduler`, a `MixedScheduler`): since effect 3.20 it keeps a
 * separate task runner per fiber in a `WeakMap` keyed by the fiber. With a fiber per request that is one
 * runner object and one ephemeron entry per request, which cost young-generation GC time on the request
 * path (bench/README.md, "Where the time goes"). Request fibers need no per-fiber fairness beyond Effect's
 * cooperative yielding, which this keeps (`shouldYield` is Effect's own; yielded fibers go to the back).
 *
 * The runner is Effect's own `SchedulerRunner` (the one `MixedScheduler` keeps per fiber), with the same
 * drain policy: consecutive drains chain through microtasks up to `maxDrainsBeforeMacrotask`, then the next
 * one waits for a `setImmediate` so that fibers that keep yielding cannot starve socket I/O.
 */
import * as Scheduler from "effect/Scheduler"

/** A scheduler with one shared runner; `maxDrainsBeforeMacrotask` as `MixedScheduler`'s (2048). */
export const make = (maxDrainsBeforeMacrotask = 2048): Scheduler.Scheduler => {
  const runner = new Scheduler.SchedulerRunner((depth, drain) => {
    if (depth >= maxDrainsBeforeMacrotask) setImmediate(() => drain(0))
    else Promise.resolve().then(() => drain(depth + 1))
  })
  return Scheduler.make((task, priority) => runner.scheduleTask(task, priority))
}

/** The one scheduler of all request fibers of the process. */
export const requestScheduler: Scheduler.Scheduler = make()
