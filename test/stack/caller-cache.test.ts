/**
 * The gateway reads cached answers of other nodes' actions from Redis itself
 * (middlewares/caller-cache.ts), and writes a hit out as the stored JSON text, unparsed.
 * Two brokers in this process, one node each, over the real NATS and Redis.
 */
import Redis from "ioredis";
import { redisOptions } from "../../moleculer.config";
import { startSystem, type TestSystem } from "../helpers/system";
import { waitFor } from "../helpers/wait";

describe("the gateway's read of the shared cache", () => {
  let gateway: TestSystem;
  let backend: TestSystem;
  let redis: Redis;

  beforeAll(async () => {
    backend = await startSystem(["users", "products"]);
    gateway = await startSystem(["api"]);
    redis = new Redis(redisOptions(process.env.CACHER!));
    await waitFor(
      async () =>
        gateway.broker.registry.getServiceList({ onlyAvailable: true }).map((s) => s.name),
      (names) => names.includes("users") && names.includes("products"),
      15_000,
    );
    const admin = await gateway.adminToken();
    for (const n of [1, 2]) {
      const res = await gateway.http.post("/api/products", {
        token: admin,
        json: { sku: `CC-${n}`, name: `Cached ${n}`, price: 10 * n, stock: 5 },
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    redis.disconnect();
    await gateway.stop();
    await backend.stop();
  });

  /** The one Redis entry of `products.list` for these params. */
  async function listEntry(pageSize: number): Promise<string> {
    const keys = await redis.keys(`MOL-${process.env.NAMESPACE}-products.list:*`);
    const mine: string[] = [];
    for (const key of keys) {
      const text = await redis.get(key);
      if (text !== null && JSON.parse(text).pageSize === pageSize) mine.push(key);
    }
    expect(mine).toHaveLength(1);
    return mine[0];
  }

  it("answers a hit with the stored bytes, as JSON, and a write is seen at once", async () => {
    const first = await fetch(`${gateway.baseUrl}/api/products?page=1&pageSize=3`);
    expect(first.status).toBe(200);
    const fresh = (await first.json()) as { rows: Array<{ id: string; name: string }> };
    expect(fresh.rows.length).toBeGreaterThan(0);

    // Spacing and key order that a parse and re-serialise would change: only the stored
    // text itself, read by the gateway, comes back like this.
    const key = await listEntry(3);
    const planted = '{ "pageSize" : 3,  "rows": [ ], "page": 1, "total": 0, "totalPages": 0 }';
    await redis.set(key, planted, "EX", 60);

    const hit = await fetch(`${gateway.baseUrl}/api/products?page=1&pageSize=3`);
    expect(hit.status).toBe(200);
    expect(hit.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await hit.text()).toBe(planted);

    // A caller that did not ask for the text (any service's ctx.call) gets the object. The
    // params are the query's strings, as the gateway passes them: the key is of the raw params.
    const viaCall = await gateway.broker.call("products.list", { page: "1", pageSize: "3" });
    expect(viaCall).toEqual(JSON.parse(planted));

    // A write cleans the entry before it answers: the next read is the catalog again.
    const admin = await gateway.adminToken();
    const target = fresh.rows[0];
    const renamed = `${target.name} (renamed)`;
    const patched = await gateway.http.patch(`/api/products/${target.id}`, {
      token: admin,
      json: { name: renamed },
    });
    expect(patched.status).toBe(200);
    const after = await gateway.http.get<{ rows: Array<{ id: string; name: string }> }>(
      "/api/products?page=1&pageSize=3",
    );
    expect(after.status).toBe(200);
    expect(after.body.rows.find((p) => p.id === target.id)?.name).toBe(renamed);
  });

  it("answers a miss from the products node, with the same bytes as the hit that follows", async () => {
    const miss = await fetch(`${gateway.baseUrl}/api/products?page=1&pageSize=4`);
    const missText = await miss.text();
    const hit = await fetch(`${gateway.baseUrl}/api/products?page=1&pageSize=4`);
    expect(hit.headers.get("content-type")).toBe(miss.headers.get("content-type"));
    expect(await hit.text()).toBe(missText);
    expect(await redis.get(await listEntry(4))).toBe(missText);
  });

  it("leaves a stored null to the callee, so the answer is the one moleculer-web gives null", async () => {
    expect((await gateway.http.get("/api/products?page=1&pageSize=5")).status).toBe(200);
    await redis.set(await listEntry(5), "null", "EX", 60);
    const res = await fetch(`${gateway.baseUrl}/api/products?page=1&pageSize=5`);
    expect(res.status).toBe(200);
    // moleculer-web ends a null answer without a body; the text path alone would send "null".
    expect(await res.text()).toBe("");
  });
});
