/**
 * Canonical JSON (object keys sorted): two documents that differ only in key order are the same
 * definition. Used to keep unchanged pools and listeners across reloads and to skip unchanged merges.
 *
 * Written out directly rather than through `JSON.stringify` with a replacer that rebuilds every object
 * with sorted keys: that allocated a copy of the whole document on every reload. The output is that
 * form's (`toJSON` is honoured, `undefined` and functions are left out of objects and are `null` in
 * arrays), except that keys that look like numbers sort as text, not first.
 */
export const canonical = (value: unknown): string => write(value) ?? "undefined"

const write = (value: unknown): string | undefined => {
  if (value === null || typeof value !== "object") return JSON.stringify(value)
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === "function") return write(toJSON.call(value))
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ","
      out += write(value[i]) ?? "null"
    }
    return out + "]"
  }
  const keys = Object.keys(value).sort()
  let out = "{"
  let first = true
  for (const key of keys) {
    const item = write((value as Record<string, unknown>)[key])
    if (item === undefined) continue
    out += (first ? "" : ",") + JSON.stringify(key) + ":" + item
    first = false
  }
  return out + "}"
}
