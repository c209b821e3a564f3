/**
 * The saga loses nothing when a process dies (DESIGN.md, "Events are fire-and-forget in
 * Moleculer; orders must not be"): SIGKILL a service process while orders are in flight,
 * start it again, and every order still ends confirmed or cancelled, no order is charged
 * twice, and the stock equals what the confirmed orders took.
 *
 * Charges are counted at the provider: every payments process appends each charge it accepted
 * to one charge log (PAYMENT_CHARGE_LOG), which outlives the processes.
 */
import { waitFor } from "../helpers/wait";
import {
  allSettled,
  makeProducts,
  ordersOf,
  paymentsOf,
  placeOrders,
  startShop,
  type OrderRecord,
  type PaymentRecord,
  type PlannedOrder,
  type Shop,
} from "../helpers/stack-shop";
import type { Product } from "../helpers/shop";

const INITIAL_STOCK = 500;
const TOKENS = ["tok_visa", "tok_visa", "tok_slow", "tok_visa", "tok_chargeDeclined"];

function plan(shop: Shop, products: Product[], count: number, tag: string): PlannedOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${tag}-${i}`,
    token: shop.customers[i % shop.customers.length].token,
    productId: products[i % products.length].id,
    quantity: (i % 4) + 1,
    paymentToken: TOKENS[i % TOKENS.length],
  }));
}

async function expectConsistent(shop: Shop, products: Product[], accepted: Set<string>) {
  const orders: OrderRecord[] = await waitFor(
    () => ordersOf(shop),
    (os) => allSettled(os) && [...accepted].every((id) => os.some((o) => o._id === id)),
    90_000,
    500,
  );
  expect(orders.length).toBeGreaterThan(0);
  for (const o of orders) expect(["confirmed", "cancelled"]).toContain(o.status);

  // One payment document per order at most (the unique index), and it agrees with the order.
  const payments = await paymentsOf(
    shop,
    orders.map((o) => o._id),
  );
  expect(new Set(payments.map((p) => p.orderId)).size).toBe(payments.length);
  const paymentOf = new Map(payments.map((p) => [p.orderId, p]));
  for (const o of orders) {
    const p = paymentOf.get(o._id);
    if (o.status === "confirmed") expect(p?.status).toBe("succeeded");
    else expect(["failed", "refunded", undefined]).toContain(p?.status);
  }

  // The provider's books, across every process and restart: an order whose payment succeeded
  // (or was refunded) was charged exactly once, for its amount; any other order never was.
  const chargesOf = new Map<string, number[]>();
  for (const c of shop.charges()) {
    chargesOf.set(c.idempotencyKey, [...(chargesOf.get(c.idempotencyKey) ?? []), c.amount]);
  }
  for (const o of orders) {
    const p = paymentOf.get(o._id);
    const charged = p && ["succeeded", "refunded"].includes(p.status) ? [p.amount] : [];
    expect({ order: o._id, charges: chargesOf.get(o._id) ?? [] }).toEqual({
      order: o._id,
      charges: charged,
    });
  }

  // Stock is conserved: what is gone is exactly what the confirmed orders bought.
  for (const product of products) {
    const sold = orders
      .filter((o) => o.status === "confirmed")
      .flatMap((o) => o.items)
      .filter((line) => line.productId === product.id)
      .reduce((sum, line) => sum + line.quantity, 0);
    const doc = await shop.probe.store("products").findById(product.id);
    expect(doc?.stock).toBe(INITIAL_STOCK - sold);
  }
  // Confirmed orders hold their stock, cancelled ones hold nothing any more.
  const reservations = await shop.probe
    .store("reservations")
    .find({ query: { _id: { $in: orders.map((o) => o._id) } } });
  const stateOf = new Map(reservations.map((r) => [r._id, r.state]));
  for (const o of orders) {
    expect({ order: o._id, reservation: stateOf.get(o._id) }).toEqual({
      order: o._id,
      reservation: o.status === "confirmed" ? "held" : "released",
    });
  }
  return orders;
}

describe("the saga survives a killed process", () => {
  let shop: Shop;

  beforeAll(async () => {
    shop = await startShop({ orders: ["orders"], pay: ["payments"] }, 4);
  });
  afterAll(() => shop?.stop());

  it("recovers every order when the payments process is SIGKILLed mid-flight", async () => {
    const products = await makeProducts(shop, 3, INITIAL_STOCK);
    const planned = plan(shop, products, 60, "pay-crash");
    let restarted: Promise<unknown> | null = null;
    let interrupted = "";
    const { accepted } = await placeOrders(shop.http, planned, 6, async (n) => {
      if (n === 20) {
        // Kill it in the middle of a slow charge (claimed under 1 s ago, the card takes 1.5 s),
        // so that payment is left `processing` for the restarted process to resume.
        const [slow] = await waitFor(
          async () =>
            (await shop.probe.store("payments").find({
              query: { status: "processing", paymentToken: "tok_slow" },
            })) as unknown as PaymentRecord[],
          (ps) => ps.some((p) => Date.now() - p.claimedAt < 1_000),
          20_000,
          20,
        ).then((ps) => ps.filter((p) => Date.now() - p.claimedAt < 1_000));
        interrupted = slow.orderId;
        await shop.cluster.kill("pay");
        restarted = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() =>
          shop.cluster.restart("pay"),
        );
      }
    });
    await restarted;
    expect(accepted.size).toBe(60);
    const orders = await expectConsistent(shop, products, accepted);
    expect(orders.filter((o) => o.status === "confirmed").length).toBeGreaterThan(0);
    // The interrupted charge was resumed once, by the new process, and charged once: the killed
    // attempt never reached the card, the second did.
    const [resumed] = await paymentsOf(shop, [interrupted]);
    expect(resumed).toMatchObject({ status: "succeeded", attempts: 2 });
    const charges = shop.charges().filter((c) => c.idempotencyKey === interrupted);
    expect(charges).toEqual([
      expect.objectContaining({
        orderId: interrupted,
        attempt: 2,
        pid: shop.cluster.pid("pay"),
      }),
    ]);
    // The events lost with the process were re-sent by the sweeper.
    expect(shop.cluster.nodes.get("orders")!.output.join("")).toMatch(
      /Re-driving order \S+ \(pending\): emitCreated/,
    );
  });

  it("recovers every order when the orders process is SIGKILLed mid-flight", async () => {
    const products = await makeProducts(shop, 3, INITIAL_STOCK);
    const planned = plan(shop, products, 60, "orders-crash");
    let restarted: Promise<unknown> | null = null;
    const { accepted } = await placeOrders(shop.http, planned, 6, async (n) => {
      if (n === 20) {
        await shop.cluster.kill("orders");
        restarted = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() =>
          shop.cluster.restart("orders"),
        );
      }
    });
    await restarted;
    // Requests that failed while orders was down were retried with their keys.
    expect(accepted.size).toBeGreaterThan(40);
    await expectConsistent(shop, products, accepted);
    // The restarted process picked up what the killed one left half-done.
    expect(shop.cluster.nodes.get("orders")!.output.join("")).toMatch(/Re-driving order/);
  });
});
