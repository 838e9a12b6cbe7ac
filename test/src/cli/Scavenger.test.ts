import { assert, describe, it } from "@effect/vitest"
import { getHeapStatistics } from "node:v8"
import * as Scavenger from "../../../src/cli/Scavenger.js"

const MiB = 1024 * 1024
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("Scavenger", () => {
  it("collects once external memory has grown by the threshold since the last collection, and stops", async () => {
    let external = 10 * MiB
    let collections = 0
    const stop = Scavenger.start({
      intervalMs: 5,
      thresholdBytes: 4 * MiB,
      externalMemory: () => external,
      collect: () => {
        collections++
        external -= 5 * MiB // what the collection freed
      }
    })
    try {
      external += 3 * MiB // below the threshold
      await tick(30)
      assert.strictEqual(collections, 0)
      external += 2 * MiB // 5 MiB above the start
      await tick(30)
      assert.strictEqual(collections, 1)
      // measured again after the collection: the next one needs another 4 MiB
      external += 3 * MiB
      await tick(30)
      assert.strictEqual(collections, 1)
      // V8 collected on its own: the baseline follows it down
      external = 2 * MiB
      await tick(30)
      external += 3 * MiB
      await tick(30)
      assert.strictEqual(collections, 1)
      external += 1 * MiB
      await tick(30)
      assert.strictEqual(collections, 2)
    } finally {
      stop()
    }
    external += 20 * MiB
    await tick(30)
    assert.strictEqual(collections, 2)
  })

  it("minorCollection frees dead Buffers without exposing gc to the program", async () => {
    const collect = Scavenger.minorCollection()
    assert.isFunction(collect)
    assert.isUndefined((globalThis as { gc?: unknown }).gc)
    const before = getHeapStatistics().external_memory
    let kept = 0
    for (let i = 0; i < 256; i++) kept += Buffer.allocUnsafeSlow(64 * 1024).length // 16 MiB, all dead at once
    assert.strictEqual(kept, 16 * MiB)
    collect!()
    // the memory is released by V8's sweeper, possibly on another thread: give it a moment
    for (let i = 0; i < 50 && getHeapStatistics().external_memory > before + 8 * MiB; i++) await tick(20)
    assert.isBelow(getHeapStatistics().external_memory, before + 8 * MiB)
  })
})
