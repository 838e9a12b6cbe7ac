/** The access-log port: one structured line per finished request (the pino adapter writes it). */
import * as Context from "effect/Context"

export interface AccessRecord {
  readonly requestId: string
  readonly listener: string
  readonly route: string
  readonly pool: string
  readonly upstream: string
  readonly method: string
  readonly path: string
  readonly host: string
  readonly client: string
  readonly status: number
  readonly durationMs: number
  /** Set when the exchange failed (an error code, or `aborted` / `client_closed`). */
  readonly error: string | undefined
}

export class AccessLog extends Context.Tag("switchyard/AccessLog")<AccessLog, {
  /** `undefined` when access logging is off: the request path then skips building the record. */
  readonly write: ((record: AccessRecord) => void) | undefined
}>() {}
