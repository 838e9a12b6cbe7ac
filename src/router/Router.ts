/**
 * The route table: `compile` turns the routes of one config revision into an immutable table whose
 * `match` is the per-request lookup.
 *
 * Design. Routes are indexed by host so a lookup never looks at (let alone runs the regexes of) a route
 * whose host cannot match:
 * - exact hosts → for every exact host named in the config, the full candidate list (its exact routes,
 *   the wildcard routes covering it, the host-less routes) is merged and sorted at compile time, so the
 *   common case is one `Map.get`;
 * - wildcard suffixes → `Map` keyed by the suffix ("*.example.com" → "example.com"); for any other host
 *   the request host's label suffixes are walked (longest first), merged with the host-less list and
 *   sorted once, and the result is kept in a small FIFO cache keyed by host;
 * - host-less routes → one sorted list, used as is when no host-specific route applies.
 * Within a candidate list the first route, in rank order (see `internal/rank.ts`), whose method, path,
 * headers and query all hold wins. The query string is parsed at most once per lookup, and only when a
 * candidate that got that far has query conditions. Routes with a literal (or no) path return a
 * precomputed `RouteMatch`, so a hit on them allocates nothing.
 */
import type { Headers } from "../proxy/Message.js"
import * as Matcher from "./Matcher.js"
import * as Rank from "./internal/rank.js"

export type { Condition, MatchSpec } from "./Matcher.js"

/** One route to compile; `value` is what a match hands back (typically the compiled route). */
export interface RouteSpec<A> {
  readonly name: string
  readonly priority: number
  readonly match: Matcher.MatchSpec
  readonly value: A
}

/** What the router looks at. `host` is already lower-case, without port or trailing dot; `query` has no `?`. */
export interface RouteInput {
  readonly host: string
  readonly path: string
  readonly method: string
  readonly headers: Headers
  readonly query: string
}

export interface RouteMatch<A> {
  readonly value: A
  readonly name: string
  /** The path prefix matched: for "/a/*" → "/a", for exact "/a" → "/a", for a regex whose match starts at 0 → the matched text, else "". */
  readonly prefix: string
}

export interface RouteTable<A> {
  /** The best route for this request, or `undefined` (→ 404 `no_route`). */
  readonly match: (input: RouteInput) => RouteMatch<A> | undefined
  /** Number of routes compiled into the table. */
  readonly size: number
}

interface CompiledRoute<A> extends Rank.Rankable {
  readonly value: A
  /** Shared result for routes whose prefix does not depend on the request path. */
  readonly fixed: RouteMatch<A> | undefined
}

/** Upper bound of the per-table cache of candidate lists for hosts not named exactly in the config. */
const HOST_CACHE_SIZE = 1024

/**
 * Compiles routes into a table. Everything the lookup needs (regexes, host indexes, ordered candidate
 * lists) is built here. Throws on an invalid regex: validate first (`Matcher.validateMatch`).
 */
export const compile = <A>(routes: ReadonlyArray<RouteSpec<A>>): RouteTable<A> => {
  const hostless: Array<Rank.Ranked<CompiledRoute<A>>> = []
  const byExactHost = new Map<string, Array<CompiledRoute<A>>>()
  const byWildcard = new Map<string, Array<CompiledRoute<A>>>()

  routes.forEach((spec, index) => {
    const match = Matcher.compileMatch(spec.match)
    const fixed = match.pathKind === Matcher.PathKind.Regex
      ? undefined
      : Object.freeze({ value: spec.value, name: spec.name, prefix: match.pathLiteral })
    const route: CompiledRoute<A> = { index, name: spec.name, priority: spec.priority, match, value: spec.value, fixed }
    const hosts = spec.match.hosts
    if (hosts === undefined || hosts.length === 0) {
      hostless.push({ route, hostRank: Rank.ANY_HOST })
      return
    }
    for (const host of hosts) {
      const pattern = Matcher.parseHost(host)
      const hostIndex = pattern._tag === "Exact" ? byExactHost : byWildcard
      const key = pattern._tag === "Exact" ? pattern.host : pattern.suffix
      const bucket = hostIndex.get(key)
      if (bucket === undefined) hostIndex.set(key, [route])
      else if (!bucket.includes(route)) bucket.push(route)
    }
  })

  const hostlessOrdered = Rank.order(hostless)

  // Merges the candidates for one host; returns the host-less list itself when nothing host-specific applies.
  const merge = (host: string): ReadonlyArray<CompiledRoute<A>> => {
    const seen = new Set<CompiledRoute<A>>()
    const entries: Array<Rank.Ranked<CompiledRoute<A>>> = []
    for (const route of byExactHost.get(host) ?? []) {
      seen.add(route)
      entries.push({ route, hostRank: Rank.EXACT_HOST })
    }
    // longest suffix first, so a route reached through several wildcards keeps its best rank
    for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
      const suffix = host.slice(dot + 1)
      const bucket = byWildcard.get(suffix)
      if (bucket === undefined) continue
      const hostRank = Rank.wildcardHost(suffix)
      for (const route of bucket) {
        if (seen.has(route)) continue
        seen.add(route)
        entries.push({ route, hostRank })
      }
    }
    if (entries.length === 0) return hostlessOrdered
    return Rank.order(entries.concat(hostless))
  }

  const exactLists = new Map<string, ReadonlyArray<CompiledRoute<A>>>()
  for (const host of byExactHost.keys()) exactLists.set(host, merge(host))
  const hasWildcards = byWildcard.size > 0
  const cache = new Map<string, ReadonlyArray<CompiledRoute<A>>>()

  const candidatesFor = (host: string): ReadonlyArray<CompiledRoute<A>> => {
    const exact = exactLists.get(host)
    if (exact !== undefined) return exact
    if (!hasWildcards) return hostlessOrdered
    const cached = cache.get(host)
    if (cached !== undefined) return cached
    const merged = merge(host)
    if (cache.size >= HOST_CACHE_SIZE) cache.delete(cache.keys().next().value!)
    cache.set(host, merged)
    return merged
  }

  const match = (input: RouteInput): RouteMatch<A> | undefined => {
    const candidates = candidatesFor(input.host)
    const method = input.method
    const path = input.path
    let params: URLSearchParams | undefined = undefined
    for (let i = 0; i < candidates.length; i++) {
      const route = candidates[i]!
      const m = route.match
      if (m.methods !== undefined && !Matcher.matchesMethod(m.methods, method)) continue
      if (m.pathKind !== Matcher.PathKind.None && !Matcher.matchesPath(m, path)) continue
      if (m.headers !== undefined && !Matcher.matchesHeaders(m.headers, input.headers)) continue
      if (m.query !== undefined) {
        if (params === undefined) params = new URLSearchParams(input.query)
        if (!Matcher.matchesQuery(m.query, params)) continue
      }
      return route.fixed ?? { value: route.value, name: route.name, prefix: Matcher.matchedPrefix(m, path) }
    }
    return undefined
  }

  return { match, size: routes.length }
}
