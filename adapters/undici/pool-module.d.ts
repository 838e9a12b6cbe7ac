/**
 * undici's `Pool` class by its path. `import { Pool } from "undici"` evaluates all of undici (fetch,
 * WebSocket, the cache and mock layers…): ≈8 MiB more resident memory in a proxy that needs one class
 * (requests go through `Pool#dispatch` with the adapter's own handler). undici has no `exports` map, so
 * the path is public; every proxy test loads it, so a future layout change fails `npm test`, not production.
 */
declare module "undici/lib/dispatcher/pool.js" {
  import { Pool } from "undici"
  export default Pool
}
