// CPU placement (BENCH_PIN, default auto): the proxy under test gets CPU 0 to itself while it is
// measured; everything else (this harness, the backend, wrk or autocannon, etcd, the idle targets)
// runs on the other CPUs.
//
// Why: on a 2-CPU machine the three processes of a throughput run (load generator, proxy, backend)
// otherwise share both CPUs as the kernel's scheduler places them, so a ratio also measures where each
// proxy happened to run. With the proxy alone on a CPU it is the bottleneck of the run, and every
// target runs under the same conditions. The machine's own speed still drifts between minutes (the
// `instructions` scenario is the measure that does not). BENCH_PIN=0 runs unplaced.
import { execFileSync } from "node:child_process"
import os from "node:os"

const cpuCount = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length

const hasTaskset = () => {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const mode = (process.env.BENCH_PIN ?? "auto").toLowerCase()
const wanted = !["0", "off", "false", "no"].includes(mode)
const possible = cpuCount >= 2 && hasTaskset()
if (wanted && mode !== "auto" && !possible) throw new Error(`BENCH_PIN=${mode} needs taskset and at least 2 CPUs`)

/** `{ proxy, rest }` CPU lists for taskset, or undefined when processes are not placed. */
export const placement = wanted && possible ? { proxy: "0", rest: cpuCount === 2 ? "1" : `1-${cpuCount - 1}` } : undefined

const pin = (cpus, pid) => {
  // -a: every thread of the process (V8's and libuv's too); threads started later inherit it
  execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" })
}

/**
 * Puts a proxy on its own CPU for as long as it is under test (no-op when not placing); `offTest`
 * moves it back with the others, so that an idle target (its timers, V8's idle-time GC) never runs on
 * the CPU of the one being measured.
 */
export const underTest = (pid) => {
  if (placement !== undefined && pid !== undefined) pin(placement.proxy, pid)
}

export const offTest = (pid) => {
  if (placement !== undefined && pid !== undefined) pin(placement.rest, pid)
}

/** Puts this harness on the other CPUs; every process it starts afterwards inherits that. */
export const pinHarness = () => {
  if (placement !== undefined) pin(placement.rest, process.pid)
}

/** Lets a process use every CPU (the instructions scenario: counts do not depend on placement, time does). */
export const anyCpu = (pid) => {
  if (placement !== undefined && pid !== undefined) pin(`0-${cpuCount - 1}`, pid)
}

export const describePlacement = () =>
  placement === undefined
    ? "processes not placed (BENCH_PIN=0, or no taskset / one CPU)"
    : `proxy under test on CPU ${placement.proxy}; harness, backend, load generator, etcd and idle targets on CPU ${placement.rest}`
