/**
 * The `--config` file as a configuration source: read at start, then re-read whenever it may have changed.
 * The directory is watched, not the file, because editors save by writing a new file and renaming it over
 * the old one (a watch on the old inode would go quiet). A slow stat poll backs the watch up on file
 * systems where events are lost. A snapshot is emitted only when the content changed (SHA-1).
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { watch } from "node:fs"
import { stat } from "node:fs/promises"
import { basename, dirname, resolve } from "node:path"
import { ConfigError } from "../../src/config/ConfigError.js"
import * as Load from "../../src/config/Load.js"
import type { ConfigSnapshot, ConfigSource } from "../../streams/ConfigSource.js"
import { emptyEntities, entitiesOf } from "../../streams/ConfigSource.js"

/** Reads, parses and interpolates the file; problems become part of the snapshot. */
export const read = (path: string, env: Load.Env): Effect.Effect<ConfigSnapshot> =>
  Effect.gen(function*() {
    const source = `file:${path}`
    const { text, document: doc, problems } = yield* Load.readDocument(path, env)
    const revision = createHash("sha1").update(text).digest("hex")
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
      return yield* new ConfigError({ problems: [{ file: path, path: "", message: "expected a map of keys at the top of the document" }] })
    }
    return {
      source,
      revision,
      entities: entitiesOf(doc as Record<string, unknown>),
      // interpolation problems travel with the document, so they are reported with everything else in it
      problems,
      document: doc as Record<string, unknown>
    } satisfies ConfigSnapshot
  }).pipe(
    Effect.catchAll((error) =>
      Effect.succeed({
        source: `file:${path}`,
        revision: `error:${error.problems.map((p) => p.message).join(";")}`,
        entities: emptyEntities,
        problems: error.problems,
        document: {}
      } satisfies ConfigSnapshot)
    )
  )

/** Change signals: directory watch events for this file, plus a stat poll every `pollMs`. */
const changes = (path: string, pollMs: number): Stream.Stream<void> => {
  const dir = dirname(path)
  const name = basename(path)
  const watched = Stream.asyncPush<void>((emit) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        try {
          const watcher = watch(dir, { persistent: false }, (_event, file) => {
            if (file === null || file === name) emit.single(undefined)
          })
          watcher.on("error", () => {})
          return watcher
        } catch {
          return undefined
        }
      }),
      (watcher) => Effect.sync(() => watcher?.close())
    ), { bufferSize: 1, strategy: "sliding" })
  let last = ""
  const polled = Stream.repeatEffectWithSchedule(
    Effect.promise(() => stat(path).then((s) => `${s.mtimeMs}:${s.size}:${s.ino}`, () => "missing")),
    Schedule.spaced(`${pollMs} millis`)
  ).pipe(
    Stream.filter((sig) => {
      const changed = last !== "" && sig !== last
      last = sig
      return changed
    }),
    Stream.as(undefined as void)
  )
  return Stream.merge(watched, polled)
}

export interface FileSourceOptions {
  /** Watch the file and re-read it on change (`sources.file.watch`). */
  readonly watch: boolean
  readonly env: Load.Env
  readonly pollMs?: number
}

export const make = (file: string, options: FileSourceOptions): ConfigSource => {
  const path = resolve(file)
  const first = Stream.fromEffect(read(path, options.env))
  const later = options.watch
    ? changes(path, options.pollMs ?? 2000).pipe(
      // editors write in several steps: wait for the burst to settle before reading
      Stream.debounce("10 millis"),
      Stream.mapEffect(() => read(path, options.env))
    )
    : Stream.never
  return {
    name: `file:${path}`,
    snapshots: Stream.concat(first, later).pipe(Stream.changesWith((a, b) => a.revision === b.revision))
  }
}
