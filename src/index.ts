/**
 * Switchyard's public API: the programmatic proxy and the plugin types for custom middleware.
 *
 * @example
 * import { Switchyard } from "switchyard"
 * const proxy = await Switchyard.start({
 *   listeners: { web: { address: "127.0.0.1:8080" } },
 *   routes: { all: { backends: [{ pool: "app" }] } },
 *   pools: { app: { servers: [{ url: "http://127.0.0.1:3000" }] } }
 * })
 */
export * as Switchyard from "./Main.js"
export type { Handler, Middleware } from "./middleware/Middleware.js"
export { chain } from "./middleware/Middleware.js"
export type { Exchange, Headers, ProxyRequest, ProxyResponse } from "./proxy/Message.js"
export { response } from "./proxy/Message.js"
export { NoHealthyBackend, RequestRejected, RouteNotFound, UpstreamError } from "./proxy/ProxyError.js"
export type { ProxyError } from "./proxy/ProxyError.js"
export { ConfigError } from "./config/ConfigError.js"
export type { ConfigProblem } from "./config/ConfigError.js"
