import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the JSON report lets .ci/run print a plain "N passed, N failed" line
    reporters: ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1
  }
})
