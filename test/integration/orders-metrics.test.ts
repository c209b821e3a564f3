/**
 * The saga's domain metrics on the Prometheus endpoint: every transition the saga writes passes
 * orders' `transitionApplied` once, which counts the final ones by status and reason.
 */
import type { TestSystem } from "../helpers/system";
import { createProduct, waitForOrder, type Order } from "../helpers/shop";
import { waitFor } from "../helpers/wait";

process.env.METRICS = "true";

describe("the order saga's metrics", () => {
  let sys: TestSystem;
  let port: number;

  beforeAll(async () => {
    const { freePort } = await import("../helpers/cluster");
    const { startSystem } = await import("../helpers/system");
    const { metricsPort } = await import("../../lib/metrics-reporter");
    sys = await startSystem(null, { METRICS_PORT: String(await freePort()) });
    // The endpoint of the process that runs orders and payments (with a transporter the
    // system splits them from the gateway, and their broker takes another port).
    const services = sys.brokers.find((b) => b.getLocalService("orders"))!;
    port = (await metricsPort(services))!;
  });
  afterAll(() => sys.stop());

  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  it("counts each final order once, by status and cancel reason, and each payment by outcome", async () => {
    const admin = await sys.adminToken();
    const buyer = await sys.customer("metrics");
    const product = await createProduct(sys.http, admin, 10, 500);
    const place = async (paymentToken: string) => {
      const res = await sys.http.post<Order>("/api/orders", {
        token: buyer.token,
        json: { items: [{ productId: product.id, quantity: 1 }], paymentToken },
      });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const paid = await place("tok_visa");
    const declined = await place("tok_chargeDeclined");
    await waitForOrder(sys.http, buyer.token, paid, (o) => o.status === "confirmed");
    await waitForOrder(sys.http, buyer.token, declined, (o) => o.status === "cancelled");

    // Counted right after the write the API already shows: wait for both lines.
    const text = await waitFor(
      scrape,
      (t) =>
        /status="confirmed"/.test(t) &&
        /reason="payment_declined"/.test(t) &&
        /commerce_payments_total\{outcome="card_declined"/.test(t),
      10_000,
    );
    const count = (labels: RegExp) =>
      text
        .split("\n")
        .filter((l) => l.startsWith("commerce_orders_final_total{") && labels.test(l))
        .map((l) => Number(l.split(" ").pop()));
    expect(count(/status="confirmed"/)).toEqual([1]);
    expect(count(/status="cancelled".*reason="payment_declined"/)).toEqual([1]);
    expect(text).toMatch(/^commerce_payments_total\{outcome="succeeded"[^}]*\} 1$/m);
    expect(text).toMatch(/^commerce_payments_total\{outcome="card_declined"[^}]*\} 1$/m);
  });
});
