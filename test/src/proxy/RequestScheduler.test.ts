import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as RequestScheduler from "../../../src/proxy/RequestScheduler.js"
import * as RequestRuntime from "../../../src/proxy/RequestRuntime.js"

describe("RequestScheduler", () => {
  it("runs tasks in one microtask drain, in priority order, FIFO within a priority", async () => {
    const scheduler = RequestScheduler.make()
    const order: Array<string> = []
    scheduler.scheduleTask(() => order.push("a0"), 0)
    scheduler.scheduleTask(() => order.push("b1"), 1)
    scheduler.scheduleTask(() => order.push("c0"), 0)
    assert.deepStrictEqual(order, []) // not synchronously
    await Promise.resolve()
    assert.deepStrictEqual(order, ["a0", "c0", "b1"])
  })

  it("lets I/O run between drains once tasks keep rescheduling themselves", async () => {
    const scheduler = RequestScheduler.make(10)
    let runs = 0
    let immediateRanAt: number | undefined
    setImmediate(() => (immediateRanAt = runs))
    await new Promise<void>((resolve) => {
      const task = () => {
        runs++
        if (runs < 50) scheduler.scheduleTask(task, 0)
        else resolve()
      }
      scheduler.scheduleTask(task, 0)
    })
    // a microtask-only scheduler would finish all 50 runs before the immediate
    assert.isDefined(immediateRanAt)
    assert.isBelow(immediateRanAt!, 50)
  })

  it("request fibers run on it and complete, yielding included", async () => {
    const fiber = RequestRuntime.fork(
      Effect.gen(function*() {
        let sum = 0
        for (let i = 0; i < 5000; i++) {
          sum += i
          if (i % 1000 === 0) yield* Effect.yieldNow()
        }
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
        return sum
      })
    )
    assert.strictEqual(await Effect.runPromise(Fiber.join(fiber)), 12_497_500)
  })
})
