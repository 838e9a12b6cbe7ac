/**
 * The admin API's write side and event stream (CONTRACT §5):
 * `PUT|DELETE /config/{routes|pools|middlewares}/{name}` change the admin layer through the config plane
 * (invalid → 400 with every problem, nothing changes); `GET /events` is a `text/event-stream` of events.
 */
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import type { IncomingMessage, ServerResponse } from "node:http"
import { parse } from "yaml"
import type { AdminResponse, AdminRoute } from "../src/admin/AdminApi.js"
import { Events } from "../src/observability/Events.js"
import { type EntityKind, entityKinds } from "../src/config/Schema.js"
import type { ConfigPlane } from "./ConfigWatcher.js"

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const ENTITY = new RegExp(`^/config/(${entityKinds.join("|")})/([^/]+)$`)
const MAX_BODY = 1024 * 1024

const readBody = (req: IncomingMessage) =>
  Effect.async<string, string>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        req.destroy()
        resume(Effect.fail(`body over ${MAX_BODY} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on("end", () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8"))))
    req.on("error", (e) => resume(Effect.fail(e.message)))
  })

const badRequest = (path: string, message: string): AdminResponse => ({ status: 400, body: { errors: [{ path, message }] } })

export const make = (plane: ConfigPlane) =>
  Effect.gen(function*() {
    const events = yield* Events

    const put: AdminRoute = {
      method: "PUT",
      path: ENTITY,
      handle: (req, _res, [kind, name]) =>
        Effect.gen(function*() {
          const entityPath = `${kind}.${name}`
          if (!NAME.test(name!)) return badRequest(entityPath, `expected a name matching ${NAME.source}, found ${JSON.stringify(name)}`)
          const text = yield* Effect.either(readBody(req))
          if (text._tag === "Left") return badRequest(entityPath, text.left)
          if (text.right.trim() === "") return badRequest(entityPath, "expected a JSON or YAML document, found an empty body")
          let raw: unknown
          try {
            raw = parse(text.right)
          } catch (error) {
            return badRequest(entityPath, `expected a JSON or YAML document: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`)
          }
          const result = yield* Effect.either(plane.put(kind as EntityKind, name!, raw))
          if (result._tag === "Left") {
            return { status: 400, body: { errors: result.left.problems.map((p) => ({ path: p.path, message: p.message, source: p.file })) } }
          }
          return { status: 200, body: { version: result.right } }
        })
    }

    const remove: AdminRoute = {
      method: "DELETE",
      path: ENTITY,
      handle: (req, _res, [kind, name]) =>
        Effect.gen(function*() {
          req.resume()
          const result = yield* Effect.either(plane.remove(kind as EntityKind, name!))
          if (result._tag === "Left") {
            return { status: 400, body: { errors: result.left.problems.map((p) => ({ path: p.path, message: p.message, source: p.file })) } }
          }
          if (result.right === undefined) {
            return { status: 404, body: { error: "not_found", message: `${kind}/${name} is not in the admin layer` } }
          }
          return { status: 200, body: { version: result.right } }
        })
    }

    const stream: AdminRoute = {
      method: "GET",
      path: /^\/events$/,
      handle: (req: IncomingMessage, res: ServerResponse) =>
        Effect.scoped(Effect.gen(function*() {
          const subscription = yield* PubSub.subscribe(events)
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
          res.write(": switchyard events\n\n")
          const closed = Effect.async<void>((resume) => {
            req.socket.once("close", () => resume(Effect.void))
          })
          const heartbeat = Effect.sync(() => res.write(": keep-alive\n\n")).pipe(
            Effect.delay("15 seconds"),
            Effect.forever
          )
          const pump = Queue.take(subscription).pipe(
            Effect.tap((event) => Effect.sync(() => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`))),
            Effect.forever
          )
          yield* Effect.raceAll([closed, pump, heartbeat])
          res.end()
          return "handled" as const
        }))
    }

    return [put, remove, stream] as ReadonlyArray<AdminRoute>
  })
