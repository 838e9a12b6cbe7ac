// The raw reference proxy (its own process): node:http → undici Pool, no features: forward method,
// path and headers (minus hop-by-hop), write the status and headers, pipe the body.
import http from "node:http"
import { pipeline } from "node:stream"
import { Pool } from "undici"

const upstream = process.argv[2]
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 })

const HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"])
const strip = (headers) => {
  const out = {}
  for (const key in headers) if (!HOP.has(key)) out[key] = headers[key]
  return out
}

const server = http.createServer((req, res) => {
  const hasBody = req.method !== "GET" && req.method !== "HEAD"
  pool.request({ method: req.method, path: req.url, headers: strip(req.headers), body: hasBody ? req : null })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, strip(headers))
      pipeline(body, res, () => {})
    }, () => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" })
        res.end("bad gateway")
      } else res.destroy()
    })
})
server.requestTimeout = 0
server.listen(0, "127.0.0.1", () => {
  process.on("disconnect", () => process.exit(0))
  process.send({ ready: true, port: server.address().port })
})
