/**
 * Rate limits across real gateway processes (DESIGN.md, "Rate limiting must hold across gateway
 * replicas"): separate Node processes over NATS, counting in the stack's Redis; and, with a
 * Redis of their own that the test kills, still serving under a per-process limit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import Redis from "ioredis";
import { Cluster, freePort } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { SERVICE_SCHEMAS } from "../../services";
import { waitReady } from "../../bench/shop";

const MAX = 8;
// The test plays the load balancer in front of the gateways: it is the trusted proxy, and the
// client addresses it forwards keep the cases' counters apart.
const cluster = new Cluster({
  RATE_LIMIT_MAX: String(MAX),
  RATE_LIMIT_AUTH_MAX: "1000",
  RATE_LIMIT_WINDOW_MS: "60000",
  TRUST_PROXY: "127.0.0.1",
});

/** `GET /api/products` as the client `address` behind the proxy (optionally with a forged chain). */
function asClient(http: Client, forwardedFor: string) {
  return http.get("/api/products", { headers: { "x-forwarded-for": forwardedFor } });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch (err) {
      probe.disconnect();
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("rate limits across gateway processes (stack)", () => {
  let gw1: Client;
  let gw2: Client;

  beforeAll(async () => {
    if (!process.env.CACHER) throw new Error("the stack run sets CACHER to the shared Redis");
    const services = Object.keys(SERVICE_SCHEMAS).filter((name) => name !== "api");
    await Promise.all([
      cluster.start("services", services),
      cluster.start("gw1", ["api"]),
      cluster.start("gw2", ["api"]),
    ]);
    gw1 = client(cluster.baseUrl("gw1"));
    gw2 = client(cluster.baseUrl("gw2"));
    await Promise.all(["gw1", "gw2"].map((n) => waitReady(cluster.baseUrl(n), 30_000)));
  });
  afterAll(() => cluster.stopAll());

  it("two gateways sharing Redis allow exactly RATE_LIMIT_MAX requests per window in total", async () => {
    const address = "198.51.100.1";
    // Concurrent and spread over both replicas: each count is an atomic increment in Redis.
    const results = await Promise.all(
      Array.from({ length: 2 * MAX }, (_, i) => asClient(i % 2 === 0 ? gw1 : gw2, address)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(MAX);
    expect(statuses.filter((s) => s === 429)).toHaveLength(MAX);
    expect((await asClient(gw1, address)).status).toBe(429);
    expect((await asClient(gw2, address)).status).toBe(429);
  });

  it("a forged X-Forwarded-For entry does not reset a client's count", async () => {
    const address = "198.51.100.2";
    for (let i = 0; i < MAX; i++) expect((await asClient(gw1, address)).status).toBe(200);
    expect((await asClient(gw1, address)).status).toBe(429);
    // The client wrote its own X-Forwarded-For; the proxy appended the address it saw.
    const forged = await asClient(gw2, `203.0.113.${Math.floor(Math.random() * 200)}, ${address}`);
    expect(forged.status).toBe(429);
    // A different real client still has its own quota: the limit is per client, not global.
    expect((await asClient(gw2, "198.51.100.3")).status).toBe(200);
  });

  it("a gateway that trusts no proxy keys on the socket address, whatever the header says", async () => {
    await cluster.start("gw-direct", ["api"], { TRUST_PROXY: "" });
    const direct = client(cluster.baseUrl("gw-direct"));
    try {
      await waitReady(cluster.baseUrl("gw-direct"), 30_000);
      for (let i = 0; i < MAX; i++) {
        const res = await direct.get("/api/products", {
          headers: { "x-forwarded-for": `192.0.2.${i}` },
        });
        expect(res.status).toBe(200);
      }
      const forged = await direct.get("/api/products", {
        headers: { "x-forwarded-for": "192.0.2.250" },
      });
      expect(forged.status).toBe(429);
    } finally {
      await cluster.kill("gw-direct");
    }
  });

  describe("with Redis gone", () => {
    let redisPort: number;
    let redis: ChildProcess | null = null;
    let gw: Client;

    beforeAll(async () => {
      // A Redis of this test's own: the stack's shared one on 6379 is never stopped.
      redisPort = await freePort();
      redis = await startRedis(redisPort);
      await cluster.start("gw-own-redis", ["api"], { CACHER: `redis://127.0.0.1:${redisPort}` });
      gw = client(cluster.baseUrl("gw-own-redis"));
      await waitReady(cluster.baseUrl("gw-own-redis"), 30_000);
    });
    afterAll(async () => {
      redis?.kill("SIGKILL");
      await cluster.kill("gw-own-redis");
    });

    it("counts in Redis while it is up", async () => {
      const address = "198.51.100.10";
      for (let i = 0; i < MAX; i++) expect((await asClient(gw, address)).status).toBe(200);
      expect((await asClient(gw, address)).status).toBe(429);
      const probe = new Redis({ port: redisPort, maxRetriesPerRequest: 0 });
      try {
        const keys = await probe.keys(`*:rl:api:${address}`);
        expect(keys).toHaveLength(1);
        expect(Number(await probe.get(keys[0]))).toBe(MAX + 1);
      } finally {
        probe.disconnect();
      }
    });

    it("keeps serving, promptly, under the per-process limit once Redis is stopped", async () => {
      const stopped = new Promise((resolve) => redis!.once("exit", resolve));
      redis!.kill("SIGKILL");
      await stopped;
      redis = null;

      const address = "198.51.100.11";
      for (let i = 0; i < MAX; i++) {
        const started = Date.now();
        const res = await asClient(gw, address);
        expect([i, res.status]).toEqual([i, 200]);
        expect(Date.now() - started).toBeLessThan(2000);
      }
      const limited = await asClient(gw, address);
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ code: 429, type: "RATE_LIMITED" });
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    });
  });
});
