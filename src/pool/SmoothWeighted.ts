/**
 * Smooth weighted round-robin, as nginx does it (`ngx_http_upstream_get_peer`).
 *
 * Every pick adds each candidate's weight to its running `current` score, chooses the highest score
 * and subtracts the sum of the candidates' weights from the winner. Over any window of `sum(weights)`
 * picks each item is chosen exactly `weight` times, and the picks are interleaved instead of bunched:
 * weights 5, 1, 1 give `a a b a c a a`.
 *
 * An unavailable item is left out of the pick: its score is neither raised nor lowered, so the others
 * keep the sequence they would have among themselves and the item rejoins where it left off. Weights
 * that are zero, negative or not finite make an item that is never chosen.
 *
 * The scores live in a typed array and `next` iterates over it: a pick allocates nothing.
 */

/** A weighted rotation over a fixed list of items. */
export interface SmoothWeighted<T> {
  /**
   * Returns the next item, skipping those for which `available` returns false (for this pick only),
   * or `undefined` when no item with a positive weight is available.
   */
  readonly next: (available?: (item: T) => boolean) => T | undefined
}

/** Builds a rotation over `items`; the order of `items` breaks ties (earlier first). */
export const make = <T>(items: ReadonlyArray<{ readonly value: T; readonly weight: number }>): SmoothWeighted<T> => {
  const size = items.length
  const values: Array<T> = new Array(size)
  const weights = new Float64Array(size)
  const current = new Float64Array(size)
  for (let i = 0; i < size; i++) {
    const item = items[i]!
    values[i] = item.value
    weights[i] = item.weight > 0 && Number.isFinite(item.weight) ? item.weight : 0
  }
  const next = (available?: (item: T) => boolean): T | undefined => {
    let best = -1
    let bestScore = 0
    let total = 0
    for (let i = 0; i < size; i++) {
      const weight = weights[i]!
      if (weight === 0) continue
      if (available !== undefined && !available(values[i]!)) continue
      const score = current[i]! + weight
      current[i] = score
      total += weight
      if (best === -1 || score > bestScore) {
        best = i
        bestScore = score
      }
    }
    if (best === -1) return undefined
    current[best] = bestScore - total
    return values[best]
  }
  return { next }
}
