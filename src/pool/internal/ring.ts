/**
 * A consistent-hash ring with virtual nodes (Karger et al.; the ketama layout).
 *
 * Each server owns `round(VIRTUAL_NODES_PER_WEIGHT × weight)` points on a 32-bit circle, and a key
 * belongs to the first point at or after its hash. A point is the hash of the server's identity and
 * the point's ordinal, never of the server's position in the list, so a server's points do not depend
 * on which other servers exist: removing a server hands only its own arcs to its neighbours (about
 * 1/N of the keys) and adding one takes about 1/(N+1), while every other key stays where it was.
 *
 * The ring is two parallel typed arrays sorted by point: a lookup is a binary search, no allocation.
 */
import { murmur3 } from "./hash.js"

/** Points per unit of weight: enough for a few percent of imbalance between servers. */
export const VIRTUAL_NODES_PER_WEIGHT = 160
/** Caps one server's points so that large weights (e.g. 1000) do not build a ring of millions. */
export const MAX_VIRTUAL_NODES = 16_384

export interface Ring {
  /** Sorted point hashes. */
  readonly points: Uint32Array
  /** `owners[i]` is the index (in the servers list) of the server owning `points[i]`. */
  readonly owners: Uint32Array
}

/** `identities[i]` names server `i` independently of its position; weights ≤ 0 get no points. */
export const build = (identities: ReadonlyArray<string>, weights: ArrayLike<number>): Ring => {
  const counts: Array<number> = []
  let total = 0
  for (let i = 0; i < identities.length; i++) {
    const weight = weights[i]!
    const count = weight > 0
      ? Math.min(MAX_VIRTUAL_NODES, Math.max(1, Math.round(VIRTUAL_NODES_PER_WEIGHT * weight)))
      : 0
    counts.push(count)
    total += count
  }
  // point × 2^20 + owner is exact in a double (52 bits), so one numeric typed-array sort orders the
  // points and keeps each one's owner; equal points (rare) are ordered by owner.
  const OWNER_SPACE = 1 << 20
  const packed = new Float64Array(total)
  let n = 0
  for (let owner = 0; owner < identities.length; owner++) {
    const identity = identities[owner]!
    for (let v = 0; v < counts[owner]!; v++) {
      packed[n++] = murmur3(`${identity}#${v}`) * OWNER_SPACE + owner
    }
  }
  packed.sort()
  const points = new Uint32Array(total)
  const owners = new Uint32Array(total)
  for (let i = 0; i < total; i++) {
    const value = packed[i]!
    const owner = value % OWNER_SPACE
    owners[i] = owner
    points[i] = (value - owner) / OWNER_SPACE
  }
  return { points, owners }
}

/** Index of the first point at or after `hash`, wrapping to 0; the ring must not be empty. */
export const locate = (ring: Ring, hash: number): number => {
  const points = ring.points
  let low = 0
  let high = points.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (points[middle]! < hash) low = middle + 1
    else high = middle
  }
  return low === points.length ? 0 : low
}
