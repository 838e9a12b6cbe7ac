import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as http from "node:http"
import { Readable } from "node:stream"
import * as UndiciUpstream from "../../../adapters/undici/UndiciUpstream.js"
import { type BodySink, type BodySource, isBodySource, open, proceed } from "../../../src/proxy/BodySource.js"
import type { ProxyResponse } from "../../../src/proxy/Message.js"
import type { UpstreamError } from "../../../src/proxy/ProxyError.js"
import { Upstream, type UpstreamClient } from "../../../src/proxy/Upstream.js"
import * as Backends from "../../support/backends.js"

const options = {
  maxConnectionsPerServer: 1,
  connectTimeout: 1000,
  idleTimeout: 10_000,
  tls: { ca: undefined, serverName: undefined, cert: undefined, key: undefined, insecureSkipVerify: false }
}

const clientFor = (backend: Backends.Backend) =>
  Effect.flatMap(Upstream, (upstream) => upstream.connect(backend.url, `127.0.0.1:${backend.port}`, options)).pipe(
    Effect.provide(UndiciUpstream.layer)
  )

interface Sent {
  readonly response: Promise<ProxyResponse>
  readonly done: Promise<void>
  readonly doneCount: () => number
  readonly cancel: () => void
}

/** One request through the client; `response` settles with the head, `done` when the adapter calls `onDone`. */
const send = (client: UpstreamClient, path = "/", headersTimeout = 0): Sent => {
  let count = 0
  let markDone!: () => void
  const done = new Promise<void>((resolve) => (markDone = resolve))
  let cancel!: () => void
  const response = new Promise<ProxyResponse>((resolve, reject) => {
    cancel = client.dispatch(
      { method: "GET", path, headers: { host: "backend" }, body: undefined, headersTimeout, onDone: () => (count++, markDone()) },
      (error, response) => (error !== undefined ? reject(error) : resolve(response!))
    )
  })
  return { response, done, doneCount: () => count, cancel }
}

const bytes = (n: number, seed: number) => Buffer.alloc(n, seed)

/** A sink that takes everything and ignores the end. */
const ignoring: BodySink = { data: () => true, end: () => {}, error: () => {} }

/** A backend answering `size` bytes in chunks of 16 KiB, one per event-loop turn. */
const chunked = (size: number): Backends.BackendHandler => (_req, res) => {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) })
  let sent = 0
  const next = () => {
    if (sent >= size) return res.end()
    const n = Math.min(16 * 1024, size - sent)
    res.write(bytes(n, (sent / 1024) & 0xff))
    sent += n
    setImmediate(next)
  }
  next()
}

const expected = (size: number) => {
  const parts: Array<Buffer> = []
  for (let sent = 0; sent < size; sent += 16 * 1024) parts.push(bytes(Math.min(16 * 1024, size - sent), (sent / 1024) & 0xff))
  return Buffer.concat(parts)
}

const hold = (handler: Backends.BackendHandler, closed: Array<string>): Backends.BackendHandler => (req, res, seen) => {
  req.on("close", () => closed.push(req.url ?? ""))
  handler(req, res, seen)
}

