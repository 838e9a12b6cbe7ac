/** Hides secrets in config dumps (`GET /config`): passwords, tokens, inline private keys, auth users. */
const SECRET_KEYS = new Set(["password", "token", "secret", "users", "key"])
const REDACTED = "[redacted]"

const redact = (value: unknown, parentKey: string): unknown => {
  if (Array.isArray(value)) return value.map((v) => redact(v, parentKey))
  if (value === null || typeof value !== "object") return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    // `key` is a secret only as an inline PEM (tls certificates), not e.g. a rate-limit key
    const secret = SECRET_KEYS.has(k) && (k !== "key" || parentKey === "certificates")
    out[k] = secret && v !== null && v !== undefined ? REDACTED : redact(v, k)
  }
  return out
}

export const config = (value: unknown): unknown => redact(value, "")
