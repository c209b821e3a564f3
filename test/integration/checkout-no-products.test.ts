/**
 * A checkout while no products node is known (one starting, or all away) reserves nothing and
 * leaves its Idempotency-Key free: the client's retry with the same key, as docs/API.md tells it
 * to retry a 503, places the order as soon as products is back. Before, the first request's
 * order was abandoned and held the key until no late reservation could land (3 request timeouts
 * + 5 s): every retry in that half minute was another 503.
 *
 * One process; products is taken away by marking its endpoints unavailable, as moleculer marks
 * an endpoint it must not call (the circuit breaker does the same), and given back after.
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct, type Order } from "../helpers/shop";

describe("a checkout while products is away", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem(null, { SAGA_STEP_DEADLINE_MS: "500", SWEEPER_INTERVAL_MS: "50" });
  });
  afterAll(() => sys?.stop());

  /** Every endpoint of products' actions, on every broker of the system. */
  function productsEndpoints(available: boolean) {
    for (const b of sys.brokers) {
      for (const action of ["products.reserve", "products.release", "products.get"]) {
        const list = b.registry.getActionEndpoints(action) as unknown as
          { endpoints: Array<{ state: boolean }> } | undefined;
        for (const ep of list?.endpoints ?? []) ep.state = available;
      }
    }
  }

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

    productsEndpoints(false);
    let refused;
    try {
      refused = await checkout();
    } finally {
      productsEndpoints(true);
    }
    expect(refused.status).toBe(503);

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
