/** Small HTTP clients for tests: undici for ordinary requests, a raw socket for malformed bytes. */
import { Effect } from "effect"
import * as net from "node:net"
import { request as undiciRequest } from "undici"

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly text: string
  readonly json: any
}

export const request = (
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}
): Effect.Effect<Reply> =>
  Effect.promise(async () => {
    const res = await undiciRequest(url, {
      method: (options.method ?? "GET") as "GET",
      headers: options.headers,
      body: options.body
    })
    const text = await res.body.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: res.statusCode, headers: res.headers as Reply["headers"], text, json }
  })

/** Sends raw bytes and resolves with everything the server wrote until it closed (or `waitMs` passed). */
export const raw = (port: number, bytes: string | Buffer, waitMs = 2000): Effect.Effect<string> =>
  Effect.async<string>((resume) => {
    const socket = net.connect(port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resume(Effect.succeed(Buffer.concat(chunks).toString("latin1")))
    }
    const timer = setTimeout(done, waitMs)
    socket.on("data", (c) => chunks.push(c))
    socket.on("close", done)
    socket.on("error", done)
    socket.write(bytes)
  })

/** Status code of the first response in a raw reply (0 when none). */
export const statusOf = (reply: string): number => {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(reply)
  return m === null ? 0 : Number(m[1])
}
