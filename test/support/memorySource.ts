/** A configuration source driven by the test: `emit` pushes a full snapshot of a KV-style layer. */
import { Effect, Queue, Stream } from "effect"
import type { ConfigSnapshot, ConfigSource, DynamicEntities } from "../../streams/ConfigSource.js"
import type { ConfigProblem } from "../../src/config/ConfigError.js"

export const make = (name: string) =>
  Effect.map(Queue.unbounded<ConfigSnapshot>(), (queue) => {
    let revision = 0
    const source: ConfigSource = { name, snapshots: Stream.fromQueue(queue) }
    return {
      source,
      emit: (entities: Partial<DynamicEntities>, problems: ReadonlyArray<ConfigProblem> = []) =>
        Queue.offer(queue, {
          source: name,
          revision: String(++revision),
          entities: { routes: {}, pools: {}, middlewares: {}, ...entities },
          problems
        })
    }
  })
