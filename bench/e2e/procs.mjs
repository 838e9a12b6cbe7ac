// Child-process bookkeeping for the benchmark: free ports, forked servers that report their port over
// IPC, and a registry that kills every child on exit, error, SIGINT or SIGTERM.
import { fork, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import net from "node:net"

const children = new Set()

/** Registers a child so it is killed when the harness exits. */
export const track = (child) => {
  children.add(child)
  child.once("exit", () => children.delete(child))
  return child
}

const killAllSync = () => {
  for (const child of children) {
    try {
      child.kill("SIGKILL")
    } catch {}
  }
  children.clear()
}

let installed = false
/** Installs exit/signal handlers that kill every tracked child (idempotent). */
export const installCleanup = () => {
  if (installed) return
  installed = true
  process.on("exit", killAllSync)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      process.stderr.write(`\n[bench] ${signal}: stopping children\n`)
      killAllSync()
      process.exit(130)
    })
  }
  process.on("uncaughtException", (error) => {
    process.stderr.write(`[bench] uncaught: ${error?.stack ?? error}\n`)
    killAllSync()
    process.exit(1)
  })
  process.on("unhandledRejection", (error) => {
    process.stderr.write(`[bench] unhandled rejection: ${error?.stack ?? error}\n`)
    killAllSync()
    process.exit(1)
  })
}

/** Gracefully stops a child: SIGTERM, then SIGKILL after `graceMs`. */
export const stop = (child, graceMs = 3000) =>
  new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL")
      } catch {}
    }, graceMs)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    try {
      child.kill("SIGTERM")
    } catch {
      resolve()
    }
  })

/** A port that was free a moment ago on 127.0.0.1 (bind :0, read, close). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** Keeps the last `max` characters written to a stream, for diagnostics. */
export const tail = (stream, max = 8192) => {
  const state = { text: "" }
  stream?.setEncoding("utf8")
  stream?.on("data", (chunk) => {
    state.text = (state.text + chunk).slice(-max)
  })
  return state
}

/**
 * Forks `script` with IPC; resolves with `{ child, info }` once the child sends `{ ready: true, … }`.
 * `wrap` (`[command, ...args]`) runs node under that command.
 * The child exits when the IPC channel closes (so a killed harness leaves nothing behind).
 */
export const forkServer = (script, args = [], { timeoutMs = 15000, env, wrap } = {}) =>
  new Promise((resolve, reject) => {
    const child = track(fork(script, args, {
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      env: { ...process.env, ...env },
      // `wrap`: a command that runs node (valgrind …); the IPC channel's fd passes through it
      ...(wrap ? { execPath: wrap[0], execArgv: [...wrap.slice(1), process.execPath] } : {})
    }))
    const stderr = tail(child.stderr)
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${script}: not ready after ${timeoutMs} ms\n${stderr.text}`))
    }, timeoutMs)
    child.on("message", (message) => {
      if (message && message.ready) {
        clearTimeout(timer)
        resolve({ child, info: message, stderr })
      }
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited early (code ${code}, signal ${signal})\n${stderr.text}`))
    })
  })

/** Spawns a plain command, tracked for cleanup; resolves with { code, stdout, stderr }. */
export const run = (command, args, { timeoutMs, cwd, env } = {}) =>
  new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }))
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c))
    const timer = timeoutMs ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : undefined
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })

/** Reads `VmRSS`/`VmHWM` (bytes) of a pid from /proc; undefined when unavailable. */
export const memoryOf = (pid) => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const kib = (key) => {
      const m = status.match(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, "m"))
      return m ? Number(m[1]) * 1024 : undefined
    }
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") }
  } catch {
    return undefined
  }
}

/** Is `cmd` on PATH? */
export const onPath = async (cmd) => {
  try {
    const { code } = await run("sh", ["-c", `command -v ${cmd}`], { timeoutMs: 5000 })
    return code === 0
  } catch {
    return false
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
