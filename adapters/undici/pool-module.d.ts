/**
 * undici's `Pool` class and its callback `request` API, by their paths. `import { Pool } from "undici"`
 * evaluates all of undici (fetch, WebSocket, the cache and mock layers…): ≈8 MiB more resident memory
 * in a proxy that needs one class and one function. undici's index is also where `request` is attached
 * to `Dispatcher.prototype`; loaded by path, it is called on the pool instead (`request.call(pool, …)`).
 * undici has no `exports` map, so these paths are public; every proxy test loads them, so a future layout
 * change fails `npm test`, not production.
 */
declare module "undici/lib/dispatcher/pool.js" {
  import { Pool } from "undici"
  export default Pool
}

declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici"
  export default function request(
    this: Dispatcher,
    options: Dispatcher.RequestOptions,
    callback: (err: Error | null, data: Dispatcher.ResponseData) => void
  ): void
}
