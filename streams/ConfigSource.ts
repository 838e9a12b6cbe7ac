/**
 * A configuration source is a `Stream` of full snapshots: it emits one when it starts and one after every
 * change, never deltas. Watch events are only signals; the source re-reads its whole state, so a missed
 * event or a deletion made while disconnected is still reflected in the next snapshot (Traefik kv.go,
 * cilium's re-list on compaction).
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Stream from "effect/Stream"
import type { ConfigProblem } from "../src/config/ConfigError.js"
import { type EntityKind, entityKinds } from "../src/config/Schema.js"

/** The dynamic entities a layer may hold, keyed by kind and then by name. Values are undecoded. */
export type DynamicEntities = { readonly [K in EntityKind]: Readonly<Record<string, unknown>> }

export interface ConfigSnapshot {
  /** e.g. `file:/etc/switchyard.yaml`, `etcd:/switchyard/`, `consul:switchyard/`, `admin`. */
  readonly source: string
  /** What identifies this state: mtime+size, the etcd header revision, `X-Consul-Index`. */
  readonly revision: string
  /** The layer's entities (only routes, pools and middlewares for KV sources). */
  readonly entities: DynamicEntities
  /**
   * Problems found while reading (a key whose value is not valid JSON/YAML, a key outside the layout).
   * A snapshot with problems makes the merged config invalid, so the last good one keeps serving.
   */
  readonly problems: ReadonlyArray<ConfigProblem>
  /**
   * Only for the base layer (the `--config` file, or the document given to `Switchyard.start`): the whole
   * document, undecoded. Listeners, admin, observability and sources come from it alone.
   */
  readonly document?: Readonly<Record<string, unknown>>
}

/** A source that could not be read; sources retry these themselves and keep their last snapshot. */
export class ConfigSourceError extends Data.TaggedError("ConfigSourceError")<{
  readonly source: string
  readonly reason: "Unreachable" | "Unauthorized" | "Compacted" | "Protocol"
  readonly cause?: unknown
}> {
  override get message() {
    return `${this.source}: ${this.reason}${this.cause instanceof Error ? `: ${this.cause.message}` : ""}`
  }
}

export interface ConfigSource {
  readonly name: string
  /** Full snapshots; the stream keeps running across outages (it retries internally). */
  readonly snapshots: Stream.Stream<ConfigSnapshot>
}

export class ConfigSources extends Context.Tag("switchyard/ConfigSources")<ConfigSources, ReadonlyArray<ConfigSource>>() {}

/** A new, writable empty map for every entity kind. */
export const emptyEntityMaps = (): Record<EntityKind, Record<string, unknown>> =>
  Object.fromEntries(entityKinds.map((kind) => [kind, {}])) as Record<EntityKind, Record<string, unknown>>

export const emptyEntities: DynamicEntities = emptyEntityMaps()

/** The entity maps of a whole document, per kind (missing or malformed ones as empty maps). */
export const entitiesOf = (document: Readonly<Record<string, unknown>>): DynamicEntities => {
  const entities = emptyEntityMaps()
  for (const kind of entityKinds) {
    const value = document[kind]
    if (value !== null && typeof value === "object" && !Array.isArray(value)) entities[kind] = value as Record<string, unknown>
  }
  return entities
}
