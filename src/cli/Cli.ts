/**
 * `switchyard [run] --config FILE` and `switchyard validate --config FILE` (CONTRACT §1).
 * SIGTERM/SIGINT interrupt the main fiber: listeners stop accepting, requests in flight finish (up to
 * `shutdownTimeout`), pools close, and the process exits 0.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { ConfigError, format } from "../config/ConfigError.js"
import { loadFile, runFile } from "../Main.js"
import * as Scavenger from "./Scavenger.js"
import * as V8Flags from "./V8Flags.js"

const USAGE = `usage:
  switchyard [run] --config FILE       run the proxy
  switchyard validate --config FILE    check a config file and exit (0 valid, 1 invalid)`

interface Args {
  readonly command: "run" | "validate" | "help"
  readonly config: string | undefined
}

const parseArgs = (argv: ReadonlyArray<string>): Args | string => {
  let command: Args["command"] | undefined
  let config: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--config" || arg === "-c") {
      config = argv[++i]
      if (config === undefined) return "--config needs a file"
    } else if (arg.startsWith("--config=")) {
      config = arg.slice("--config=".length)
    } else if (arg === "--help" || arg === "-h" || arg === "help") {
      command = "help"
    } else if ((arg === "run" || arg === "validate") && command === undefined) {
      command = arg
    } else {
      return `unknown argument: ${arg}`
    }
  }
  return { command: command ?? "run", config }
}

const problems = (error: unknown) =>
  error instanceof ConfigError ? format(error.problems) : error instanceof Error ? error.message : String(error)


const main = Effect.gen(function*() {
  const args = parseArgs(process.argv.slice(2))
  if (typeof args === "string") {
    yield* Console.error(`${args}\n${USAGE}`)
    return yield* Effect.sync(() => process.exit(2))
  }
  if (args.command === "help") return yield* Console.log(USAGE)
  if (args.config === undefined) {
    yield* Console.error(`--config FILE is required\n${USAGE}`)
    return yield* Effect.sync(() => process.exit(2))
  }
  if (args.command === "validate") {
    const result = yield* Effect.either(loadFile(args.config))
    if (result._tag === "Left") {
      // the report is the command's output; also on stdout when that is not the same terminal
      yield* Console.error(problems(result.left))
      if (!process.stdout.isTTY) yield* Console.log(problems(result.left))
      return yield* Effect.sync(() => process.exit(1))
    }
    yield* Console.log(`${args.config}: valid`)
    return
  }
  const file = args.config
  const serving = Effect.sync(() => {
    V8Flags.serving()
    Scavenger.startForProcess()
  })
  yield* runFile(file, serving).pipe(
    Effect.catchAll((error) =>
      Effect.sync(() => {
        // humans read stderr; log collectors read the JSON lines on stdout
        process.stderr.write(`${problems(error)}\n`)
        process.stdout.write(`${JSON.stringify({
          level: 50,
          time: Date.now(),
          name: "switchyard",
          msg: error instanceof ConfigError ? "invalid configuration" : "cannot start",
          problems: error instanceof ConfigError ? error.problems : [{ message: problems(error) }]
        })}\n`)
        process.exit(1)
      })
    )
  )
})

NodeRuntime.runMain(main, { disablePrettyLogger: true })
