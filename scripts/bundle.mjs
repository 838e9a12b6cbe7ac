#!/usr/bin/env node
// `npm run build`, second step: the CLI as one ES module, dist/cli/switchyard.js (bin/switchyard.js loads
// it). tsc's dist/src stays the library that `import { Switchyard } from "switchyard"` gets.
//
// Why a bundle: the CLI is a long-running process whose resident memory users measure (a sidecar per
// service). Loaded module by module, Effect is ≈700 modules, and `effect/Schema` statically imports
// fast-check (≈670 more, for `Arbitrary`, never used by a proxy). Their source text, module records and
// top-level objects stay resident: the idle proxy took ≈87 MiB. Bundled with Effect tree-shaken, the
// same program idles at ≈67 MiB (bench/README.md, "Memory").
//
// Only the Effect packages are bundled: one copy of Effect, shaken. Every other package stays an
// external import from node_modules (undici, pino, prom-client, yaml, smol-toml; etcd3 and consul are
// imported on demand, as in the library), so their own file lookups (pino's transports) keep working.
import { build } from "esbuild"
import { rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const BUNDLED = /^(effect|@effect\/[^/]+)(\/|$)/

// chunk names are content hashes: without this, every build would leave the previous chunks behind
rmSync(join(root, "dist/cli"), { recursive: true, force: true })

await build({
  absWorkingDir: root,
  entryPoints: { switchyard: "dist/src/cli/Cli.js" },
  outdir: "dist/cli",
  bundle: true,
  splitting: true, // the etcd and Consul adapters stay dynamic imports: loaded only when configured
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  plugins: [{
    name: "externals",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) =>
        args.path.startsWith("node:") || !BUNDLED.test(args.path) ? { path: args.path, external: true } : undefined)
    }
  }]
})
