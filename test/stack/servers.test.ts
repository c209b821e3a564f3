/**
 * Proof that the stack run talks to the real servers it names, not to in-process stand-ins:
 * NATS carries the broker's packets, Redis holds the cache entries, FerretDB stores the data.
 */
import Redis from "ioredis";
import { MongoClient } from "mongodb";
import { redisOptions } from "../../moleculer.config";
import { startSystem, type TestSystem } from "../helpers/system";

describe("the stack run's servers", () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem(["api", "users", "products"]);
  });
  afterAll(() => sys.stop());

  it("connects the broker to NATS", async () => {
    const res = await fetch("http://127.0.0.1:8222/connz?subs=1");
    const connz = (await res.json()) as { connections: Array<{ subscriptions_list?: string[] }> };
    const subjects = connz.connections.flatMap((c) => c.subscriptions_list ?? []);
    expect(subjects.some((s) => s.startsWith(`MOL-${sys.broker.namespace}.`))).toBe(true);
  });

  it("keeps cached catalog pages in Redis", async () => {
    await sys.http.get("/api/products?page=1&pageSize=7");
    const redis = new Redis(redisOptions(process.env.CACHER!));
    try {
      const keys = await redis.keys(`MOL-${sys.broker.namespace}-products.list:*`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it("stores products in FerretDB over the MongoDB wire protocol", async () => {
    const admin = await sys.adminToken();
    const created = await sys.http.post<{ id: string }>("/api/products", {
      token: admin,
      json: { sku: "WIRE-1", name: "On the wire", price: 1, stock: 1 },
    });
    expect(created.status).toBe(201);
    const mongo = await MongoClient.connect(process.env.MONGO_URI!, { useUnifiedTopology: true });
    try {
      const build = await mongo.db().admin().buildInfo();
      expect(build).toHaveProperty("ferretdbVersion");
      const doc = await mongo.db().collection("products").findOne({ _id: created.body.id });
      expect(doc).toMatchObject({ sku: "WIRE-1" });
    } finally {
      await mongo.close();
    }
  });
});
