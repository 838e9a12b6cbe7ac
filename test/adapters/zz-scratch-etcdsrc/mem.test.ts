import { it } from "@effect/vitest"
import { Effect, Logger, Stream, Fiber } from "effect"
import * as EtcdConfigSource from "../../../adapters/etcd/EtcdConfigSource.js"
import * as ConsulConfigSource from "../../../adapters/consul/ConsulConfigSource.js"
it.scopedLive("mem", () => Effect.gen(function*() {
  const src = yield* EtcdConfigSource.make({ endpoints: ["http://127.0.0.1:1"], prefix: "/x/", username: null, password: null }, { backoff: { initial: "1 millis", max: "1 millis" } })
  const c = yield* ConsulConfigSource.make({ address: "http://127.0.0.1:1", prefix: "x/", token: null }, { backoff: { initial: "1 millis", max: "1 millis" }, minInterval: "1 millis" })
  let n = 0
  const counter = Logger.make(() => { n++ })
  const f = yield* Stream.merge(src.snapshots, c.snapshots).pipe(Stream.runDrain, Effect.provide(Logger.replace(Logger.defaultLogger, counter)), Effect.fork)
  for (let i = 0; i < 6; i++) {
    yield* Effect.sleep("2500 millis")
    global.gc?.()
    console.log("iter", i, "warnings", n, "heapMB", Math.round(process.memoryUsage().heapUsed / 1e6))
  }
  yield* Fiber.interrupt(f)
}), 60_000)