describe("UndiciUpstream", () => {
  it.scopedLive("hands over the body as a source: chunks that came first are kept, backpressure is obeyed, onDone once", () =>
    Effect.gen(function*() {
      const size = 1024 * 1024
      const backend = yield* Backends.make("big", chunked(size))
      const client = yield* clientFor(backend)
      const sent = send(client)
      const response = yield* Effect.promise(() => sent.response)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["content-length"], String(size))
      assert.isTrue(isBodySource(response.body))
      const source = response.body as BodySource
      // open late: what arrived meanwhile is delivered first, in order
      yield* Effect.sleep("50 millis")
      const received: Array<Buffer> = []
      let pauses = 0
      const body = yield* Effect.async<Buffer>((resume) => {
        const sink: BodySink = {
          data: (chunk) => {
            received.push(chunk)
            if (received.length % 3 !== 0) return true
            pauses++
            setTimeout(() => source[proceed](), 2)
            return false
          },
          end: () => resume(Effect.succeed(Buffer.concat(received))),
          error: (cause) => resume(Effect.die(cause))
        }
        assert.isTrue(source[open](sink))
      })
      assert.isTrue(body.equals(expected(size)))
      assert.isAbove(pauses, 3)
      yield* Effect.promise(() => sent.done)
      assert.strictEqual(sent.doneCount(), 1)
    }))

  it.scopedLive("a sink that asks for a pause on the last chunk gets the end once", () =>
    Effect.gen(function*() {
      const backend = yield* Backends.make("small")
      const client = yield* clientFor(backend)
      for (const late of [false, true]) {
        const sent = send(client)
        const source = (yield* Effect.promise(() => sent.response)).body as BodySource
        if (late) yield* Effect.sleep("30 millis") // the whole body is held before the sink opens
        let ends = 0
        const chunks: Array<Buffer> = []
        yield* Effect.async<void>((resume) => {
          source[open]({ data: (chunk) => (chunks.push(chunk), false), end: () => (ends++, resume(Effect.void)), error: () => {} })
        })
        source[proceed]()
        source[proceed]()
        yield* Effect.sleep("20 millis")
        assert.strictEqual(ends, 1)
        assert.strictEqual(JSON.parse(Buffer.concat(chunks).toString()).server, "small")
        assert.strictEqual(sent.doneCount(), 1)
      }
    }))

  it.scopedLive("is an ordinary Readable for a middleware that reads it, and then stays one", () =>
    Effect.gen(function*() {
      const size = 256 * 1024
      const backend = yield* Backends.make("big", chunked(size))
      const client = yield* clientFor(backend)
      // read late (chunks held first), read at once, read through a copy of the response
      for (const [delay, view] of [
        [50, (r: ProxyResponse) => r.body],
        [0, (r: ProxyResponse) => r.body],
        [0, (r: ProxyResponse) => ({ ...r, status: 201 }).body]
      ] as const) {
        const sent = send(client)
        const response = yield* Effect.promise(() => sent.response)
        yield* Effect.sleep(delay)
        const body = view(response) as Readable
        assert.instanceOf(body, Readable)
        const text = yield* Effect.promise(async () => {
          const parts: Array<Buffer> = []
          for await (const chunk of body) parts.push(chunk as Buffer)
          return Buffer.concat(parts)
        })
        assert.isTrue(text.equals(expected(size)))
        // used as a stream: it no longer delivers into a sink
        assert.isFalse((body as BodySource)[open](ignoring))
        yield* Effect.promise(() => sent.done)
        assert.strictEqual(sent.doneCount(), 1)
      }
    }))

  it.scopedLive("a body with a listener is not delivered into a sink (the listener would miss it)", () =>
    Effect.gen(function*() {
      const backend = yield* Backends.make("small")
      const client = yield* clientFor(backend)
      const sent = send(client)
      const body = (yield* Effect.promise(() => sent.response)).body as BodySource
      let ended = false
      body.on("end", () => (ended = true))
      assert.isFalse(body[open](ignoring))
      body.resume()
      yield* Effect.promise(() => sent.done)
      yield* Effect.sleep("20 millis")
      assert.isTrue(ended)
    }))

  it.scopedLive("destroying a body releases its connection: unread, read as a stream, or opened into a sink", () =>
    Effect.gen(function*() {
      const closed: Array<string> = []
      // never finishes: only an abort frees the one connection of the pool
      const endless = hold((_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" })
        const timer = setInterval(() => res.write("tick\n"), 5)
        res.on("close", () => clearInterval(timer))
      }, closed)
      const backend = yield* Backends.make("endless", endless)
      const client = yield* clientFor(backend)

      const first = send(client, "/unread")
      ;((yield* Effect.promise(() => first.response)).body as Readable).destroy()
      yield* Effect.promise(() => first.done)

      const second = send(client, "/read-then-destroyed")
      const readable = (yield* Effect.promise(() => second.response)).body as Readable
      yield* Effect.promise(() => new Promise<void>((resolve) => readable.once("data", () => resolve())))
      readable.destroy()
      yield* Effect.promise(() => second.done)

      // the pool's one connection is free again, so a third request gets its head
      const third = send(client, "/opened")
      const head = yield* Effect.promise(() => third.response)
      assert.strictEqual(head.status, 200)
      const source = head.body as BodySource
      yield* Effect.async<void>((resume) => {
        source[open]({ data: () => (resume(Effect.void), true), end: () => {}, error: () => {} })
      })
      source.destroy()
      yield* Effect.promise(() => third.done)
      yield* Effect.sleep("50 millis")
      assert.includeMembers(closed, ["/unread", "/read-then-destroyed", "/opened"])
      assert.strictEqual(first.doneCount() + second.doneCount() + third.doneCount(), 3)
    }))

  it.scopedLive("cancel before the head: no callback, the upstream request is aborted, onDone once", () =>
    Effect.gen(function*() {
      const closed: Array<string> = []
      const backend = yield* Backends.make("slow", hold(() => {}, closed))
      const client = yield* clientFor(backend)
      const sent = send(client, "/slow")
      let answered = false
      sent.response.then(() => (answered = true), () => (answered = true))
      yield* Effect.sleep("50 millis")
      sent.cancel()
      sent.cancel()
      yield* Effect.promise(() => sent.done)
      yield* Effect.sleep("100 millis")
      assert.isFalse(answered)
      assert.deepStrictEqual(closed, ["/slow"])
      assert.strictEqual(sent.doneCount(), 1)
    }))

  it.scopedLive("the headers timeout fails the request with phase headers, reason Timeout", () =>
    Effect.gen(function*() {
      const closed: Array<string> = []
      const backend = yield* Backends.make("slow", hold(() => {}, closed))
      const client = yield* clientFor(backend)
      const sent = send(client, "/slow", 100)
      const error = yield* Effect.promise(() => sent.response.then(() => undefined, (e: UpstreamError) => e))
      assert.strictEqual(error?._tag, "UpstreamError")
      assert.strictEqual(error?.phase, "headers")
      assert.strictEqual(error?.reason, "Timeout")
      yield* Effect.promise(() => sent.done)
      assert.strictEqual(sent.doneCount(), 1)
    }))

  it.scopedLive("an upstream that fails mid-body fails the sink, once", () =>
    Effect.gen(function*() {
      const backend = yield* Backends.make("cut", (_req, res: http.ServerResponse) => {
        res.writeHead(200, { "content-length": "100000" })
        res.write(bytes(1000, 1))
        setTimeout(() => res.socket?.destroy(), 20)
      })
      const client = yield* clientFor(backend)
      const sent = send(client)
      const source = (yield* Effect.promise(() => sent.response)).body as BodySource
      const events: Array<string> = []
      yield* Effect.async<void>((resume) => {
        source[open]({
          data: () => (events.push("data"), true),
          end: () => (events.push("end"), resume(Effect.void)),
          error: () => (events.push("error"), resume(Effect.void))
        })
      })
      yield* Effect.promise(() => sent.done)
      assert.strictEqual(events.at(-1), "error")
      assert.strictEqual(events.filter((e) => e !== "data").length, 1)
      assert.strictEqual(sent.doneCount(), 1)
    }))
})
