/**
 * The route order of CONTRACT §2, as one comparator: priority (higher first); then host class for this
 * request (exact > wildcard, longer wildcard suffix first > no host condition); then longer path
 * (literal length, "/a/*" counts as "/a", a regex counts its source); then exact path > prefix > regex
 * > none; then route name (code-unit order, locale-independent); then declaration order.
 */
import type { CompiledMatch } from "../Matcher.js"

/** Host rank of a route whose exact host equals the request host; above every wildcard rank. */
export const EXACT_HOST = Number.MAX_SAFE_INTEGER
/** Host rank of a route without a host condition. */
export const ANY_HOST = 0
/** Host rank of a route matched through the wildcard "*.suffix": longer suffixes rank higher. */
export const wildcardHost = (suffix: string): number => 1 + suffix.length

export interface Rankable {
  readonly index: number
  readonly name: string
  readonly priority: number
  readonly match: CompiledMatch
}

export interface Ranked<R extends Rankable> {
  readonly route: R
  readonly hostRank: number
}

const descending = (a: number, b: number): number => (a > b ? -1 : a < b ? 1 : 0)

export const compare = <R extends Rankable>(a: Ranked<R>, b: Ranked<R>): number =>
  descending(a.route.priority, b.route.priority) ||
  descending(a.hostRank, b.hostRank) ||
  descending(a.route.match.pathLength, b.route.match.pathLength) ||
  descending(a.route.match.pathKind, b.route.match.pathKind) ||
  (a.route.name < b.route.name ? -1 : a.route.name > b.route.name ? 1 : 0) ||
  a.route.index - b.route.index

/** Sorts once (config time) and keeps only the routes, in rank order. */
export const order = <R extends Rankable>(entries: Array<Ranked<R>>): ReadonlyArray<R> =>
  entries.sort(compare).map((entry) => entry.route)
