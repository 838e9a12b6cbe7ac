import { assert, describe, it } from "@effect/vitest"
import * as SmoothWeighted from "../../../src/pool/SmoothWeighted.js"

const picks = <T>(rotation: SmoothWeighted.SmoothWeighted<T>, count: number, available?: (item: T) => boolean) =>
  Array.from({ length: count }, () => rotation.next(available))

const counts = (values: ReadonlyArray<string | undefined>) => {
  const result: Record<string, number> = {}
  for (const value of values) result[String(value)] = (result[String(value)] ?? 0) + 1
  return result
}

describe("SmoothWeighted", () => {
  it("gives nginx's sequence for weights 5, 1, 1", () => {
    const rotation = SmoothWeighted.make([
      { value: "a", weight: 5 },
      { value: "b", weight: 1 },
      { value: "c", weight: 1 }
    ])
    const sequence = ["a", "a", "b", "a", "c", "a", "a"]
    assert.deepStrictEqual(picks(rotation, 21), [...sequence, ...sequence, ...sequence])
  })

  it("chooses each item exactly `weight` times per `sum(weights)` picks", () => {
    const rotation = SmoothWeighted.make([
      { value: "a", weight: 3 },
      { value: "b", weight: 2 },
      { value: "c", weight: 1 }
    ])
    for (let round = 0; round < 5; round++) {
      assert.deepStrictEqual(counts(picks(rotation, 6)), { a: 3, b: 2, c: 1 })
    }
    const split = SmoothWeighted.make([{ value: "v1", weight: 90 }, { value: "v2", weight: 10 }])
    assert.deepStrictEqual(counts(picks(split, 1000)), { v1: 900, v2: 100 })
  })

  it("interleaves instead of bunching", () => {
    const rotation = SmoothWeighted.make([{ value: "a", weight: 2 }, { value: "b", weight: 2 }])
    assert.deepStrictEqual(picks(rotation, 4), ["a", "b", "a", "b"])
    const uneven = SmoothWeighted.make([{ value: "a", weight: 3 }, { value: "b", weight: 1 }])
    assert.deepStrictEqual(picks(uneven, 8), ["a", "a", "b", "a", "a", "a", "b", "a"])
  })

  it("handles fractional weights in proportion", () => {
    const rotation = SmoothWeighted.make([{ value: "a", weight: 0.5 }, { value: "b", weight: 1.5 }])
    assert.deepStrictEqual(counts(picks(rotation, 400)), { a: 100, b: 300 })
  })

  it("never chooses an item of weight 0", () => {
    const rotation = SmoothWeighted.make([
      { value: "a", weight: 0 },
      { value: "b", weight: 1 },
      { value: "c", weight: 0 }
    ])
    assert.deepStrictEqual(counts(picks(rotation, 50)), { b: 50 })
    assert.strictEqual(SmoothWeighted.make([{ value: "a", weight: 0 }]).next(), undefined)
    assert.strictEqual(SmoothWeighted.make([{ value: "a", weight: -1 }, { value: "b", weight: NaN }]).next(), undefined)
    assert.strictEqual(SmoothWeighted.make<string>([]).next(), undefined)
  })

  it("skips unavailable items and keeps the others' sequence", () => {
    const rotation = SmoothWeighted.make([
      { value: "a", weight: 5 },
      { value: "b", weight: 1 },
      { value: "c", weight: 1 }
    ])
    const down = new Set(["b"])
    const available = (item: string) => !down.has(item)
    const withoutB = picks(rotation, 12, available)
    assert.deepStrictEqual(counts(withoutB), { a: 10, c: 2 })
    assert.isFalse(withoutB.includes("b"))
    down.clear()
    assert.deepStrictEqual(counts(picks(rotation, 70)), { a: 50, b: 10, c: 10 })
  })

  it("is a plain rotation among the remaining items when one is down", () => {
    const rotation = SmoothWeighted.make([
      { value: "a", weight: 1 },
      { value: "b", weight: 1 },
      { value: "c", weight: 1 }
    ])
    assert.deepStrictEqual(picks(rotation, 6, (item) => item !== "b"), ["a", "c", "a", "c", "a", "c"])
  })

  it("returns undefined when nothing is available", () => {
    const rotation = SmoothWeighted.make([{ value: "a", weight: 1 }, { value: "b", weight: 2 }])
    assert.strictEqual(rotation.next(() => false), undefined)
    assert.deepStrictEqual(counts(picks(rotation, 3)), { a: 1, b: 2 })
  })
})
