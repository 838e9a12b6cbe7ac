/**
 * Dependency direction (CONVENTIONS §1): adapters → streams → src. Only `adapters/` imports third-party
 * SDKs; `src/Main.ts` (the composition root) is the one file in `src/` that imports `adapters/`.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const SDKS = /^(undici|etcd3|consul|pino|pino-pretty|prom-client|rxjs|ioredis|redis|@opentelemetry\/[^/]+)(\/.*)?$/

const files = (dir: string): Array<string> =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : []
  })

const importsOf = (file: string): Array<string> => {
  const text = readFileSync(join(root, file), "utf8")
  const out: Array<string> = []
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
    out.push(m[1] ?? m[2]!)
  }
  return out
}

const layerOf = (file: string, specifier: string): string | undefined => {
  if (!specifier.startsWith(".")) return undefined
  return relative(root, join(root, file, "..", specifier)).split("/")[0]
}

describe("Architecture", () => {
  it("keeps third-party SDKs in adapters/ and the dependency direction adapters → streams → src", () => {
    const violations: Array<string> = []
    for (const file of [...files("src"), ...files("streams")]) {
      const isRoot = file === "src/Main.ts"
      for (const specifier of importsOf(file)) {
        if (SDKS.test(specifier) && !isRoot) violations.push(`${file} imports the SDK ${specifier}`)
        const target = layerOf(file, specifier)
        if (file.startsWith("src/") && !isRoot && (target === "adapters" || target === "streams")) {
          violations.push(`${file} imports ${specifier} (src/ may not depend on ${target}/)`)
        }
        if (file.startsWith("streams/") && target === "adapters") violations.push(`${file} imports ${specifier} (streams/ may not depend on adapters/)`)
      }
    }
    assert.deepStrictEqual(violations, [])
  })

  it("imports Effect's modules by path, never the \"effect\" barrel (it evaluates all of Effect: ≈5 MiB resident in a program that embeds the library)", () => {
    const barrel = [...files("src"), ...files("streams"), ...files("adapters")].filter((file) => importsOf(file).includes("effect"))
    assert.deepStrictEqual(barrel, [])
  })

  it("finds the imports it checks (the scanner is not vacuous)", () => {
    assert.include(importsOf("src/Main.ts"), "../adapters/undici/UndiciUpstream.js")
    assert.include(importsOf("src/Main.ts"), "effect/Effect")
    assert.isTrue(SDKS.test("undici/lib/dispatcher/pool.js"))
    assert.isAbove(files("src").length, 10)
  })
})
