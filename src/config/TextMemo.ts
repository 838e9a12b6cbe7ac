/**
 * Results kept by the text they were computed from, bounded by the total size of those texts; full, it
 * starts over. The config plane re-reads whole listings on every change, and most of each listing is
 * what it read the time before: parsing (`streams/KvLayout.ts`) and decoding (`Load.decode`) are then
 * done once per distinct text rather than once per reload.
 *
 * Kept values are shared by every config version that uses them: callers freeze them ({@link deepFreeze}).
 */
export class TextMemo<V> {
  private readonly entries = new Map<string, V>()
  private bytes = 0

  /** `maxBytes`: total text kept; a text longer than `maxBytes / 16` is never kept. */
  constructor(private readonly maxBytes: number) {}

  get(text: string): V | undefined {
    return this.entries.get(text)
  }

  set(text: string, value: V): void {
    if (text.length > this.maxBytes / 16) return
    if (this.bytes + text.length > this.maxBytes) {
      this.entries.clear()
      this.bytes = 0
    }
    this.entries.set(text, value)
    this.bytes += text.length
  }
}

/** Freezes a value and everything reachable from it, so that a shared result cannot be changed by one user. */
export const deepFreeze = (value: unknown): void => {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const child of Object.values(value)) deepFreeze(child)
}
