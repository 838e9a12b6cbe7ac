/**
 * Load balancing: which server of a pool takes the next request.
 *
 * A balancer is built once per pool revision (`make`) and `pick` runs on the hot path, so every pick
 * iterates over precomputed typed arrays and the live server objects and allocates nothing (the
 * consistent-hash key string aside). `available` and `activeRequests` are read from the servers at
 * pick time, so health changes and ejections take effect without a rebuild.
 *
 * Weights are read once, in `make`. A server whose weight is 0 (or negative, or not a number) is
 * drained: no algorithm picks it. `pick` returns `undefined` only when no server with a positive
 * weight is available.
 */
import type { Headers } from "../proxy/Message.js"
import * as SmoothWeighted from "./SmoothWeighted.js"
import { type LoadBalancer as LoadBalancerName, loadBalancers } from "../config/Schema.js"
import * as HashKey from "./internal/hashKey.js"
import { murmur3 } from "./internal/hash.js"
import * as Ring from "./internal/ring.js"

/** The `loadBalancer` values of a pool (one list, in the config schema). */
export type Algorithm = LoadBalancerName
export const algorithms: ReadonlyArray<Algorithm> = loadBalancers

/** What a balancer needs of a server. `activeRequests` and `available` change at run time (health, ejection); read them at pick time. */
export interface BalancedServer {
  readonly weight: number
  readonly activeRequests: number
  readonly available: boolean
}

/** The parts of a request a balancer may look at. */
export interface PickContext {
  readonly clientAddress: string
  readonly path: string
  readonly headers: Headers
  readonly query: string
}

export interface LoadBalancer<S extends BalancedServer> {
  /** The server for this request, or `undefined` when no server is available. */
  readonly pick: (context: PickContext) => S | undefined
  /** Whether `pick` can return a server now: one with a positive weight is available. */
  readonly hasAvailable: () => boolean
}

/** True when `hashOn` is `client-ip`, `path`, `header:NAME`, `cookie:NAME` or `query:NAME` (for config validation). */
export const isValidHashOn = (hashOn: string): boolean => HashKey.parse(hashOn) !== undefined

/**
 * Builds a balancer over `servers` (the list is copied; the server objects are read live).
 *
 * - `round-robin`: strict rotation over the available servers.
 * - `weighted-round-robin`: nginx's smooth weighted round-robin by `weight`.
 * - `least-connections`: the lowest `activeRequests / weight`; ties rotate.
 * - `power-of-two`: of two distinct random available servers, the one with fewer `activeRequests`
 *   (random tie-break).
 * - `random`: random available server, weight-proportional (uniform when the weights are equal).
 * - `consistent-hash`: a hash ring keyed by `hashOn` (`client-ip` when empty). A server's identity on
 *   the ring is its string `key` property when it has one, else its index. When the key's server is
 *   unavailable the key walks the ring to the next available server, and comes back on recovery; a
 *   request without the key goes to a random available server.
 *
 * `random` (default `Math.random`) must return numbers in [0, 1). Throws on an unknown algorithm or
 * a malformed `hashOn` for `consistent-hash`: both are meant to be rejected when config is decoded.
 */
