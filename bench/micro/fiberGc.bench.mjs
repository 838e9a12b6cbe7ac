// Reproduces, without any HTTP, the young-generation GC problem a fiber per request had on Switchyard's
// request path (bench/README.md, "The fiber per request and the young-generation GC"; the HTTP version
// with the fixes switchable is bench/micro/fiberProxyGc.mjs).
//
//   node --trace-gc bench/micro/fiberGc.bench.mjs plain     # callbacks only
//   node --trace-gc bench/micro/fiberGc.bench.mjs fiber     # runFork + one Effect.async per operation
//   node --trace-gc bench/micro/fiberGc.bench.mjs sync      # runFork of a synchronous effect per operation
//   node --trace-gc --no-allocation-site-pretenuring bench/micro/fiberGc.bench.mjs fiber-roots   # both fixes
//
// 50 concurrent chains of operations, each resuming from setImmediate with a small object graph. Measured
// (N=100000): `fiber` ≈11 µs/op with scavenges of ≈7.5 ms that promote most of what they copy; `plain`
// ≈1.5 µs/op, scavenges ≈1.4 ms. Two causes: Effect's global root-fiber `Set` (one add + one delete per
// fiber; V8 keeps replaced hash tables linked to their successors, so once one is old every later fiber
// stays alive until a full GC) and V8's allocation-site pretenuring. `-roots` (needs `npm run build`) swaps
// the Set for src/runtime/FiberRoots.ts; `fiber-roots` with --no-allocation-site-pretenuring: ≈7 µs/op,
// scavenges ≈2.7 ms (here the flag does most of it; on Switchyard's request path each fix alone was not
// enough). Mode `fibers` runs the fibers on a synchronous scheduler.
import { Context, Effect, FiberId, FiberRef, FiberRefs, Runtime, RuntimeFlags, Scheduler } from "effect"

const mode = process.argv[2] ?? "fiber"
if (mode.endsWith("-roots")) (await import("../../dist/src/runtime/FiberRoots.js")).install()
let refs = FiberRefs.empty()
if (mode.replace(/-roots$/, "") === "fibers") {
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
