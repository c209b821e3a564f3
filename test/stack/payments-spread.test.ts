/**
 * Balanced events over NATS between real processes: two payments processes share the
 * `order.created` stream, and every order is charged exactly once, by one of them.
 */
import { waitFor } from "../helpers/wait";
import {
  allSettled,
  makeProducts,
  ordersOf,
  paymentsOf,
  placeOrders,
  startShop,
  type PlannedOrder,
  type Shop,
} from "../helpers/stack-shop";

describe("payments replicas over NATS", () => {
  let shop: Shop;

  beforeAll(async () => {
    // 100 checkouts, 8 at a time, on two products: each product's reservations queue behind
    // one another (one writer per document on the test bench's FerretDB), so a reservation can
    // outlast the 2 s step deadline of STACK_ENV on two busy cores, and the sweeper would then
    // withdraw a checkout that is still running (a 503). This test is about the charges.
    shop = await startShop({ orders: ["orders"], pay1: ["payments"], pay2: ["payments"] }, 5, {
      SAGA_STEP_DEADLINE_MS: "8000",
    });
  });
  afterAll(() => shop?.stop());

  it("charges each of 100 orders exactly once, spread over both payments processes", async () => {
    const [a, b] = await makeProducts(shop, 2, 1000);
    const planned: PlannedOrder[] = Array.from({ length: 100 }, (_, i) => ({
      key: `spread-${i}`,
      token: shop.customers[i % shop.customers.length].token,
      productId: i % 2 === 0 ? a.id : b.id,
      quantity: (i % 3) + 1,
      paymentToken: "tok_visa",
    }));
    const { accepted, statuses } = await placeOrders(shop.http, planned, 8);
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(accepted.size).toBe(100);

    const orders = await waitFor(
      () => ordersOf(shop),
      (os) => os.length === 100 && allSettled(os),
      60_000,
      500,
    );
    expect(orders.every((o) => o.status === "confirmed")).toBe(true);

    const payments = await paymentsOf(
      shop,
      orders.map((o) => o._id),
    );
    expect(payments).toHaveLength(100);
    expect(new Set(payments.map((p) => p.orderId)).size).toBe(100);
    expect(payments.every((p) => p.status === "succeeded" && p.attempts === 1)).toBe(true);

    const byNode = new Map<string, number>();
    for (const p of payments) byNode.set(p.nodeId, (byNode.get(p.nodeId) ?? 0) + 1);
    const ns = shop.cluster.namespace;
    expect([...byNode.keys()].sort()).toEqual([`${ns}-pay1`, `${ns}-pay2`]);
    for (const count of byNode.values()) expect(count).toBeGreaterThanOrEqual(10);

    const sold = (productId: string) =>
      planned.filter((p) => p.productId === productId).reduce((sum, p) => sum + p.quantity, 0);
    for (const product of [a, b]) {
      const res = await shop.http.get<{ stock: number }>(`/api/products/${product.id}`);
      expect(res.body.stock).toBe(1000 - sold(product.id));
    }
  });
});
