/**
 * The `headers` middleware: sets, appends and removes request and response header fields.
 * `set` replaces a field, `add` appends a value, `remove` deletes it. Always continues to the next handler.
 */
import * as Effect from "effect/Effect"
import type { HeadersMiddlewareConfig } from "../config/Schema.js"
import type { Headers } from "../proxy/Message.js"
import type { Middleware } from "./Middleware.js"

interface Ops {
  readonly remove: ReadonlyArray<string>
  readonly set: ReadonlyArray<readonly [string, string]>
  readonly add: ReadonlyArray<readonly [string, string]>
}

const compileOps = (spec: HeadersMiddlewareConfig["request"]): Ops | undefined => {
  const ops: Ops = {
    remove: spec.remove.map((n) => n.toLowerCase()),
    set: Object.entries(spec.set).map(([n, v]) => [n.toLowerCase(), v] as const),
    add: Object.entries(spec.add).map(([n, v]) => [n.toLowerCase(), v] as const)
  }
  return ops.remove.length + ops.set.length + ops.add.length === 0 ? undefined : ops
}

const apply = (ops: Ops, headers: Headers) => {
  for (const name of ops.remove) delete headers[name]
  for (const [name, value] of ops.set) headers[name] = value
  for (const [name, value] of ops.add) {
    const current = headers[name]
    headers[name] = current === undefined ? value : Array.isArray(current) ? [...current, value] : [current, value]
  }
}

/** Compiles the middleware once per config revision. */
export const make = (config: HeadersMiddlewareConfig): Middleware => {
  const request = compileOps(config.request)
  const response = compileOps(config.response)
  return (next) => (req) => {
    if (request !== undefined) apply(request, req.headers)
    const handled = next(req)
    return response === undefined ? handled : Effect.map(handled, (res) => {
      apply(response, res.headers)
      return res
    })
  }
}
