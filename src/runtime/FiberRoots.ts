/**
 * Effect keeps every fiber started with `runFork` in one global JavaScript `Set` (the "global fiber scope"
 * behind `Fiber.roots`) from its start to its end. With a fiber per request that Set sees an add and a
 * delete per request, and V8's `Set` does not cope with that churn well: each rehash leaves the previous
 * hash table behind holding the fibers it contained and a link to its successor. Once such a table has
 * been promoted to the old generation, the young-generation collector must keep every later table, every
 * fiber in them and all that a fiber still references (its request, response, sockets' buffers) until the
 * next full collection. Measured on the request path (bench/README.md, "Where the time goes"): ≈4.5 KB of
 * every request promoted, scavenges of 7–10 ms instead of ≈1.5 ms.
 *
 * `install` swaps the container for an array with O(1) swap-removal: the same fibers, the same `add`,
 * `delete` and iteration that Effect uses, no hash table. It is called from a running Effect program, so
 * Effect's runtime has created the global scope by then. Effect's own logic (add on start, delete from an
 * exit observer) is untouched. When the global scope is not what this expects (another Effect version),
 * nothing is changed and `install` says so.
 */
import { globalValue } from "effect/GlobalValue"

const GLOBAL_SCOPE = Symbol.for("effect/FiberScope/Global")
/** The fiber's position in the array, kept on the fiber so that `delete` is O(1) without a Map (a Map is a hash table too). */
const SLOT = Symbol.for("switchyard/FiberRoots/slot")

type Slotted = { [SLOT]?: number | undefined }

/** A Set-like container of the live root fibers: what Effect uses of a Set (add, delete, iteration), no hashing. */
export class RootFibers<A extends object> implements Iterable<A> {
  private readonly items: Array<A> = []

  get size(): number {
    return this.items.length
  }

  add(item: A): this {
    const slotted = item as A & Slotted
    if (slotted[SLOT] !== undefined && this.items[slotted[SLOT]] === item) return this
    slotted[SLOT] = this.items.length
    this.items.push(item)
    return this
  }

  has(item: A): boolean {
    const index = (item as A & Slotted)[SLOT]
    return index !== undefined && this.items[index] === item
  }

  delete(item: A): boolean {
    const slotted = item as A & Slotted
    const index = slotted[SLOT]
    if (index === undefined || this.items[index] !== item) return false
    const last = this.items.pop()!
    if (last !== item) {
      this.items[index] = last
      ;(last as A & Slotted)[SLOT] = index
    }
    slotted[SLOT] = undefined // not `delete`: keeps the fiber's hidden class fast
    return true
  }

  /** Iterates a copy, so that fibers ending during the iteration do not disturb it. */
  [Symbol.iterator](): Iterator<A> {
    return this.items.slice()[Symbol.iterator]()
  }
}

export type InstallResult = "installed" | "already-installed" | "unexpected-shape"

/**
 * Replaces the container of Effect's global fiber scope (idempotent, process-wide). Fibers already in it
 * are carried over.
 */
export const install = (): InstallResult => {
  let scope: { roots?: unknown } | undefined
  try {
    // a factory that throws stores nothing: Effect's own value or nothing at all
    scope = globalValue(GLOBAL_SCOPE, () => {
      throw new Error("no global fiber scope")
    }) as { roots?: unknown }
  } catch {
    return "unexpected-shape"
  }
  if (scope === null || typeof scope !== "object") return "unexpected-shape"
  const current = scope.roots
  if (current instanceof RootFibers) return "already-installed"
  if (!(current instanceof Set)) return "unexpected-shape"
  const roots = new RootFibers<object>()
  for (const fiber of current) roots.add(fiber as object)
  scope.roots = roots
  return "installed"
}

