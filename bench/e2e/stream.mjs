// Streaming scenario: N bytes up (a POST whose body is generated on the fly) and N bytes down (the backend
// generates them) through one proxy process, verifying byte counts and sampling the proxy's RSS.
import http from "node:http"
import { Readable, pipeline } from "node:stream"
import { memoryOf } from "./procs.mjs"
import { LOAD_HOST } from "./targets.mjs"

const CHUNK = Buffer.alloc(64 * 1024, 0x62)

function* generate(total) {
  let left = total
  while (left > 0) {
    const n = Math.min(left, CHUNK.length)
    left -= n
    yield n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n)
  }
}

const upload = ({ port, bytes, timeoutMs }) =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/api/stream/up",
      agent: false,
      headers: { host: LOAD_HOST, "content-type": "application/octet-stream", "content-length": String(bytes) }
    }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (c) => (body += c))
      res.on("end", () => {
        clearTimeout(timer)
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        let received
        try {
          received = JSON.parse(body).bytes
        } catch {
          return reject(new Error(`upload: status ${res.statusCode}, body ${body.slice(0, 300)}`))
        }
        resolve({ status: res.statusCode, sent: bytes, received, ok: res.statusCode === 200 && received === bytes, seconds })
      })
    })
    const timer = setTimeout(() => req.destroy(new Error(`upload timed out after ${timeoutMs} ms`)), timeoutMs)
    req.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    pipeline(Readable.from(generate(bytes), { objectMode: false }), req, (error) => {
      if (error) req.destroy(error)
    })
  })

const download = ({ port, bytes, timeoutMs }) =>
  new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const req = http.get({
      host: "127.0.0.1",
      port,
      path: `/api/stream/down?bytes=${bytes}`,
      agent: false,
      headers: { host: LOAD_HOST }
    }, (res) => {
      let received = 0
      res.on("data", (c) => (received += c.length))
      res.on("end", () => {
        clearTimeout(timer)
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        resolve({ status: res.statusCode, expected: bytes, received, ok: res.statusCode === 200 && received === bytes, seconds })
      })
      res.on("error", reject)
    })
    const timer = setTimeout(() => req.destroy(new Error(`download timed out after ${timeoutMs} ms`)), timeoutMs)
    req.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })

const MiB = 1024 * 1024

/** Runs upload then download through `target` ({ port, pid }); returns measurements. */
export const streamScenario = async (target, { bytes, timeoutMs = 300_000 }) => {
  const before = memoryOf(target.pid)
  let peakRss = before?.rss ?? 0
  const sampler = setInterval(() => {
    const m = memoryOf(target.pid)
    if (m?.rss > peakRss) peakRss = m.rss
  }, 100)
  try {
    const up = await upload({ port: target.port, bytes, timeoutMs }).catch((e) => ({ ok: false, error: e.message }))
    const down = await download({ port: target.port, bytes, timeoutMs }).catch((e) => ({ ok: false, error: e.message }))
    const after = memoryOf(target.pid)
    if (after?.rss > peakRss) peakRss = after.rss
    const mibps = (r) => (r.ok ? bytes / MiB / r.seconds : undefined)
    return {
      bytes,
      upload: { ...up, mibPerSecond: mibps(up) },
      download: { ...down, mibPerSecond: mibps(down) },
      rssBeforeMiB: before ? before.rss / MiB : undefined,
      peakRssSampledMiB: peakRss / MiB,
      vmHwmMiB: after?.hwm !== undefined ? after.hwm / MiB : undefined
    }
  } finally {
    clearInterval(sampler)
  }
}
