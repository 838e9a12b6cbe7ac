/**
 * Durations as users write them: a string with a unit (`250ms`, `5s`, `1.5s`, `1m`, `1h`, or a sequence such
 * as `1m30s`, as in Go and Traefik) or a non-negative number of milliseconds. Decoded to milliseconds.
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

const SEQUENCE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g

/** The longest duration: Node's timers hold at most 2^31 − 1 ms (≈24.8 days) and fire at once beyond it. */
export const MAX_MS = 2_147_483_647

/** What a duration looks like, for problem messages. */
export const expected = `a duration such as "250ms", "5s" or a number of milliseconds`

/** Milliseconds from a duration string (`"1.5s"` → 1500), or `undefined` when it is not one. */
export const parse = (text: string): number | undefined => {
  if (!SEQUENCE.test(text)) return undefined
  let total = 0
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit!]!
  }
  return Number.isFinite(total) ? total : undefined
}

/** The shortest exact way to write `ms` with a single unit: `30000` → `"30s"`, `250` → `"250ms"`. */
export const format = (ms: number): string => {
  if (ms > 0 && Number.isInteger(ms)) {
    if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
    if (ms % 60_000 === 0) return `${ms / 60_000}m`
    if (ms % 1_000 === 0) return `${ms / 1_000}s`
  }
  return `${ms}ms`
}

const show = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u === "number") return String(u)
  if (u === null) return "null"
  if (Array.isArray(u)) return "a list"
  return typeof u === "object" ? "a map" : String(u)
}

const tooLong = (input: unknown) => `expected a duration of at most 596h (${MAX_MS}ms, Node's timer limit), found ${show(input)}`

/** Milliseconds: a finite non-negative number, at most `MAX_MS`. */
const Milliseconds = Schema.Number.pipe(
  Schema.filter((n) => (Number.isFinite(n) && n >= 0 && n <= MAX_MS) || (n > MAX_MS ? tooLong(n) : `expected ${expected}, found ${show(n)}`))
)

/** A duration: `"250ms"`, `"5s"`, `"1.5s"`, `"1m"`, `"1h"`, `"1m30s"` or a number of milliseconds; decodes to milliseconds. */
export const Duration = Schema.transformOrFail(
  Schema.Union(Schema.String, Schema.Number).annotations({
    message: (issue) => `expected ${expected}, found ${show(issue.actual)}`,
    jsonSchema: {
      anyOf: [
        { type: "string", pattern: SEQUENCE.source },
        { type: "number", minimum: 0, maximum: MAX_MS }
      ]
    }
  }),
  Milliseconds,
  {
    strict: true,
    decode: (input, _, ast) => {
      const ms = typeof input === "number" ? (Number.isFinite(input) && input >= 0 ? input : undefined) : parse(input)
      if (ms === undefined) return ParseResult.fail(new ParseResult.Type(ast, input, `expected ${expected}, found ${show(input)}`))
      return ms > MAX_MS ? ParseResult.fail(new ParseResult.Type(ast, input, tooLong(input))) : ParseResult.succeed(ms)
    },
    encode: (ms) => ParseResult.succeed(format(ms))
  }
).annotations({
  description: `A duration: a string with a unit ("250ms", "5s", "1.5s", "1m", "1h", "1m30s") or a number of milliseconds`
})
export type Duration = typeof Duration.Type