export const make = <S extends BalancedServer>(
  algorithm: Algorithm,
  hashOn: string,
  servers: ReadonlyArray<S>,
  random: () => number = Math.random
): LoadBalancer<S> => {
  const list: ReadonlyArray<S> = servers.slice()
  const size = list.length
  const weights = new Float64Array(size)
  // cumulative[i] = sum of weights[0..i]: a weight-proportional draw is a binary search
  const cumulative = new Float64Array(size)
  let totalWeight = 0
  let uniform = true
  for (let i = 0; i < size; i++) {
    const weight = list[i]!.weight
    const positive = weight > 0 && Number.isFinite(weight) ? weight : 0
    weights[i] = positive
    totalWeight += positive
    cumulative[i] = totalWeight
    if (positive !== weights[0]) uniform = false
  }

  const eligible = (i: number): boolean => weights[i]! > 0 && list[i]!.available

  // the servers that can ever be picked, found once; availability is read live
  const pickable = list.filter((_, i) => weights[i]! > 0)
  const hasAvailable = (): boolean => {
    for (let i = 0; i < pickable.length; i++) if (pickable[i]!.available) return true
    return false
  }

  // Math.min guards against a `random` that returns 1
  const below = (bound: number): number => Math.min(bound - 1, Math.floor(random() * bound))

  const pickRandom = (): S | undefined => {
    if (totalWeight === 0) return undefined
    // Draw among all servers and keep the draw if it is available: conditioned on availability this is
    // still weight-proportional, and it is the common case. Otherwise draw again among the available.
    let drawn: number
    if (uniform) {
      drawn = below(size)
    } else {
      const target = random() * totalWeight
      let low = 0
      let high = size - 1
      while (low < high) {
        const middle = (low + high) >>> 1
        if (cumulative[middle]! <= target) low = middle + 1
        else high = middle
      }
      drawn = low
    }
    if (eligible(drawn)) return list[drawn]
    let available = 0
    for (let i = 0; i < size; i++) if (eligible(i)) available += weights[i]!
    if (available === 0) return undefined
    let target = random() * available
    let last = -1
    for (let i = 0; i < size; i++) {
      if (!eligible(i)) continue
      last = i
      target -= weights[i]!
      if (target < 0) return list[i]
    }
    return list[last]
  }

  const picker = ((): Pick<LoadBalancer<S>, "pick"> => {
    switch (algorithm) {
      case "round-robin": {
        let cursor = 0
        return {
          pick: () => {
            for (let step = 0; step < size; step++) {
              const i = cursor
              cursor = cursor + 1 === size ? 0 : cursor + 1
              if (eligible(i)) return list[i]
            }
            return undefined
          }
        }
      }

      case "weighted-round-robin": {
        const rotation = SmoothWeighted.make(list.map((server) => ({ value: server, weight: server.weight })))
        const isAvailable = (server: S): boolean => server.available
        return { pick: () => rotation.next(isAvailable) }
      }

      case "least-connections": {
        // The scan starts where the last pick left off, so equally loaded servers take turns.
        let cursor = 0
        return {
          pick: () => {
            // a/w < b/v is compared as a·v < b·w: exact for integer loads and weights, and no division
            let best = -1
            let bestActive = 0
            let bestWeight = 1
            let i = cursor
            for (let step = 0; step < size; step++) {
              const weight = weights[i]!
              if (weight > 0) {
                const server = list[i]!
                if (server.available) {
                  const active = server.activeRequests
                  if (best === -1 || active * bestWeight < bestActive * weight) {
                    best = i
                    bestActive = active
                    bestWeight = weight
                  }
                }
              }
              i = i + 1 === size ? 0 : i + 1
            }
            if (best === -1) return undefined
            cursor = best + 1 === size ? 0 : best + 1
            return list[best]
          }
        }
      }

      case "power-of-two": {
        const better = (a: number, b: number): S => {
          const loadA = list[a]!.activeRequests
          const loadB = list[b]!.activeRequests
          if (loadA < loadB) return list[a]!
          if (loadB < loadA) return list[b]!
          return random() < 0.5 ? list[a]! : list[b]!
        }
        return {
          pick: () => {
            if (size === 0) return undefined
            if (size >= 2) {
              // fast path: a distinct pair drawn among all servers, kept when both are available
              const a = below(size)
              let b = below(size - 1)
              if (b >= a) b++
              if (eligible(a) && eligible(b)) return better(a, b)
            }
            let count = 0
            for (let i = 0; i < size; i++) if (eligible(i)) count++
            if (count === 0) return undefined
            if (count === 1) {
              for (let i = 0; i < size; i++) if (eligible(i)) return list[i]
            }
            const first = below(count)
            let second = below(count - 1)
            if (second >= first) second++
            let a = -1
            let b = -1
            for (let i = 0, rank = 0; i < size; i++) {
              if (!eligible(i)) continue
              if (rank === first) a = i
              else if (rank === second) b = i
              rank++
            }
            return better(a, b)
          }
        }
      }

      case "random":
        return { pick: pickRandom }

      case "consistent-hash": {
        // a pool without hashOn hashes on the client address
        const parsed = HashKey.parse(typeof hashOn === "string" && hashOn !== "" ? hashOn : "client-ip")
        if (parsed === undefined) {
          throw new Error(
            `Invalid hashOn "${hashOn}": expected client-ip, path, header:NAME, cookie:NAME or query:NAME`
          )
        }
        const keyOf = HashKey.extractor(parsed)
        const ring = Ring.build(identities(list), weights)
        const points = ring.points.length
        const owners = ring.owners
        return {
          pick: (context) => {
            const key = keyOf(context)
            if (key === undefined || points === 0) return pickRandom()
            let at = Ring.locate(ring, murmur3(key))
            const owner = owners[at]!
            if (list[owner]!.available) return list[owner]
            // Walk clockwise to the next available server: the same one for every key of this arc, and
            // the key returns to its owner once that server is available again.
            for (let step = 1; step < points; step++) {
              at = at + 1 === points ? 0 : at + 1
              const next = owners[at]!
              if (next !== owner && list[next]!.available) return list[next]
            }
            return undefined
          }
        }
      }

      default:
        throw new Error(`Unknown load-balancing algorithm "${algorithm as string}"`)
    }
  })()
  return { pick: picker.pick, hasAvailable }
}

/** A server's ring identity: its string `key` when it has one (duplicates numbered), else its index. */
const identities = (servers: ReadonlyArray<BalancedServer>): Array<string> => {
  const seen = new Map<string, number>()
  return servers.map((server, index) => {
    const key = (server as { readonly key?: unknown }).key
    if (typeof key !== "string") return `\u0000${index}`
    const count = seen.get(key) ?? 0
    seen.set(key, count + 1)
    return count === 0 ? key : `${key}\u0000${count}`
  })
}
