/**
 * A response body that is a Node `Readable` and can also write itself straight into a sink, the form in
 * which the upstream port hands over a response body.
 *
 * Why: most responses go to the client untouched, and the stream machinery between the upstream's
 * parser and the client's socket (listeners, 'data' events, the 'end' and 'close' ticks) was a
 * measurable share of the request path. The listener asks the body to deliver into its sink
 * ({@link open}); a middleware that reads the body as a stream gets an ordinary `Readable`, and the
 * body then stays one.
 */
import type { Readable } from "node:stream"

/** Where a {@link BodySource} delivers. */
export interface BodySink {
  /** One chunk. `false` asks the source to pause until {@link proceed}. */
  readonly data: (chunk: Buffer) => boolean
  /** The body is complete. */
  readonly end: () => void
  /** The body failed mid-way (upstream reset, body timeout). */
  readonly error: (cause: Error) => void
}

/** Key of {@link BodySource}'s method that starts delivery into a sink. */
export const open: unique symbol = Symbol("switchyard/BodySource.open")
/** Key of {@link BodySource}'s method that continues delivery after the sink asked for a pause. */
export const proceed: unique symbol = Symbol("switchyard/BodySource.proceed")

/**
 * A `Readable` that can deliver into a sink instead. `destroy()` abandons it either way (the upstream
 * connection is released).
 */
export interface BodySource extends Readable {
  /**
   * Starts delivery into `sink` (chunks that arrived earlier first) and returns `true`; returns `false`,
   * and delivers nothing, when the body has been used as a stream (it is then read as one).
   */
  [open](sink: BodySink): boolean
  /** Continues after the sink's `data` returned `false`. */
  [proceed](): void
}

export const isBodySource = (body: unknown): body is BodySource =>
  typeof body === "object" && body !== null && open in body
