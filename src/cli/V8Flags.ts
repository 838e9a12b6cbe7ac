/**
 * V8 flags for the process the CLI owns, in two phases. `bin/switchyard.js` calls `starting()` before it
 * loads the rest of the program (a dynamic import), and the CLI calls `serving()` once the listeners are up.
 *
 * `--no-allocation-site-pretenuring` (both phases): V8 tracks object literals per allocation site to
 * decide whether to allocate them directly in the old generation. On Switchyard's request path (a fiber
 * per request, every request's objects dying young) that tracking, together with Effect's root-fiber set
 * (src/runtime/FiberRoots.ts), let old garbage keep young objects alive: ≈4.5 KB of every request was
 * promoted and scavenges took 7–10 ms. With both addressed, ≈0.2 KB per request is promoted and scavenges
 * take ≈1.5 ms (bench/README.md, "Where the time goes"). The flag only turns an optimisation off.
 *
 * `--semi-space-growth-factor=1` while starting, back to V8's 2 when serving: loading ≈700 modules (most
 * of them Effect's) makes everything survive, and V8 answers survival by doubling the young generation up
 * to its 2 × 16 MiB maximum. That one-off burst left ≈25 MiB of young generation resident in an idle
 * proxy. Kept at 1 MiB while loading, the young generation is then sized by traffic: it grows again under
 * load (requests' survivors), and stays small for a sidecar that idles or streams (bench/README.md, "Memory").
 *
 * `--no-wasm-dynamic-tiering --no-wasm-tier-up` (both phases): undici parses HTTP/1.1 with llhttp compiled
 * to WebAssembly. V8 first compiles it with its baseline compiler (Liftoff), then recompiles the parser
 * with TurboFan once it is hot, and TurboFan on llhttp's one huge state-machine function takes ≈35 MiB of
 * compiler memory for ≈200 ms: the resident peak of a streaming proxy (seen with heaptrack; bench/README.md,
 * "Memory"). Kept on Liftoff code, the parser costs no measurable throughput: a proxy's parsing is
 * headers, and the bodies it streams are skipped over, not scanned byte by byte.
 *
 * `--no-concurrent-array-buffer-sweeping` (both phases): the memory of dead Buffers is freed at the end
 * of the collection that found them, not later by a background task (see Scavenger.ts).
 *
 * With one CPU to run on (`os.availableParallelism()` is 1: a `taskset`/cpuset of one CPU, as the bench
 * gives the proxy under test), V8's GC helper threads are turned off (`oneCpuGcFlags`): parallel
 * scavenges, concurrent marking and sweeping, parallel compaction. They cannot run beside the event loop
 * there, only take turns with it, and synchronizing with them is work of its own. Pinned to one CPU,
 * Switchyard without them had a better p99 in 14 of 18 alternated rounds, and 8–13 % more requests per
 * second by the median of each set of six (not visible in bench runs on a busier machine). Under
 * callgrind the helpers cost 212k instructions per request in a run of 4000 requests, against 36k
 * without them. The JVM makes the same choice: its ergonomics pick the serial collector on one CPU. V8 refuses
 * `--no-parallel-marking` once it runs (the process aborts), so the final marking pause keeps its helpers.
 * With two CPUs or more nothing changes.
 *
 * None of these can go in NODE_OPTIONS (Node refuses them there); V8 reads them when it allocates, grows or
 * compiles, so setting them at run time takes effect. Programs that embed Switchyard can start Node with
 * the same flags themselves (`node --no-allocation-site-pretenuring --no-wasm-dynamic-tiering …`).
 */
import { availableParallelism } from "node:os"
import { setFlagsFromString } from "node:v8"

/** The flags that turn V8's GC helper threads off (all of them V8 accepts at run time), for `cpus` CPUs. */
export const oneCpuGcFlags = (cpus: number): ReadonlyArray<string> =>
  cpus > 1 ? [] : [
    "--no-parallel-scavenge",
    "--no-minor-gc-task",
    "--no-concurrent-marking",
    "--no-concurrent-sweeping",
    "--no-parallel-compaction",
    "--no-parallel-pointer-update"
  ]

/** Before the program's modules load. */
export const starting = (): void => {
  always()
  setFlagsFromString("--semi-space-growth-factor=1")
  // before anything is allocated, so that no collection has started with helpers
  for (const flag of oneCpuGcFlags(availableParallelism())) setFlagsFromString(flag)
}

/** Once the proxy serves: V8's own young-generation growth again (its default factor). */
export const serving = (): void => {
  always()
  setFlagsFromString("--semi-space-growth-factor=2")
}

const always = (): void => {
  setFlagsFromString("--no-allocation-site-pretenuring")
  setFlagsFromString("--no-wasm-dynamic-tiering")
  setFlagsFromString("--no-wasm-tier-up")
  setFlagsFromString("--no-concurrent-array-buffer-sweeping")
}
