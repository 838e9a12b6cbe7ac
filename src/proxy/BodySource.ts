/**
 * A streamed body delivered by callbacks, the form in which the upstream port hands over a response body.
 *
 * Why not a Node `Readable` from the start: a stream per response (its state, buffer list and the
 * events of every chunk) was a measurable share of the request path, and most responses go to the
 * client untouched. The listener writes a source straight into the client's response
 * (`Dispatcher`); a middleware that reads `response.body` gets a `Readable` made on demand
 * ({@link toReadable}), with the same backpressure.
 */
import { Readable } from "node:stream"

/** Where a {@link BodySource} delivers. */
export interface BodySink {
  /** One chunk. `false` asks the source to pause until {@link BodySource.resume}. */
  readonly data: (chunk: Buffer) => boolean
  /** The body is complete. */
  readonly end: () => void
  /** The body failed mid-way (upstream reset, body timeout). */
  readonly error: (cause: Error) => void
}

/** A body that flows into one sink once opened. */
export interface BodySource {
  /** Starts delivery into `sink` (once). Chunks that arrived earlier are delivered first. */
  readonly open: (sink: BodySink) => void
  /** Continues after the sink's `data` returned `false`. */
  readonly resume: () => void
  /** Abandons the body: the sink gets nothing more and the upstream connection is released. */
  readonly destroy: () => void
}

/** A `Readable` over a source: reading resumes the source, destroying the stream destroys the source. */
export const toReadable = (source: BodySource): Readable => {
  const readable = new Readable({
    read() {
      source.resume()
    },
    destroy(error, callback) {
      source.destroy()
      callback(error)
    }
  })
  source.open({
    data: (chunk) => readable.push(chunk),
    end: () => readable.push(null),
    error: (cause) => readable.destroy(cause)
  })
  return readable
}
