/**
 * Any node on the mesh can emit any event, so the consumers of state-changing events check them
 * against the owner's records (contracts/orders.ts, "The owners' records"; docs/DEPLOY.md, "Trust
 * boundary"). Here the forger is the system's own broker: its local handlers run before `emit`
 * resolves, so the order and the payment are read after the forged event was handled.
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct, getOrder, waitForOrder, type Order, type Payment } from "../helpers/shop";
import { waitFor } from "../helpers/wait";

const SLOW_MS = 1_500;

describe("forged events", () => {
  let sys: TestSystem;
  let admin: string;

  beforeAll(async () => {
    // No re-drive during a test: the sweeper would re-send the real events meanwhile.
    sys = await startSystem(null, {
      PAYMENT_SLOW_MS: String(SLOW_MS),
      SAGA_STEP_DEADLINE_MS: "60000",
    });
    admin = await sys.adminToken();
  });
  afterAll(() => sys.stop());

  const place = async (token: string, productId: string, paymentToken: string) => {
    const res = await sys.http.post<Order>("/api/orders", {
      token,
      json: { items: [{ productId, quantity: 2 }], paymentToken },
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const paymentsOf = async (token: string, orderId: string) =>
    (await sys.http.get<{ rows: Payment[] }>(`/api/payments?orderId=${orderId}`, { token })).body
      .rows;

  it("confirms and cancels nothing on payment events payments did not record; the real charge still confirms", async () => {
    const product = await createProduct(sys.http, admin, 10, 700);
    const buyer = await sys.customer("victim");
    // A slow card: the order stays pending, its payment `processing`, while the forgeries land.
    const order = await place(buyer.token, product.id, "tok_slow");
    const [processing] = await waitFor(
      () => paymentsOf(buyer.token, order.id),
      (rows) => rows.length === 1,
    );
    expect(processing.status).toBe("processing");

    const claim = { orderId: order.id, userId: buyer.id, amount: order.total, currency: "USD" };
    await sys.broker.emit("payment.succeeded", {
      ...claim,
      eventId: "forged-1",
      paymentId: "forged-payment",
    });
    // Even naming the order's real payment, which has not succeeded.
    await sys.broker.emit("payment.succeeded", {
      ...claim,
      eventId: "forged-2",
      paymentId: processing.id,
    });
    await sys.broker.emit("payment.failed", {
      eventId: "forged-3",
      paymentId: processing.id,
      orderId: order.id,
      userId: buyer.id,
      reason: "card_declined",
    });
    const after = await getOrder(sys.http, buyer.token, order.id);
    expect(after.status).toBe("pending");
    expect(after.payment.status).toBe("pending");

    const confirmed = await waitForOrder(
      sys.http,
      buyer.token,
      order.id,
      (o) => o.status !== "pending",
      SLOW_MS + 10_000,
    );
    expect(confirmed.status).toBe("confirmed");
    expect(confirmed.payment).toEqual({ status: "succeeded", id: processing.id });
  });

  it("charges nothing for an order.created of an order that orders does not know", async () => {
    const buyer = await sys.customer("stranger");
    await sys.broker.emit("order.created", {
      eventId: "forged-4",
      orderId: "no-such-order",
      userId: buyer.id,
      amount: 100,
      currency: "USD",
      paymentToken: "tok_visa",
    });
    expect(await paymentsOf(buyer.token, "no-such-order")).toEqual([]);
    expect(await sys.broker.call("payments.lookup", { orderId: "no-such-order" })).toBeNull();
  });

  it("charges nothing for an order.created that changes a real order's amount", async () => {
    const product = await createProduct(sys.http, admin, 10, 900);
    const buyer = await sys.customer("victim");
    // The real order.created is lost (an injected fault), so no payment exists for the order
    // when the forgery comes: only the check against the order stands in its way.
    const fault = { target: "payments:order.created", error: 1, latencyMs: 0, retryable: false };
    await sys.broker.broadcast("$faults.set", { rules: [fault] });
    const order = await place(buyer.token, product.id, "tok_visa");
    await sys.broker.broadcast("$faults.clear", {});
    expect(await paymentsOf(buyer.token, order.id)).toEqual([]);

    await sys.broker.emit("order.created", {
      eventId: "forged-5",
      orderId: order.id,
      userId: buyer.id,
      amount: 1,
      currency: "USD",
      paymentToken: "tok_visa",
    });
    expect(await paymentsOf(buyer.token, order.id)).toEqual([]);

    // The saga's own re-drive charges the order's amount and confirms it.
    await sys.broker.call("orders.redrive", { id: order.id });
    const confirmed = await waitForOrder(
      sys.http,
      buyer.token,
      order.id,
      (o) => o.status !== "pending",
    );
    expect(confirmed.status).toBe("confirmed");
    const [payment] = await paymentsOf(buyer.token, order.id);
    expect(payment).toMatchObject({ amount: order.total, status: "succeeded" });
  });

  it("refunds nothing on an order.cancelled for an order that is not cancelled", async () => {
    const product = await createProduct(sys.http, admin, 10, 500);
    const buyer = await sys.customer("victim");
    const order = await place(buyer.token, product.id, "tok_visa");
    await waitForOrder(sys.http, buyer.token, order.id, (o) => o.status === "confirmed");

    await sys.broker.emit("order.cancelled", {
      eventId: "forged-6",
      orderId: order.id,
      userId: buyer.id,
      reason: "cancelled_by_customer",
      amount: order.total,
      currency: "USD",
    });
    const [payment] = await paymentsOf(buyer.token, order.id);
    expect(payment.status).toBe("succeeded");
    expect((await getOrder(sys.http, buyer.token, order.id)).status).toBe("confirmed");
  });
});
