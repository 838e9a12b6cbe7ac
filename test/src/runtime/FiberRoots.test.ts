import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as FiberRoots from "../../../src/runtime/FiberRoots.js"

describe("FiberRoots", () => {
  it("RootFibers adds, removes in O(1) by swapping, and iterates a copy", () => {
    const set = new FiberRoots.RootFibers<{ id: number }>()
    const items = Array.from({ length: 5 }, (_, id) => ({ id }))
    for (const item of items) set.add(item)
    set.add(items[0]!) // adding twice keeps one
    assert.strictEqual(set.size, 5)
    assert.isTrue(set.delete(items[1]!))
    assert.isFalse(set.delete(items[1]!))
    assert.isFalse(set.has(items[1]!))
    assert.deepStrictEqual([...set].map((i) => i.id).sort(), [0, 2, 3, 4])
    // deleting while iterating does not disturb the iteration
    const seen: Array<number> = []
    for (const item of set) {
      seen.push(item.id)
      set.delete(item)
    }
    assert.deepStrictEqual(seen.sort(), [0, 2, 3, 4])
    assert.strictEqual(set.size, 0)
    // an item removed from one set is not "in" a set that later reuses its slot
    set.add(items[2]!)
    assert.isFalse(set.has(items[3]!))
  })

  it.live("install keeps Effect's root fibers observable: started fibers are listed until they end", () =>
    Effect.gen(function*() {
      const result = FiberRoots.install()
      assert.oneOf(result, ["installed", "already-installed"])
      assert.strictEqual(FiberRoots.install(), "already-installed")
      const gate = yield* Deferred.make<void>()
      const fibers = Array.from({ length: 20 }, () => Effect.runFork(Deferred.await(gate)))
      const during = yield* Fiber.roots
      for (const fiber of fibers) assert.include(during, fiber)
      yield* Deferred.succeed(gate, undefined)
      yield* Effect.forEach(fibers, Fiber.join, { discard: true })
      const after = yield* Fiber.roots
      for (const fiber of fibers) assert.notInclude(after, fiber)
    }))
})
