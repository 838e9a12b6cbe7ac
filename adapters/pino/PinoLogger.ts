/**
 * Logs as JSON lines on stdout through pino (CONTRACT §1): Effect's logger for the control plane, and the
 * `AccessLog` port for one line per request. `format: pretty` goes through pino-pretty for humans.
 */
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Cause from "effect/Cause"
import pino from "pino"
import { AccessLog } from "../../src/observability/AccessLog.js"

export interface LogOptions {
  readonly level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent"
  readonly format: "json" | "pretty"
  readonly accessLog: boolean
}

const toPinoLevel = (level: LogLevel.LogLevel): pino.Level | undefined => {
  switch (level._tag) {
    case "Trace":
      return "trace"
    case "Debug":
      return "debug"
    case "Info":
      return "info"
    case "Warning":
      return "warn"
    case "Error":
      return "error"
    case "Fatal":
      return "fatal"
    default:
      return undefined
  }
}

const toEffectLevel = (level: LogOptions["level"]): LogLevel.LogLevel => {
  switch (level) {
    case "trace":
      return LogLevel.Trace
    case "debug":
      return LogLevel.Debug
    case "info":
      return LogLevel.Info
    case "warn":
      return LogLevel.Warning
    case "error":
      return LogLevel.Error
    case "fatal":
      return LogLevel.Fatal
    case "silent":
      return LogLevel.None
  }
}

const makePino = (options: LogOptions) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      options.format === "pretty"
        ? pino({ level: options.level, base: { name: "switchyard" } }, pino.transport({ target: "pino-pretty", options: { destination: 1 } }))
        : pino({ level: options.level, base: { name: "switchyard" } }, pino.destination({ dest: 1, sync: false }))
    ),
    (logger) => Effect.sync(() => logger.flush())
  )

/** Effect logs and access logs through one pino instance. */
export const layer = (options: LogOptions): Layer.Layer<AccessLog> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const logger = yield* makePino(options)
    const effectLogger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
      const level = toPinoLevel(logLevel)
      if (level === undefined) return
      const fields: Record<string, unknown> = {}
      for (const [key, value] of HashMap.toEntries(annotations)) fields[key] = value
      if (!Cause.isEmpty(cause)) fields["cause"] = Cause.pretty(cause)
      const now = Date.now()
      for (const span of List.toArray(spans)) fields[`span.${span.label}`] = `${now - span.startTime}ms`
      const messages = Array.isArray(message) ? message : [message]
      logger[level](fields, messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" "))
    })
    const access = logger.child({ type: "access" })
    return Layer.mergeAll(
      Logger.replace(Logger.defaultLogger, effectLogger),
      Logger.minimumLogLevel(toEffectLevel(options.level)),
      Layer.succeed(AccessLog, AccessLog.of({ write: options.accessLog ? (record) => access.info(record) : undefined }))
    )
  }))
