// Reproduces the main cost left on Switchyard's request path (see bench/README.md, "Where the time goes"):
// one Effect fiber per asynchronous operation makes the young-generation GC slow.
//
//   node --trace-gc bench/micro/fiberGc.bench.mjs plain     # callbacks only
//   node --trace-gc bench/micro/fiberGc.bench.mjs fiber     # runFork + one Effect.async per operation
//   node --trace-gc bench/micro/fiberGc.bench.mjs sync      # runFork of a synchronous effect per operation
//
// 50 concurrent chains of 300 000 operations, each resuming from setImmediate with a small object graph.
// Measured here (Node 20.20, effect 3.22, runtime without RuntimeMetrics): plain ≈0.7 µs/op, 48 scavenges
// of ≈0.4 ms; fiber ≈10 µs/op, ≈136 scavenges of ≈10 ms, with the old generation growing ≈7 MiB per
// scavenge although a full GC mid-run finds only ≈19 MiB reachable: objects that die young are promoted
// anyway. Add a letter `s` for a synchronous scheduler (fibers resume without a microtask hop): ≈8 µs/op.
// A fiber that completes synchronously (`sync`: runFork(Effect.sync(...)) from the same setImmediate) does
// not show it (≈0.5 ms scavenges): the trigger is a fiber suspended across an I/O turn — in Effect.async,
// in Deferred.await, or in Effect.never interrupted from outside, alike — even when the payload is allocated
// outside the fiber (Effect's own per-fiber objects are what gets promoted). Replacing the global fiber
// scope's `add` (every runFork puts the fiber in one global Set, removed by an observer at exit) with a
// no-op halves the scavenge time in this benchmark (612 → 267 ms) but promotion remains.
import { Context, Effect, FiberId, FiberRef, FiberRefs, Runtime, RuntimeFlags, Scheduler } from "effect"

const mode = process.argv[2] ?? "fiber"
let refs = FiberRefs.empty()
if (mode.includes("s")) {
  refs = FiberRefs.updateManyAs(refs, {
    forkAs: FiberId.none,
    entries: [[FiberRef.currentScheduler, [[FiberId.none, Scheduler.make((task) => task())]]]]
  })
}
const runtime = Runtime.make({
  context: Context.empty(),
  runtimeFlags: RuntimeFlags.make(RuntimeFlags.Interruption, RuntimeFlags.CooperativeYielding),
  fiberRefs: refs
})
const runFork = Runtime.runFork(runtime)
const N = Number(process.env.N ?? 300_000)
const payload = () => ({ a: Array.from({ length: 20 }, (_, i) => ({ i })), s: "x".repeat(100) })

const one = (next) => {
  if (mode.startsWith("plain")) return void setImmediate(() => next(payload()))
  if (mode.startsWith("sync")) {
    return void setImmediate(() => {
      const fiber = runFork(Effect.sync(payload))
      fiber.addObserver((exit) => setImmediate(() => next(exit.value)))
    })
  }
  const fiber = runFork(Effect.async((resume) => {
    setImmediate(() => resume(Effect.succeed(payload())))
  }))
  fiber.addObserver((exit) => setImmediate(() => next(exit.value)))
}

const started = performance.now()
let launched = 0
let finished = 0
await new Promise((resolve) => {
  const loop = () => {
    if (launched >= N) {
      if (finished === N) resolve()
      return
    }
    launched++
    one(() => {
      finished++
      loop()
    })
  }
  for (let i = 0; i < 50; i++) loop()
})
console.log(`${mode}: ${((performance.now() - started) * 1e6 / N).toFixed(0)} ns/op`)
