/**
 * Loopback ports for processes that must be told their port in advance (the CLI under test, etcd).
 *
 * "Bind port 0, read the port, close, hand the number over" races with tests running in parallel: until
 * the child binds it, the same port can come back to anyone else's `listen(0)` (or be an outgoing
 * connection's source port). Seen here: a CLI test's port taken by another file's backend, so the CLI
 * could not bind and the backend got the CLI test's requests. These ports are picked at random *below*
 * the kernel's ephemeral range (Linux default 32768–60999), where neither can land, and each is checked
 * free by binding it.
 */
import * as net from "node:net"

const LOW = 20_000
const HIGH = 32_000

const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** `count` distinct loopback ports, free when checked, outside the ephemeral range. */
export const reservePorts = async (count: number): Promise<Array<number>> => {
  const ports: Array<number> = []
  for (let attempts = 0; ports.length < count; attempts++) {
    if (attempts > 1000) throw new Error(`no free loopback port found in ${LOW}–${HIGH}`)
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW))
    if (!ports.includes(port) && (await bindable(port))) ports.push(port)
  }
  return ports
}
