/**
 * Canonical JSON (object keys sorted): two documents that differ only in key order are the same
 * definition. Used to keep unchanged pools and listeners across reloads and to skip unchanged merges.
 */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v)
