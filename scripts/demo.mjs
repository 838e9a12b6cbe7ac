#!/usr/bin/env node
// `npm start`: two small demo upstreams on 127.0.0.1:9001 and :9002, then the proxy on the shipped
// default config (config/switchyard.yaml), which balances between them round-robin.
import http from "node:http"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { dirname, join } from "node:path"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
if (!existsSync(join(root, "dist/cli/switchyard.js"))) {
  console.error("dist/ is missing: run `npm install` (it builds) or `npm run build` first")
  process.exit(1)
}

const demo = (name, port) =>
  new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const body = JSON.stringify({
        server: name,
        method: req.method,
        path: req.url,
        requestId: req.headers["x-request-id"],
        forwardedFor: req.headers["x-forwarded-for"]
      }) + "\n"
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
    })
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve(server))
  })

const servers = await Promise.all([demo("demo-1", 9001), demo("demo-2", 9002)])
const stop = () => servers.forEach((s) => s.close())
process.once("exit", stop)

const config = process.argv[2] ?? join(root, "config/switchyard.yaml")
process.argv = [process.argv[0], "switchyard", "--config", config]
// what bin/switchyard.js does: V8 flags before the program loads
const { starting } = await import(join(root, "dist/src/cli/V8Flags.js"))
starting()
await import(join(root, "dist/cli/switchyard.js"))
