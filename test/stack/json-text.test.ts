/**
 * A cached answer across the hop, without Redis (middlewares/json-text.ts): the gateway and
 * the products service in two brokers over the real NATS server, each caching in its own
 * memory. A call made with the gateway's `jsonText` option gets the page as the JSON text the
 * products node cached; every other call gets objects; the client sees the same page either
 * way, and a write shows in the next read.
 */
import type { CallingOptions } from "moleculer";
import type { Page } from "../../contracts/common";
import type { Product } from "../../contracts/products";
import { startSystem, type TestSystem } from "../helpers/system";

describe("cached answers across the hop as JSON text", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    expect(process.env.TRANSPORTER).toMatch(/^nats:/);
    // CACHER unset: the page is cached in the products broker's memory, behind the hop.
    sys = await startSystem(["api", "products", "users"], { CACHER: undefined });
    expect(sys.brokers).toHaveLength(2);
    const token = await sys.adminToken();
    for (let i = 0; i < 3; i++) {
      const created = await sys.http.post("/api/products", {
        token,
        json: { sku: `TEXT-${Date.now()}-${i}`, name: `Lamp "Élan" ${i}`, price: 1200, stock: 5 },
      });
      expect(created.status).toBe(201);
    }
  });
  afterAll(() => sys?.stop());

  const list = (opts: Record<string, unknown>) =>
    sys.broker.call<unknown, { page: number }>(
      "products.list",
      { page: 1 },
      opts as CallingOptions,
    );

  it("answers a call with the jsonText option as the cached text, and others as objects", async () => {
    const plain = (await list({})) as Page<Product>;
    expect(plain.rows.length).toBeGreaterThan(0);

    const meta: Record<string, unknown> = {};
    const text = await list({ jsonText: true, meta });
    expect(Buffer.isBuffer(text)).toBe(true);
    expect(JSON.parse((text as Buffer).toString())).toEqual(plain);
    expect(meta.$responseType).toBe("application/json; charset=utf-8");

    expect(await list({})).toEqual(plain);
  });

  it("serves the client the same page, and the page after a write", async () => {
    const first = await sys.http.get<Page<Product>>("/api/products?page=1");
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const again = await sys.http.get<Page<Product>>("/api/products?page=1");
    expect(again.body).toEqual(first.body);

    const target = first.body.rows[0];
    const token = await sys.adminToken();
    const renamed = `${target.name} (renamed)`;
    const update = await sys.http.patch(`/api/products/${target.id}`, {
      token,
      json: { name: renamed },
    });
    expect(update.status).toBe(200);
    const after = await sys.http.get<Page<Product>>("/api/products?page=1");
    expect(after.body.rows.find((p) => p.id === target.id)?.name).toBe(renamed);
  });
});
