import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as V8Flags from "../../../src/cli/V8Flags.js"

describe("V8Flags", () => {
  it("turns V8's GC helper threads off only when the process has one CPU", () => {
    assert.isAbove(V8Flags.oneCpuGcFlags(1).length, 0)
    assert.deepStrictEqual(V8Flags.oneCpuGcFlags(2), [])
    assert.deepStrictEqual(V8Flags.oneCpuGcFlags(64), [])
  })

  it("V8 accepts every one-CPU flag at run time and still collects (it aborts on some GC flags)", () => {
    // a child process: a flag V8 refuses once running (e.g. --no-parallel-marking) kills it with SIGTRAP
    const program = `
      const v8 = require("node:v8")
      for (const flag of ${JSON.stringify(V8Flags.oneCpuGcFlags(1))}) v8.setFlagsFromString(flag)
      let keep = []
      for (let i = 0; i < 300000; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 50000) keep = [] }
      gc({ type: "minor" }); gc(); gc({ type: "minor" })
      process.stdout.write("collected " + keep.length)
    `
    const out = execFileSync(process.execPath, ["--expose-gc", "-e", program], { encoding: "utf8", timeout: 30_000 })
    assert.match(out, /^collected \d+$/)
  })
})
