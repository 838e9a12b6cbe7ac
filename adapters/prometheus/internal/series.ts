/**
 * Metric families whose per-request updates are plain number writes. prom-client's own `inc`/`observe`
 * hash the label object on every call (and `observe` allocates a closure), which measured as a visible
 * share of the request path. These families keep one small record per label set, created once when a
 * series is bound, and are rendered by prom-client's `Registry` at scrape time through the `get()`
 * interface it calls on every registered metric.
 */
import type * as Prom from "prom-client"

type Labels = Record<string, string>

interface Value {
  readonly value: number
  readonly labels: Labels
  readonly metricName?: string
}

abstract class Family<S> {
  protected readonly series = new Map<string, { readonly labels: Labels; readonly state: S }>()
  readonly aggregator = "sum" as const
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    protected readonly labelNames: ReadonlyArray<string>
  ) {}
  protected abstract init(): S
  protected abstract values(labels: Labels, state: S, out: Array<Value>): void
  /** The record of one label set (label values in `labelNames` order); created once, then reused. */
  protected bind(values: ReadonlyArray<string>): S {
    const key = values.join("\u0000")
    let entry = this.series.get(key)
    if (entry === undefined) {
      const labels: Labels = {}
      this.labelNames.forEach((name, i) => (labels[name] = values[i]!))
      entry = { labels, state: this.init() }
      this.series.set(key, entry)
    }
    return entry.state
  }
  /** Drops every series whose labels include all of `match`. */
  remove(match: Labels) {
    for (const [key, entry] of this.series) {
      if (Object.entries(match).every(([k, v]) => entry.labels[k] === v)) this.series.delete(key)
    }
  }
  get() {
    const out: Array<Value> = []
    for (const { labels, state } of this.series.values()) this.values(labels, state, out)
    return { name: this.name, help: this.help, type: this.type, values: out, aggregator: this.aggregator }
  }
}

export class Counter extends Family<{ value: number }> {
  constructor(name: string, help: string, labelNames: ReadonlyArray<string>, type: "counter" | "gauge" = "counter") {
    super(name, help, type, labelNames)
  }
  protected init() {
    return { value: 0 }
  }
  protected values(labels: Labels, state: { value: number }, out: Array<Value>) {
    out.push({ value: state.value, labels })
  }
  labels(...values: ReadonlyArray<string>): { value: number } {
    return this.bind(values)
  }
}

export class Gauge extends Counter {
  constructor(name: string, help: string, labelNames: ReadonlyArray<string>) {
    super(name, help, labelNames, "gauge")
  }
}

interface Buckets {
  readonly counts: Float64Array
  sum: number
  count: number
}

export class Histogram extends Family<Buckets> {
  constructor(name: string, help: string, labelNames: ReadonlyArray<string>, readonly bounds: ReadonlyArray<number>) {
    super(name, help, "histogram", labelNames)
  }
  protected init(): Buckets {
    return { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 }
  }
  protected values(labels: Labels, state: Buckets, out: Array<Value>) {
    let cumulative = 0
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += state.counts[i]!
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(this.bounds[i]) }, value: cumulative })
    }
    out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: state.count })
    out.push({ metricName: `${this.name}_sum`, labels, value: state.sum })
    out.push({ metricName: `${this.name}_count`, labels, value: state.count })
  }
  /** A bound series: `observe` is a bucket search and three number writes. */
  labels(...values: ReadonlyArray<string>): { readonly observe: (value: number) => void } {
    const state = this.bind(values)
    const bounds = this.bounds
    return {
      observe: (value: number) => {
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            state.counts[i]!++
            break
          }
        }
        state.sum += value
        state.count++
      }
    }
  }
}

/** Registers a family with a prom-client registry (which only needs `name` and `get()`). */
export const register = <F extends Family<unknown>>(registry: Prom.Registry, family: F): F => {
  registry.registerMetric(family as unknown as Prom.Metric)
  return family
}
