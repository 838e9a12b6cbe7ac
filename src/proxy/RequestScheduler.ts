/**
 * The scheduler request fibers resume on: one shared queue of tasks, drained in a microtask.
 *
 * Why not Effect's default (`Scheduler.defaultScheduler`, a `MixedScheduler`): since effect 3.x it keeps a
 * separate task runner per fiber in a `WeakMap` keyed by the fiber. With a fiber per request that is one
 * runner object and one ephemeron entry per request; measured on the request path (bench/README.md,
 * "Where the time goes") it was ≈15 % of the CPU per request, nearly all of it in the young-generation
 * garbage collector (the table is old, its keys and values young). Request fibers never need per-fiber
 * fairness between each other beyond Effect's cooperative yielding, which this scheduler keeps
 * (`shouldYield` is Effect's own, and yielded fibers go to the back of the queue).
 *
 * Like `MixedScheduler`, consecutive drains chain through microtasks up to `maxDrainsBeforeMacrotask`,
 * then the next drain is a `setImmediate` so that fibers that keep yielding cannot starve socket I/O.
 */
import { Scheduler } from "effect"

export class RequestScheduler implements Scheduler.Scheduler {
  private tasks = new Scheduler.PriorityBuckets()
  private running = false

  constructor(private readonly maxDrainsBeforeMacrotask = 2048) {}

  scheduleTask(task: Scheduler.Task, priority: number): void {
    this.tasks.scheduleTask(task, priority)
    if (!this.running) {
      this.running = true
      this.schedule(0)
    }
  }

  shouldYield(fiber: Parameters<Scheduler.Scheduler["shouldYield"]>[0]): number | false {
    return Scheduler.defaultShouldYield(fiber)
  }

  private schedule(depth: number): void {
    if (depth >= this.maxDrainsBeforeMacrotask) setImmediate(() => this.drain(0))
    else queueMicrotask(() => this.drain(depth + 1))
  }

  private drain(depth: number): void {
    const buckets = this.tasks.buckets
    this.tasks.buckets = []
    for (let b = 0; b < buckets.length; b++) {
      const toRun = buckets[b]![1]
      for (let i = 0; i < toRun.length; i++) toRun[i]!()
    }
    if (this.tasks.buckets.length === 0) this.running = false
    else this.schedule(depth)
  }
}

/** The one scheduler of all request fibers of the process. */
export const requestScheduler: RequestScheduler = new RequestScheduler()
