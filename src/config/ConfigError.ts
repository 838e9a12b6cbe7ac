/** Configuration problems: each names the file, the key path, what was expected and what was found. */
import * as Data from "effect/Data"

export interface ConfigProblem {
  /** File (or source, e.g. `etcd:/switchyard/routes/api`) the problem is in. */
  readonly file: string
  /** Dotted key path, e.g. `routes.api.backends[0].pool`. `""` for the document itself. */
  readonly path: string
  /** Human sentence: what was expected and what was found. */
  readonly message: string
}

export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly problems: ReadonlyArray<ConfigProblem>
}> {
  override get message() {
    return format(this.problems)
  }
}

/** One problem per line: `file: path: message`. */
export const format = (problems: ReadonlyArray<ConfigProblem>): string =>
  problems.map((p) => `${p.file}: ${p.path === "" ? "(document)" : p.path}: ${p.message}`).join("\n")
