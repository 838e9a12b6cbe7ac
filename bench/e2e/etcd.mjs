// A single-member etcd for the dynamic-configuration scenarios (propagation, reload), launched like
// test/support/etcd.ts does: Debian's `etcd-server` binary ($ETCD_BIN, else `etcd` on PATH, else
// /usr/bin/etcd), client and peer listeners on free loopback ports, data in its own temp dir (removed on
// stop and on harness exit), the process tracked so it is killed when the harness exits. Writes go
// through the `etcd3` npm client (gRPC, one long-lived connection) rather than `etcdctl`, so a timed
// put costs a round trip, not a process spawn.
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { Etcd3 } from "etcd3"
import { freePort, sleep, stop, tail, track } from "./procs.mjs"

export const findEtcd = () => {
  const fromEnv = process.env.ETCD_BIN
  if (fromEnv && existsSync(fromEnv)) return fromEnv
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, "etcd"))) return path.join(dir, "etcd")
  }
  return existsSync("/usr/bin/etcd") ? "/usr/bin/etcd" : undefined
}

const healthy = async (url) => {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
    const body = await res.json()
    return res.ok && body.health === "true"
  } catch {
    return false
  }
}

/**
 * Starts etcd. → { endpoint, pid, child, client (Etcd3), put(key, value), revision(), stop() }
 */
export const startEtcd = async ({ readyTimeoutMs = 15_000 } = {}) => {
  const binary = findEtcd()
  if (!binary) throw new Error("etcd binary not found: apt-get install -y etcd-server, or set ETCD_BIN")
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-etcd-"))
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true })
  process.once("exit", cleanupDir)
  const clientPort = await freePort()
  let peerPort = await freePort()
  while (peerPort === clientPort) peerPort = await freePort()
  const endpoint = `http://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const child = track(spawn(binary, [
    "--name", "switchyard-bench",
    "--data-dir", path.join(dir, "member"),
    "--listen-client-urls", endpoint,
    "--advertise-client-urls", endpoint,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", `switchyard-bench=${peer}`,
    "--initial-cluster-state", "new",
    "--logger", "zap",
    "--log-level", "error",
    // one member on loopback: elect itself within ~100 ms (same flags as test/support/etcd.ts)
    "--heartbeat-interval", "10",
    "--election-timeout", "100"
  ], { stdio: ["ignore", "pipe", "pipe"] }))
  const out = tail(child.stdout)
  const err = tail(child.stderr)
  child.once("exit", cleanupDir)
  const deadline = Date.now() + readyTimeoutMs
  while (!(await healthy(endpoint))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited during start-up (code ${child.exitCode})\n${out.text}${err.text}`)
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`etcd not healthy after ${readyTimeoutMs} ms\n${out.text}${err.text}`)
    }
    await sleep(50)
  }
  const client = new Etcd3({ hosts: endpoint })
  return {
    name: "etcd",
    binary,
    endpoint,
    child,
    pid: child.pid,
    client,
    put: (key, value) => client.put(key).value(value).exec(),
    revision: async () => String((await client.get("\0").exec()).header.revision),
    stop: async () => {
      client.close()
      await stop(child)
      cleanupDir()
    }
  }
}
