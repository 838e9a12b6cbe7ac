/** Real backend servers on loopback port 0 for integration tests, closed with the test's scope. */
import { Effect, type Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly rawHeaders: ReadonlyArray<string>
  body: Buffer
}

export interface Backend {
  readonly name: string
  readonly url: string
  readonly port: number
  readonly server: http.Server
  /** Every request received, in order (body filled in once fully read, for the default handler). */
  readonly seen: Array<Seen>
}

export type BackendHandler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void

/** Default behaviour: read the body, answer 200 JSON `{ server, method, url, headers, bodyLength }`. */
export const echo: (name: string) => BackendHandler = (name) => (req, res, seen) => {
  const chunks: Array<Buffer> = []
  req.on("data", (c: Buffer) => chunks.push(c))
  req.on("end", () => {
    seen.body = Buffer.concat(chunks)
    const text = JSON.stringify({ server: name, method: req.method, url: req.url, headers: req.headers, bodyLength: seen.body.length })
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-backend": name })
    res.end(text)
  })
}

export const make = (name: string, handler: BackendHandler = echo(name)): Effect.Effect<Backend, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Backend>((resume) => {
      const seen: Array<Seen> = []
      const server = http.createServer((req, res) => {
        const record: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) }
        seen.push(record)
        handler(req, res, record)
      })
      server.keepAliveTimeout = 60_000
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({ name, url: `http://127.0.0.1:${port}`, port, server, seen }))
      })
    }),
    (backend) =>
      Effect.async<void>((resume) => {
        backend.server.close(() => resume(Effect.void))
        backend.server.closeAllConnections()
      })
  )

/**
 * A backend that streams up to 256 MiB as fast as the connection takes it (backpressure honoured):
 * `written()` is how much it has written so far, which shows whether the proxy buffers.
 */
export const firehose = (): { readonly handler: BackendHandler; readonly written: () => number } => {
  let written = 0
  const handler: BackendHandler = (_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" })
    const chunk = Buffer.alloc(64 * 1024)
    const pump = () => {
      while (written < 256 * 1024 * 1024) {
        written += chunk.length
        if (!res.write(chunk)) return void res.once("drain", pump)
      }
      res.end()
    }
    pump()
  }
  return { handler, written: () => written }
}

/** A port with nothing listening on it (connection refused). */
export const closedPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = http.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})
