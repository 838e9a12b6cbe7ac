/**
 * The middleware contract (public plugin API, re-exported from `src/index.ts`).
 *
 * A middleware wraps a handler. It may
 * - continue: call `next(request)` (optionally after changing the request) and return its response,
 *   optionally changed;
 * - short-circuit: return a response without calling `next`;
 * - fail with a {@link ProxyError}, which the proxy turns into the contract's JSON error response.
 *
 * Chains are built once, when a configuration is applied, never per request.
 */
import type * as Effect from "effect/Effect"
import type { ProxyRequest, ProxyResponse } from "../proxy/Message.js"
import type { ProxyError } from "../proxy/ProxyError.js"

/**
 * Maps one request to one response. `R` lists the services it reads per request.
 *
 * @example
 * import { Effect } from "effect"
 * import type { Handler } from "switchyard"
 * const hello: Handler = () => Effect.succeed({ status: 200, headers: { "content-type": "text/plain" }, body: "hello" })
 */
export type Handler<R = never> = (request: ProxyRequest) => Effect.Effect<ProxyResponse, ProxyError, R>

/**
 * Wraps a handler. `RM` is what the middleware itself needs per request, usually `never`.
 *
 * @example
 * import { Effect } from "effect"
 * import type { Middleware } from "switchyard"
 * // adds a response header; continues to the next handler
 * const poweredBy: Middleware = (next) => (request) =>
 *   Effect.map(next(request), (response) => {
 *     response.headers["x-powered-by"] = "switchyard"
 *     return response
 *   })
 */
export type Middleware<RM = never> = <R>(next: Handler<R>) => Handler<R | RM>

/**
 * Composes middlewares: the first one sees the request first and the response last.
 *
 * @example
 * const handler = chain([auth, poweredBy])(forward)
 */
export const chain = <RM>(middlewares: ReadonlyArray<Middleware<RM>>) =>
<R>(handler: Handler<R>): Handler<R | RM> =>
  middlewares.reduceRight<Handler<R | RM>>((next, middleware) => middleware(next), handler)
