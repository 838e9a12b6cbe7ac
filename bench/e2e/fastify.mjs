// @fastify/http-proxy (its own process): fastify with the logger off, everything proxied to the upstream.
import proxy from "@fastify/http-proxy"
import Fastify from "fastify"

const upstream = process.argv[2]
const app = Fastify({ logger: false })
await app.register(proxy, { upstream, http2: false })
await app.listen({ host: "127.0.0.1", port: 0 })
process.on("disconnect", () => app.close().finally(() => process.exit(0)))
process.send({ ready: true, port: app.server.address().port })
