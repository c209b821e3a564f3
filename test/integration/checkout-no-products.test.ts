/**
 * A checkout while no products node is known (one starting, or all away) reserves nothing and
 * leaves its Idempotency-Key free: the client's retry with the same key, as docs/API.md tells it
 * to retry a 503, places the order as soon as products is back. Before, the first request's
 * order was abandoned and held the key until no late reservation could land (3 request timeouts
 * + 5 s): every retry in that half minute was another 503.
 *
 * One process; the products service is destroyed and created again on the same broker, its
 * data in files (DATA_DIR) so the product outlives it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Service, ServiceSchema } from "moleculer";
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct, type Order } from "../helpers/shop";

describe("a checkout while products is away", () => {
  let sys: TestSystem;
  let dataDir: string;
  const saved = process.env.DATA_DIR;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-no-products-"));
    process.env.DATA_DIR = dataDir;
    sys = await startSystem(null, { SAGA_STEP_DEADLINE_MS: "500", SWEEPER_INTERVAL_MS: "50" });
  });
  afterAll(async () => {
    await sys?.stop();
    if (saved === undefined) delete process.env.DATA_DIR;
    else process.env.DATA_DIR = saved;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers 503, takes nothing, and the retry with the same key places the order", async () => {
    const admin = await sys.adminToken();
    const customer = await sys.customer("no-products");
    const product = await createProduct(sys.http, admin, 10, 700);
    const checkout = () =>
      sys.http.post<Order>("/api/orders", {
        token: customer.token,
        headers: { "Idempotency-Key": "away-1" },
        json: { items: [{ productId: product.id, quantity: 2 }], paymentToken: "tok_visa" },
      });

    const products = sys.service("products") as Service;
    const schema = products.originalSchema as ServiceSchema;
    await sys.broker.destroyService(products);
    const refused = await checkout();
    expect(refused.status).toBe(503);

    sys.broker.createService(schema);
    await sys.broker.waitForServices(["products"], 10_000);
    const placed = await checkout();
    expect(placed.status).toBe(201);
    expect(placed.body.items).toEqual([
      expect.objectContaining({ productId: product.id, quantity: 2 }),
    ]);
    // Reserved once: by the retry, not also by the refused request.
    const stock = await sys.http.get<{ stock: number }>(`/api/products/${product.id}`);
    expect(stock.body.stock).toBe(8);
  });
});
