/**
 * A base document given as a value (`Switchyard.start(doc)`), as a configuration source. `set` replaces
 * the document, which then goes through the same merge and validation as a file edit; `handle.reload(doc)`
 * also hands the snapshot to the config plane directly (`ConfigPlane.submit`) to answer with the outcome.
 */
import * as Effect from "effect/Effect"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { canonical } from "../src/config/Canonical.js"
import { type ConfigSnapshot, type ConfigSource, entitiesOf } from "./ConfigSource.js"

export const snapshotOf = (name: string, doc: Readonly<Record<string, unknown>>): ConfigSnapshot => ({
  source: name,
  revision: canonical(doc),
  entities: entitiesOf(doc),
  problems: [],
  document: doc
})

export const make = (name: string, doc: Readonly<Record<string, unknown>>) =>
  Effect.map(SubscriptionRef.make(snapshotOf(name, doc)), (ref) => ({
    source: { name, snapshots: ref.changes } satisfies ConfigSource,
    set: (next: Readonly<Record<string, unknown>>) => SubscriptionRef.set(ref, snapshotOf(name, next))
  }))
