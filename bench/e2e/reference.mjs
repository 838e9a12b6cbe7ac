// The raw reference proxy (its own process): node:http → undici Pool, no features: forward method,
// path and headers (minus hop-by-hop), write the status and headers, pipe the body.
// (Callback-style `pool.request` and `.pipe()`: measurably cheaper than the promise + `stream.pipeline`
// form on this workload, and this is meant to be the ceiling.)
import http from "node:http"
import { Pool } from "undici"

const upstream = process.argv[2]
const pool = new Pool(upstream, { connections: 128, pipelining: 1 })

const HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"])
const strip = (headers) => {
  const out = {}
  for (const key in headers) if (!HOP.has(key)) out[key] = headers[key]
  return out
}

const server = http.createServer((req, res) => {
  const hasBody = req.method !== "GET" && req.method !== "HEAD"
  pool.request({ method: req.method, path: req.url, headers: strip(req.headers), body: hasBody ? req : null }, (error, up) => {
    if (error) {
      if (res.headersSent) return res.destroy()
      res.writeHead(502, { "content-type": "text/plain" })
      return res.end("bad gateway")
    }
    res.writeHead(up.statusCode, strip(up.headers))
    up.body.pipe(res)
    up.body.on("error", () => res.destroy())
    res.on("close", () => {
      if (!up.body.readableEnded) up.body.destroy()
    })
  })
})
server.requestTimeout = 0
server.listen(0, "127.0.0.1", () => {
  process.on("disconnect", () => process.exit(0))
  process.send({ ready: true, port: server.address().port })
})
