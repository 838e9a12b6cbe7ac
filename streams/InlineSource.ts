/**
 * A base document given as a value (`Switchyard.start(doc)`), as a configuration source. `set` replaces
 * the document (`handle.reload(doc)`), which then goes through the same merge and validation as a file edit.
 */
import { Effect, SubscriptionRef } from "effect"
import { canonical } from "../src/pool/Pool.js"
import type { ConfigSnapshot, ConfigSource } from "./ConfigSource.js"

const snapshotOf = (name: string, doc: Readonly<Record<string, unknown>>): ConfigSnapshot => {
  const pick = (key: string) => {
    const v = doc[key]
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {}
  }
  return {
    source: name,
    revision: canonical(doc),
    entities: { routes: pick("routes"), pools: pick("pools"), middlewares: pick("middlewares") },
    problems: [],
    document: doc
  }
}

export const make = (name: string, doc: Readonly<Record<string, unknown>>) =>
  Effect.map(SubscriptionRef.make(snapshotOf(name, doc)), (ref) => ({
    source: { name, snapshots: ref.changes } satisfies ConfigSource,
    set: (next: Readonly<Record<string, unknown>>) => SubscriptionRef.set(ref, snapshotOf(name, next))
  }))
