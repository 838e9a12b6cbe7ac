/**
 * Collects dead socket read buffers sooner than V8 would, in the process the CLI owns.
 *
 * Every socket read hands JavaScript a fresh Buffer (64 KiB during a bulk transfer), and a proxy drops it
 * as soon as it has been written on. Its memory lives outside V8's heap, so V8 sees only a small object
 * and a growing "external memory" count, and collects the dead buffers when that count has grown by tens
 * of MiB. Nothing else prompts a collection: a streaming proxy allocates almost nothing on V8's heap. At
 * 500 MiB/s that left ≈30 MiB of dead buffers resident in Switchyard, and in any Node proxy
 * (bench/README.md, "Memory").
 *
 * So every `intervalMs` the scavenger reads V8's external-memory count (≈0.6 µs), and when it has grown
 * by `thresholdBytes` since the last collection it asks for one young-generation collection, which frees
 * the buffers that died young: a fraction of a millisecond with the small young generation of a proxy
 * that streams. A proxy answering small requests never reaches the threshold, so it never collects.
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

export interface Options {
  readonly intervalMs: number
  readonly thresholdBytes: number
  /** V8's external memory, in bytes. */
  readonly externalMemory: () => number
  /** One young-generation collection. */
  readonly collect: () => void
}

/** Checks every `intervalMs`, never keeping the process alive; returns the function that stops it. */
export const start = (options: Options): (() => void) => {
  let baseline = options.externalMemory()
  const timer = setInterval(() => {
    const now = options.externalMemory()
    if (now < baseline) baseline = now // V8 collected on its own
    else if (now - baseline >= options.thresholdBytes) {
      options.collect()
      baseline = options.externalMemory()
    }
  }, options.intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * V8's `gc({ type: "minor" })`, without exposing `gc` to the program: the flag is on only while a fresh
 * context is created to fetch it. `undefined` when V8 refuses.
 */
export const minorCollection = (): (() => void) | undefined => {
  try {
    setFlagsFromString("--expose-gc")
    const gc = runInNewContext("gc") as (options: { type: "minor" | "major" }) => void
    return typeof gc === "function" ? () => gc({ type: "minor" }) : undefined
  } catch {
    return undefined
  } finally {
    setFlagsFromString("--no-expose-gc")
  }
}

/**
 * The CLI's scavenger, for the life of the process (it never keeps it alive): checked every 20 ms, a
 * collection per 4 MiB of new external memory.
 */
export const startForProcess = (): void => {
  const collect = minorCollection()
  if (collect === undefined) return
  start({
    intervalMs: 20,
    thresholdBytes: 4 * 1024 * 1024,
    externalMemory: () => getHeapStatistics().external_memory,
    collect
  })
}
