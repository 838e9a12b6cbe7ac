/** Starts Switchyard in-process on a config document for a test; stopped with the test's scope. */
import { Effect, type Scope } from "effect"
import { start, type Handle } from "../../src/Main.js"

/**
 * Defaults that keep tests quiet and self-contained: no admin port unless asked, silent logs. The access
 * log stays on (the contract's default), so every test also runs the code that builds its records.
 */
export const withTestDefaults = (doc: Record<string, unknown>): Record<string, unknown> => ({
  admin: { address: null },
  observability: { logs: { level: "silent", format: "json", accessLog: true }, metrics: { enabled: false } },
  ...doc
})

export const make = (doc: Record<string, unknown>): Effect.Effect<Handle, unknown, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => start(withTestDefaults(doc)), catch: (e) => e }),
    (handle) => Effect.promise(() => handle.close())
  )

/** A one-listener config on a free port routing everything to `pools`. */
export const simple = (servers: ReadonlyArray<string>, extra: Record<string, unknown> = {}) => ({
  listeners: { web: { address: "127.0.0.1:0" } },
  routes: { all: { backends: [{ pool: "app" }] } },
  pools: { app: { servers: servers.map((url) => ({ url })) } },
  ...extra
})
