import { assert, describe, it } from "@effect/vitest"
import * as LoadBalancer from "../../../src/pool/LoadBalancer.js"
import * as HashKey from "../../../src/pool/internal/hashKey.js"

interface TestServer {
  readonly key: string
  readonly weight: number
  activeRequests: number
  available: boolean
}

const server = (key: string, options: Partial<Omit<TestServer, "key">> = {}): TestServer => ({
  key,
  weight: options.weight ?? 1,
  activeRequests: options.activeRequests ?? 0,
  available: options.available ?? true
})

const servers = (count: number, prefix = "s") => Array.from({ length: count }, (_, i) => server(`${prefix}${i}`))

const context = (overrides: Partial<LoadBalancer.PickContext> = {}): LoadBalancer.PickContext => ({
  clientAddress: overrides.clientAddress ?? "10.0.0.1",
  path: overrides.path ?? "/",
  headers: overrides.headers ?? {},
  query: overrides.query ?? ""
})

/** mulberry32: a small seeded PRNG so random algorithms are reproducible. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const pickKeys = (balancer: LoadBalancer.LoadBalancer<TestServer>, count: number, ctx = context()) =>
  Array.from({ length: count }, () => balancer.pick(ctx)?.key)

const tally = (keys: ReadonlyArray<string | undefined>) => {
  const result: Record<string, number> = {}
  for (const key of keys) result[String(key)] = (result[String(key)] ?? 0) + 1
  return result
}

const byClient = (ip: string) => context({ clientAddress: ip })
const keysOf = (count: number) => Array.from({ length: count }, (_, i) => `client-${i}`)

describe("LoadBalancer", () => {
  it("hasAvailable is whether pick can return a server, for every algorithm", () => {
    for (const algorithm of LoadBalancer.algorithms) {
      const list = [server("drained", { weight: 0 }), server("up")]
      const balancer = LoadBalancer.make(algorithm, "", list)
      assert.isTrue(balancer.hasAvailable(), algorithm)
      assert.strictEqual(balancer.pick(context())?.key, "up", algorithm)
      list[1]!.available = false
      assert.isFalse(balancer.hasAvailable(), algorithm)
      assert.isUndefined(balancer.pick(context()), algorithm)
    }
  })

  describe("round-robin", () => {
    it("rotates strictly over the servers", () => {
      const balancer = LoadBalancer.make("round-robin", "", servers(3))
      assert.deepStrictEqual(pickKeys(balancer, 6), ["s0", "s1", "s2", "s0", "s1", "s2"])
      assert.deepStrictEqual(tally(pickKeys(balancer, 300)), { s0: 100, s1: 100, s2: 100 })
    })

    it("skips unavailable servers and gives each available one exactly once per round", () => {
      const pool = servers(4)
      const balancer = LoadBalancer.make("round-robin", "", pool)
      pool[1]!.available = false
      for (let round = 0; round < 10; round++) {
        assert.deepStrictEqual(tally(pickKeys(balancer, 3)), { s0: 1, s2: 1, s3: 1 })
      }
      pool[1]!.available = true
      assert.deepStrictEqual(tally(pickKeys(balancer, 400)), { s0: 100, s1: 100, s2: 100, s3: 100 })
    })

    it("never picks a server of weight 0 and returns undefined when none is available", () => {
      const pool = [server("a"), server("b", { weight: 0 })]
      const balancer = LoadBalancer.make("round-robin", "", pool)
      assert.deepStrictEqual(tally(pickKeys(balancer, 10)), { a: 10 })
      pool[0]!.available = false
      assert.strictEqual(balancer.pick(context()), undefined)
      assert.strictEqual(LoadBalancer.make("round-robin", "", []).pick(context()), undefined)
    })
  })

  describe("weighted-round-robin", () => {
    it("follows the smooth weighted sequence", () => {
      const pool = [server("a", { weight: 5 }), server("b", { weight: 1 }), server("c", { weight: 1 })]
      const balancer = LoadBalancer.make("weighted-round-robin", "", pool)
      assert.deepStrictEqual(pickKeys(balancer, 7), ["a", "a", "b", "a", "c", "a", "a"])
      assert.deepStrictEqual(tally(pickKeys(balancer, 700)), { a: 500, b: 100, c: 100 })
    })

    it("skips unavailable servers and never picks weight 0", () => {
      const pool = [server("a", { weight: 3 }), server("b", { weight: 1 }), server("z", { weight: 0 })]
      const balancer = LoadBalancer.make("weighted-round-robin", "", pool)
      pool[0]!.available = false
      assert.deepStrictEqual(tally(pickKeys(balancer, 10)), { b: 10 })
      pool[1]!.available = false
      assert.strictEqual(balancer.pick(context()), undefined)
    })
  })

  describe("least-connections", () => {
    it("prefers the idle server", () => {
      const pool = [server("a", { activeRequests: 5 }), server("b", { activeRequests: 0 }), server("c", { activeRequests: 2 })]
      const balancer = LoadBalancer.make("least-connections", "", pool)
      assert.deepStrictEqual(pickKeys(balancer, 3), ["b", "b", "b"])
      pool[1]!.activeRequests = 9
      assert.strictEqual(balancer.pick(context())?.key, "c")
    })

    it("rotates among tied servers", () => {
      const pool = [server("a"), server("b"), server("c"), server("d", { activeRequests: 1 })]
      const balancer = LoadBalancer.make("least-connections", "", pool)
      assert.deepStrictEqual(pickKeys(balancer, 6), ["a", "b", "c", "a", "b", "c"])
    })

    it("follows the load as requests start", () => {
      const pool = servers(3)
      const balancer = LoadBalancer.make("least-connections", "", pool)
      for (let i = 0; i < 30; i++) balancer.pick(context())!.activeRequests++
      assert.deepStrictEqual(pool.map((s) => s.activeRequests), [10, 10, 10])
    })

    it("compares activeRequests / weight", () => {
      const pool = [server("a", { weight: 4, activeRequests: 3 }), server("b", { weight: 1, activeRequests: 1 })]
      const balancer = LoadBalancer.make("least-connections", "", pool)
      assert.strictEqual(balancer.pick(context())?.key, "a")
      const weighted = servers(0)
      weighted.push(server("heavy", { weight: 3 }), server("light", { weight: 1 }))
      const byWeight = LoadBalancer.make("least-connections", "", weighted)
      for (let i = 0; i < 400; i++) byWeight.pick(context())!.activeRequests++
      assert.deepStrictEqual(weighted.map((s) => s.activeRequests), [300, 100])
    })

    it("skips unavailable and weight-0 servers", () => {
      const pool = [server("a", { available: false }), server("b", { activeRequests: 4 }), server("z", { weight: 0 })]
      const balancer = LoadBalancer.make("least-connections", "", pool)
      assert.deepStrictEqual(pickKeys(balancer, 3), ["b", "b", "b"])
      pool[1]!.available = false
      assert.strictEqual(balancer.pick(context()), undefined)
    })
  })

  describe("power-of-two", () => {
    it("always takes the less loaded of two servers", () => {
      const pool = [server("busy", { activeRequests: 3 }), server("idle")]
      const balancer = LoadBalancer.make("power-of-two", "", pool, seeded(1))
      assert.deepStrictEqual(tally(pickKeys(balancer, 100)), { idle: 100 })
    })

    it("prefers the less loaded of two distinct random servers", () => {
      const pool = [0, 1, 2, 3, 4].map((load) => server(`load${load}`, { activeRequests: load }))
      const balancer = LoadBalancer.make("power-of-two", "", pool, seeded(42))
      const counts = tally(pickKeys(balancer, 10_000))
      // a server wins when it is drawn with a busier one: P(load k) = 2 * (4 - k) / 20
      assert.isUndefined(counts["load4"])
      assert.approximately(counts["load0"]! / 10_000, 0.4, 0.03)
      assert.approximately(counts["load1"]! / 10_000, 0.3, 0.03)
      assert.approximately(counts["load2"]! / 10_000, 0.2, 0.03)
      assert.approximately(counts["load3"]! / 10_000, 0.1, 0.03)
    })

    it("breaks ties at random", () => {
      const balancer = LoadBalancer.make("power-of-two", "", servers(2), seeded(7))
      const counts = tally(pickKeys(balancer, 10_000))
      assert.approximately(counts["s0"]! / 10_000, 0.5, 0.03)
    })

    it("draws among available servers only", () => {
      const pool = [server("a", { available: false }), server("b", { activeRequests: 9 }), server("c", { activeRequests: 9 }), server("z", { weight: 0 })]
      const balancer = LoadBalancer.make("power-of-two", "", pool, seeded(3))
      const counts = tally(pickKeys(balancer, 1000))
      assert.deepStrictEqual(Object.keys(counts).sort(), ["b", "c"])
      pool[2]!.available = false
      assert.deepStrictEqual(tally(pickKeys(balancer, 10)), { b: 10 })
      pool[1]!.available = false
      assert.strictEqual(balancer.pick(context()), undefined)
    })
  })

  describe("random", () => {
    it("spreads uniformly over equal weights", () => {
      const balancer = LoadBalancer.make("random", "", servers(3), seeded(11))
      const counts = tally(pickKeys(balancer, 30_000))
      for (const key of ["s0", "s1", "s2"]) assert.approximately(counts[key]! / 30_000, 1 / 3, 0.02)
    })

    it("spreads in proportion to weight", () => {
      const pool = [server("a", { weight: 1 }), server("b", { weight: 2 }), server("c", { weight: 7 }), server("z", { weight: 0 })]
      const balancer = LoadBalancer.make("random", "", pool, seeded(5))
      const counts = tally(pickKeys(balancer, 20_000))
      assert.approximately(counts["a"]! / 20_000, 0.1, 0.015)
      assert.approximately(counts["b"]! / 20_000, 0.2, 0.015)
      assert.approximately(counts["c"]! / 20_000, 0.7, 0.015)
      assert.isUndefined(counts["z"])
    })

    it("spreads over the available servers only", () => {
      const pool = [server("a", { weight: 1 }), server("b", { weight: 3 }), server("c", { weight: 1 })]
      const balancer = LoadBalancer.make("random", "", pool, seeded(9))
      pool[1]!.available = false
      const counts = tally(pickKeys(balancer, 10_000))
      assert.isUndefined(counts["b"])
      assert.approximately(counts["a"]! / 10_000, 0.5, 0.03)
      pool[0]!.available = false
      pool[2]!.available = false
      assert.strictEqual(balancer.pick(context()), undefined)
    })
  })

  describe("consistent-hash", () => {
    const owners = (balancer: LoadBalancer.LoadBalancer<TestServer>, keys: ReadonlyArray<string>) =>
      new Map(keys.map((key) => [key, balancer.pick(byClient(key))?.key]))

    it("sends the same key to the same server", () => {
      const balancer = LoadBalancer.make("consistent-hash", "client-ip", servers(5), seeded(1))
      for (const key of keysOf(100)) {
        const first = balancer.pick(byClient(key))?.key
        for (let i = 0; i < 5; i++) assert.strictEqual(balancer.pick(byClient(key))?.key, first)
        // a new balancer over the same servers agrees: the ring depends on identities only
        const again = LoadBalancer.make("consistent-hash", "client-ip", servers(5))
        assert.strictEqual(again.pick(byClient(key))?.key, first)
      }
    })

    it("spreads 10k keys evenly over 3 servers", () => {
      const balancer = LoadBalancer.make("consistent-hash", "client-ip", servers(3))
      const counts = tally([...owners(balancer, keysOf(10_000)).values()])
      for (const key of ["s0", "s1", "s2"]) assert.approximately(counts[key]! / 10_000, 1 / 3, 0.05)
    })

    it("spreads in proportion to weight", () => {
      const pool = [server("a", { weight: 1 }), server("b", { weight: 3 })]
      const balancer = LoadBalancer.make("consistent-hash", "client-ip", pool)
      const counts = tally([...owners(balancer, keysOf(10_000)).values()])
      assert.approximately(counts["b"]! / 10_000, 0.75, 0.05)
    })

    it("remaps about 1/5 of keys when one of 5 servers is removed, and only that server's keys", () => {
      const keys = keysOf(10_000)
      const before = owners(LoadBalancer.make("consistent-hash", "client-ip", servers(5)), keys)
      const remaining = servers(5).filter((s) => s.key !== "s2")
      const after = owners(LoadBalancer.make("consistent-hash", "client-ip", remaining), keys)
      let moved = 0
      for (const key of keys) {
        if (before.get(key) === "s2") {
          moved++
          assert.notStrictEqual(after.get(key), "s2")
        } else {
          assert.strictEqual(after.get(key), before.get(key))
        }
      }
      assert.isAtLeast(moved / keys.length, 0.15)
      assert.isAtMost(moved / keys.length, 0.25)
    })

    it("remaps about 1/(N+1) of keys, all to the new server, when one is added", () => {
      const keys = keysOf(10_000)
      const before = owners(LoadBalancer.make("consistent-hash", "client-ip", servers(4)), keys)
      const after = owners(LoadBalancer.make("consistent-hash", "client-ip", [...servers(4), server("new")]), keys)
      let moved = 0
      for (const key of keys) {
        if (after.get(key) !== before.get(key)) {
          moved++
          assert.strictEqual(after.get(key), "new")
        }
      }
      assert.isAtLeast(moved / keys.length, 0.15)
      assert.isAtMost(moved / keys.length, 0.25)
    })

    it("keeps positions stable for keyless servers identified by index when the last is removed", () => {
      const keyless = (count: number) =>
        Array.from({ length: count }, (_, i) => ({ name: `n${i}`, weight: 1, activeRequests: 0, available: true }))
      const keys = keysOf(2000)
      const before = LoadBalancer.make("consistent-hash", "client-ip", keyless(4))
      const after = LoadBalancer.make("consistent-hash", "client-ip", keyless(3))
      for (const key of keys) {
        const owner = before.pick(byClient(key))!.name
        if (owner !== "n3") assert.strictEqual(after.pick(byClient(key))!.name, owner)
      }
    })

    it("hashes on each hashOn kind", () => {
      const pool = servers(7)
      const reference = LoadBalancer.make("consistent-hash", "client-ip", pool)
      const expected = (key: string) => reference.pick(byClient(key))?.key
      const cases: ReadonlyArray<readonly [string, (key: string) => LoadBalancer.PickContext]> = [
        ["path", (key) => context({ path: `/${key}` })],
        ["header:X-User", (key) => context({ headers: { "x-user": key } })],
        ["header:x-user", (key) => context({ headers: { "x-user": [key, "other"] } })],
        ["cookie:session", (key) => context({ headers: { cookie: `theme=dark; session=${key}; lang=en` } })],
        ["cookie:session", (key) => context({ headers: { cookie: ["theme=dark", `session="${key}"`] } })],
        ["query:user", (key) => context({ query: `page=2&user=${key}&x=1` })]
      ]
      for (const [hashOn, toContext] of cases) {
        const balancer = LoadBalancer.make("consistent-hash", hashOn, pool)
        for (const key of keysOf(200)) {
          const want = hashOn === "path" ? expected(`/${key}`) : expected(key)
          // other request fields vary; only the hashOn key decides
          const ctx = toContext(key)
          assert.strictEqual(balancer.pick({ ...ctx, clientAddress: `${key}.ip` })?.key, want, `${hashOn} ${key}`)
        }
      }
    })

    it("falls back to a random available server when the key is missing", () => {
      const pool = servers(3)
      const missing = [context(), context({ headers: { cookie: "sessionx=1; other=2" } }), context({ headers: { cookie: "session=" } })]
      const balancer = LoadBalancer.make("consistent-hash", "cookie:session", pool, seeded(21))
      for (const ctx of missing) {
        const counts = tally(pickKeys(balancer, 3000, ctx))
        for (const key of ["s0", "s1", "s2"]) assert.approximately(counts[key]! / 3000, 1 / 3, 0.05)
      }
      pool[0]!.available = false
      pool[1]!.available = false
      assert.deepStrictEqual(tally(pickKeys(balancer, 20)), { s2: 20 })
      const byQuery = LoadBalancer.make("consistent-hash", "query:user", servers(3), seeded(2))
      assert.strictEqual(new Set(pickKeys(byQuery, 100, context({ query: "username=x&usr=y" }))).size, 3)
    })

    it("moves an unavailable server's keys to the next server, and back when it recovers", () => {
      const pool = servers(5)
      const balancer = LoadBalancer.make("consistent-hash", "client-ip", pool)
      const keys = keysOf(5000)
      const before = owners(balancer, keys)
      pool[3]!.available = false
      const during = owners(balancer, keys)
      const destinations = new Set<string | undefined>()
      for (const key of keys) {
        if (before.get(key) === "s3") {
          assert.notStrictEqual(during.get(key), "s3")
          destinations.add(during.get(key))
          // stable while the server is down
          assert.strictEqual(balancer.pick(byClient(key))?.key, during.get(key))
        } else {
          assert.strictEqual(during.get(key), before.get(key))
        }
      }
      // the arcs of a server with many virtual nodes fall to several successors, not one
      assert.isAbove(destinations.size, 1)
      pool[3]!.available = true
      assert.deepStrictEqual(owners(balancer, keys), before)
      for (const s of pool) s.available = false
      assert.strictEqual(balancer.pick(byClient("client-1")), undefined)
    })

    it("gives no points to weight-0 servers", () => {
      const pool = [server("a"), server("z", { weight: 0 })]
      const balancer = LoadBalancer.make("consistent-hash", "client-ip", pool)
      assert.deepStrictEqual(tally([...owners(balancer, keysOf(1000)).values()]), { a: 1000 })
    })

    it("rejects a malformed hashOn", () => {
      assert.throws(() => LoadBalancer.make("consistent-hash", "header:", servers(2)))
      assert.throws(() => LoadBalancer.make("consistent-hash", "body:x", servers(2)))
      assert.isTrue(LoadBalancer.isValidHashOn("cookie:sid"))
      assert.isFalse(LoadBalancer.isValidHashOn("ip"))
      // hashOn is ignored by the other algorithms
      assert.strictEqual(LoadBalancer.make("round-robin", "nonsense", servers(1)).pick(context())?.key, "s0")
    })
  })

  describe("hash keys", () => {
    it("parses cookie headers", () => {
      assert.strictEqual(HashKey.cookieValue("a=1; b=2", "b"), "2")
      assert.strictEqual(HashKey.cookieValue("a=1;b=2", "b"), "2")
      assert.strictEqual(HashKey.cookieValue("ab=1; b=2", "b"), "2")
      assert.strictEqual(HashKey.cookieValue("ab=1", "b"), undefined)
      assert.strictEqual(HashKey.cookieValue("B=1", "b"), undefined)
      assert.strictEqual(HashKey.cookieValue("b=\"q v\"", "b"), "q v")
      assert.strictEqual(HashKey.cookieValue("b=x=y; c=1", "b"), "x=y")
      assert.strictEqual(HashKey.cookieValue("flag; b=3", "b"), "3")
    })

    it("parses query strings", () => {
      assert.strictEqual(HashKey.queryValue("a=1&b=2", "b"), "2")
      assert.strictEqual(HashKey.queryValue("bb=1&b=2&b=3", "b"), "2")
      assert.strictEqual(HashKey.queryValue("b", "b"), "")
      assert.strictEqual(HashKey.queryValue("a=1", "b"), undefined)
      assert.strictEqual(HashKey.queryValue("b=a%20b", "b"), "a b")
      assert.strictEqual(HashKey.queryValue("b=a+b", "b"), "a b")
      assert.strictEqual(HashKey.queryValue("b=%zz", "b"), "%zz")
    })

    it("lower-cases header names", () => {
      assert.deepStrictEqual(HashKey.parse("header:X-Tenant"), { _tag: "Header", name: "x-tenant" })
      assert.deepStrictEqual(HashKey.parse("cookie:SID"), { _tag: "Cookie", name: "SID" })
    })
  })
})
