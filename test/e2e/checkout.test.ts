/**
 * The checkout saga end to end through HTTP: orders, payments, stock and notifications as a
 * customer sees them. Short saga timings keep the timeout cases quick.
 */
import { startSystem, type TestSystem } from "../helpers/system";
import { waitFor } from "../helpers/wait";
import {
  createProduct,
  getOrder,
  stockOf,
  waitForOrder,
  type ErrorBody,
  type Notification,
  type Order,
  type Payment,
} from "../helpers/shop";

const PAYMENT_TIMEOUT_MS = 2_000;
const SLOW_MS = 4_000;
const STEP_DEADLINE_MS = 500;

describe("checkout through the gateway", () => {
  let sys: TestSystem;
  let admin: string;

  beforeAll(async () => {
    process.env.ORDER_PAYMENT_TIMEOUT_MS = String(PAYMENT_TIMEOUT_MS);
    process.env.SWEEPER_INTERVAL_MS = "50";
    process.env.SAGA_STEP_DEADLINE_MS = String(STEP_DEADLINE_MS);
    process.env.PAYMENT_SLOW_MS = String(SLOW_MS);
    sys = await startSystem();
    admin = await sys.adminToken();
  });
  afterAll(() => sys.stop());

  const order = (
    token: string,
    items: Array<{ productId: string; quantity: number }>,
    paymentToken = "tok_visa",
    headers: Record<string, string> = {},
  ) => sys.http.post<Order>("/api/orders", { token, headers, json: { items, paymentToken } });

  const payments = async (token: string, orderId: string) =>
    (await sys.http.get<{ rows: Payment[] }>(`/api/payments?orderId=${orderId}`, { token })).body
      .rows;

  const notifications = async (token: string, query = "") =>
    (
      await sys.http.get<{ rows: Notification[]; total: number }>(`/api/notifications${query}`, {
        token,
      })
    ).body;

  it("confirms a paid order: stock down, one payment, an order_confirmed notification", async () => {
    const product = await createProduct(sys.http, admin, 10, 1299);
    const buyer = await sys.customer("buyer");

    const placed = await order(buyer.token, [{ productId: product.id, quantity: 3 }]);
    expect(placed.status).toBe(201);
    expect(placed.headers.get("location")).toBe(`/api/orders/${placed.body.id}`);
    expect(placed.body).toMatchObject({
      userId: buyer.id,
      status: "pending",
      total: 3897,
      currency: "USD",
      items: [
        { productId: product.id, sku: product.sku, unitPrice: 1299, quantity: 3, lineTotal: 3897 },
      ],
    });
    expect(await stockOf(sys.http, product.id)).toBe(7);

    const confirmed = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.status === "confirmed",
    );
    expect(confirmed.payment.status).toBe("succeeded");
    expect(confirmed.history.map((h) => h.status)).toEqual(["pending", "confirmed"]);
    expect(confirmed).not.toHaveProperty("paymentToken");
    expect(confirmed).not.toHaveProperty("idemKey");

    const paid = await payments(buyer.token, placed.body.id);
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ amount: 3897, currency: "USD", status: "succeeded" });
    expect(confirmed.payment.id).toBe(paid[0].id);

    const inbox = await waitFor(
      () => notifications(buyer.token),
      (n) => n.rows.some((r) => r.type === "order_confirmed"),
    );
    expect(inbox.rows.map((r) => r.type)).toEqual(["order_confirmed", "welcome"]);
    expect(await stockOf(sys.http, product.id)).toBe(7);
    // The product never shows which orders hold its stock.
    const shown = await sys.http.get<Record<string, unknown>>(`/api/products/${product.id}`);
    expect(shown.body).not.toHaveProperty("reserved");
  });

  it("cancels a declined order with payment_declined and puts its stock back", async () => {
    const product = await createProduct(sys.http, admin, 5);
    const buyer = await sys.customer();
    const placed = await order(
      buyer.token,
      [{ productId: product.id, quantity: 2 }],
      "tok_chargeDeclined",
    );
    expect(placed.status).toBe(201);

    const cancelled = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.status === "cancelled",
    );
    expect(cancelled.cancelReason).toBe("payment_declined");
    expect(cancelled.payment.status).toBe("failed");
    expect(cancelled.history.map((h) => [h.status, h.reason])).toEqual([
      ["pending", undefined],
      ["cancelled", "payment_declined"],
    ]);
    await waitFor(
      () => stockOf(sys.http, product.id),
      (s) => s === 5,
    );
    expect(await payments(buyer.token, placed.body.id)).toMatchObject([
      { status: "failed", failureReason: "card_declined" },
    ]);
  });

  it("refunds a confirmed order the customer cancels and restores its stock once", async () => {
    const product = await createProduct(sys.http, admin, 4);
    const buyer = await sys.customer();
    const placed = await order(buyer.token, [{ productId: product.id, quantity: 3 }]);
    await waitForOrder(sys.http, buyer.token, placed.body.id, (o) => o.status === "confirmed");
    expect(await stockOf(sys.http, product.id)).toBe(1);

    const cancel = await sys.http.post<Order>(`/api/orders/${placed.body.id}/cancel`, {
      token: buyer.token,
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({
      status: "cancelled",
      cancelReason: "cancelled_by_customer",
    });
    expect(await stockOf(sys.http, product.id)).toBe(4);

    const refunded = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.payment.status === "refunded",
    );
    expect(refunded.history.map((h) => h.status)).toEqual(["pending", "confirmed", "cancelled"]);
    expect(await payments(buyer.token, placed.body.id)).toMatchObject([{ status: "refunded" }]);

    const again = await sys.http.post<ErrorBody>(`/api/orders/${placed.body.id}/cancel`, {
      token: buyer.token,
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 409, type: "INVALID_STATE" });
    expect(await stockOf(sys.http, product.id)).toBe(4);

    const inbox = await waitFor(
      () => notifications(buyer.token),
      (n) => n.rows.some((r) => r.type === "payment_refunded"),
    );
    expect(inbox.rows.map((r) => r.type).sort()).toEqual([
      "order_cancelled",
      "order_confirmed",
      "payment_refunded",
      "welcome",
    ]);
  });

  it("cancels during a slow charge at the customer's request: stock back at once, charge refunded", async () => {
    const product = await createProduct(sys.http, admin, 3);
    const buyer = await sys.customer();
    const placed = await order(buyer.token, [{ productId: product.id, quantity: 2 }], "tok_slow");
    expect(await stockOf(sys.http, product.id)).toBe(1);
    // The slow card's charge is under way at the provider when the customer cancels.
    await waitFor(
      () => payments(buyer.token, placed.body.id),
      (rows) => rows[0]?.status === "processing",
      SLOW_MS,
      20,
    );
    const cancel = await sys.http.post<Order>(`/api/orders/${placed.body.id}/cancel`, {
      token: buyer.token,
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({
      status: "cancelled",
      cancelReason: "cancelled_by_customer",
    });
    expect(await stockOf(sys.http, product.id)).toBe(3);

    // The charge completes after the cancellation; the customer must not stay charged.
    const final = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.payment.status === "refunded",
      SLOW_MS + 5_000,
    );
    expect(final.status).toBe("cancelled");
    expect(await payments(buyer.token, placed.body.id)).toMatchObject([{ status: "refunded" }]);
  });

  it("refuses an order it cannot fill with 409 OUT_OF_STOCK and changes no stock", async () => {
    const plenty = await createProduct(sys.http, admin, 10);
    const scarce = await createProduct(sys.http, admin, 1);
    const buyer = await sys.customer();

    const res = await order(buyer.token, [
      { productId: plenty.id, quantity: 4 },
      { productId: scarce.id, quantity: 2 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 409,
      type: "OUT_OF_STOCK",
      data: { productId: scarce.id, requested: 2, available: 1 },
    });
    // The first line was taken and given back: all or nothing.
    expect(await stockOf(sys.http, plenty.id)).toBe(10);
    expect(await stockOf(sys.http, scarce.id)).toBe(1);
    const list = await sys.http.get<{ total: number }>("/api/orders", { token: buyer.token });
    expect(list.body.total).toBe(0);
  });

  it("answers the same Idempotency-Key with the same order and reserves once", async () => {
    const product = await createProduct(sys.http, admin, 10);
    const buyer = await sys.customer();
    const key = { "Idempotency-Key": `key-${Date.now()}` };
    const items = [{ productId: product.id, quantity: 2 }];

    const first = await order(buyer.token, items, "tok_visa", key);
    const second = await order(buyer.token, items, "tok_visa", key);
    expect(first.status).toBe(201);
    expect([200, 201]).toContain(second.status);
    expect(second.body.id).toBe(first.body.id);
    expect(await stockOf(sys.http, product.id)).toBe(8);

    await waitForOrder(sys.http, buyer.token, first.body.id, (o) => o.status === "confirmed");
    const list = await sys.http.get<{ rows: Order[]; total: number }>("/api/orders", {
      token: buyer.token,
    });
    expect(list.body.total).toBe(1);
    expect(await payments(buyer.token, first.body.id)).toHaveLength(1);

    // Another user may use the same key: keys are per user.
    const other = await sys.customer();
    const theirs = await order(other.token, items, "tok_visa", key);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it("refuses the same Idempotency-Key with another body with 409 IDEMPOTENCY_CONFLICT", async () => {
    const product = await createProduct(sys.http, admin, 10);
    const buyer = await sys.customer();
    const key = { "Idempotency-Key": `key-${Date.now()}` };
    expect(
      (await order(buyer.token, [{ productId: product.id, quantity: 1 }], "tok_visa", key)).status,
    ).toBe(201);
    const conflict = await order(
      buyer.token,
      [{ productId: product.id, quantity: 2 }],
      "tok_visa",
      key,
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: 409, type: "IDEMPOTENCY_CONFLICT" });
    expect(await stockOf(sys.http, product.id)).toBe(9);
  });

  it("refuses an empty, spaced or overlong Idempotency-Key with 422 and places nothing", async () => {
    const product = await createProduct(sys.http, admin, 10);
    const buyer = await sys.customer();
    for (const key of ["", "two words", "k".repeat(256)]) {
      const res = await order(buyer.token, [{ productId: product.id, quantity: 1 }], "tok_visa", {
        "Idempotency-Key": key,
      });
      expect({ key, status: res.status }).toEqual({ key, status: 422 });
      expect(res.body).toMatchObject({ type: "VALIDATION_ERROR" });
    }
    expect(await stockOf(sys.http, product.id)).toBe(10);
  });

  it("cancels an order not paid in time with payment_timeout and refunds a late charge", async () => {
    const product = await createProduct(sys.http, admin, 5);
    const buyer = await sys.customer();
    const placed = await order(buyer.token, [{ productId: product.id, quantity: 5 }], "tok_slow");
    expect(placed.status).toBe(201);
    expect(await stockOf(sys.http, product.id)).toBe(0);

    const cancelled = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.status === "cancelled",
      PAYMENT_TIMEOUT_MS + 5_000,
    );
    expect(cancelled.cancelReason).toBe("payment_timeout");
    // The sweeper writes the cancellation, then releases the stock (its next step): the release
    // follows within a step, and never twice (checked again after the refund).
    await waitFor(
      () => stockOf(sys.http, product.id),
      (stock) => stock === 5,
      STEP_DEADLINE_MS + 5_000,
    );

    // The slow charge completes after the cancellation: the money goes back.
    const refunded = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.payment.status === "refunded",
      SLOW_MS + 5_000,
    );
    expect(refunded.status).toBe("cancelled");
    expect(await payments(buyer.token, placed.body.id)).toMatchObject([{ status: "refunded" }]);
    expect(await stockOf(sys.http, product.id)).toBe(5);
  });

  it("validates the order body", async () => {
    const product = await createProduct(sys.http, admin, 5);
    const buyer = await sys.customer();
    const twice = await order(buyer.token, [
      { productId: product.id, quantity: 1 },
      { productId: product.id, quantity: 1 },
    ]);
    expect(twice.status).toBe(422);
    expect((await order(buyer.token, [{ productId: product.id, quantity: 0 }])).status).toBe(422);
    expect((await order(buyer.token, [{ productId: product.id, quantity: 101 }])).status).toBe(422);
    expect((await order(buyer.token, [])).status).toBe(422);
    const unknown = await order(buyer.token, [{ productId: "no-such-product", quantity: 1 }]);
    expect(unknown.status).toBe(404);
    expect(
      (await sys.http.post("/api/orders", { json: { items: [], paymentToken: "x" } })).status,
    ).toBe(401);
    expect(await stockOf(sys.http, product.id)).toBe(5);
  });

  it("shows each customer only their own orders; others get 404", async () => {
    const product = await createProduct(sys.http, admin, 10);
    const alice = await sys.customer("alice");
    const bob = await sys.customer("bob");
    const first = await order(alice.token, [{ productId: product.id, quantity: 1 }]);
    const second = await order(alice.token, [{ productId: product.id, quantity: 1 }]);
    const bobs = await order(bob.token, [{ productId: product.id, quantity: 1 }]);

    const theirs = await sys.http.get(`/api/orders/${first.body.id}`, { token: bob.token });
    expect(theirs.status).toBe(404);
    const cancel = await sys.http.post(`/api/orders/${first.body.id}/cancel`, {
      token: bob.token,
    });
    expect(cancel.status).toBe(404);
    expect((await getOrder(sys.http, alice.token, first.body.id)).status).not.toBe("cancelled");

    const aliceList = await sys.http.get<{ rows: Order[]; total: number }>("/api/orders", {
      token: alice.token,
    });
    expect(aliceList.body.total).toBe(2);
    // Newest first.
    expect(aliceList.body.rows.map((o) => o.id)).toEqual([second.body.id, first.body.id]);
    // A customer's userId filter is ignored: bob gets his one order, none of alice's.
    const bobList = await sys.http.get<{ rows: Order[]; total: number }>(
      `/api/orders?userId=${alice.id}`,
      { token: bob.token },
    );
    expect(bobList.body.total).toBe(1);
    expect(bobList.body.rows.map((o) => [o.id, o.userId])).toEqual([[bobs.body.id, bob.id]]);

    // Admins see anyone's.
    expect((await sys.http.get(`/api/orders/${first.body.id}`, { token: admin })).status).toBe(200);
    const adminList = await sys.http.get<{ total: number }>(`/api/orders?userId=${alice.id}`, {
      token: admin,
    });
    expect(adminList.body.total).toBe(2);

    expect((await sys.http.get("/api/payments", { token: bob.token })).status).toBe(200);
    const bobPayments = await sys.http.get<{ rows: Payment[] }>(
      `/api/payments?orderId=${first.body.id}`,
      { token: bob.token },
    );
    expect(bobPayments.body.rows).toHaveLength(0);
  });

  it("marks the caller's own notification read, filters unread, and 404s another's", async () => {
    const alice = await sys.customer("alice");
    const bob = await sys.customer("bob");
    const inbox = await waitFor(
      () => notifications(alice.token),
      (n) => n.total === 1,
    );
    const welcome = inbox.rows[0];
    expect(welcome).toMatchObject({ userId: alice.id, type: "welcome", readAt: null });

    const stranger = await sys.http.post(`/api/notifications/${welcome.id}/read`, {
      token: bob.token,
    });
    expect(stranger.status).toBe(404);
    expect((await notifications(alice.token, "?unread=true")).total).toBe(1);

    const read = await sys.http.post<Notification>(`/api/notifications/${welcome.id}/read`, {
      token: alice.token,
    });
    expect(read.status).toBe(200);
    expect(typeof read.body.readAt).toBe("string");
    const readAgain = await sys.http.post<Notification>(`/api/notifications/${welcome.id}/read`, {
      token: alice.token,
    });
    expect(readAgain.body.readAt).toBe(read.body.readAt);
    expect((await notifications(alice.token, "?unread=true")).total).toBe(0);
    expect((await notifications(alice.token)).total).toBe(1);
  });

  it("lets operators list stuck orders, and refuses to re-drive a settled order (409), leaving it as it was", async () => {
    const product = await createProduct(sys.http, admin, 2);
    const buyer = await sys.customer();
    const placed = await order(buyer.token, [{ productId: product.id, quantity: 1 }]);
    await waitForOrder(sys.http, buyer.token, placed.body.id, (o) => o.status === "confirmed");

    const stuck = await sys.broker.call<Array<{ id: string }>, { limit: number }>("orders.stuck", {
      limit: 50,
    });
    expect(stuck.map((o) => o.id)).not.toContain(placed.body.id);
    await expect(sys.broker.call("orders.redrive", { id: placed.body.id })).rejects.toMatchObject({
      code: 409,
    });
    expect((await getOrder(sys.http, buyer.token, placed.body.id)).status).toBe("confirmed");
    expect(await stockOf(sys.http, product.id)).toBe(1);
    await expect(sys.broker.call("orders.redrive", { id: "no-such-order" })).rejects.toMatchObject({
      code: 404,
    });
  });

  it("adds no second notification when an event is delivered again", async () => {
    const buyer = await sys.customer();
    await waitFor(
      () => notifications(buyer.token),
      (n) => n.total === 1,
    );
    const registered = {
      eventId: `user.registered:${buyer.id}`,
      userId: buyer.id,
      email: buyer.email,
      name: "again",
    };
    await sys.broker.emit("user.registered", registered);
    // A marker sent after the copy: once its notification shows, the copy has been handled
    // (one sender's events arrive in order). Waiting on the marker, not a sleep, keeps the
    // test meaningful however slow the handler runs.
    await sys.broker.emit("order.confirmed", {
      eventId: `order.confirmed:marker-${buyer.id}`,
      orderId: `marker-${buyer.id}`,
      userId: buyer.id,
      total: 100,
      currency: "USD",
    });
    const inbox = await waitFor(
      () => notifications(buyer.token),
      (n) => n.rows.some((r) => r.type === "order_confirmed"),
    );
    expect(inbox.rows.map((r) => r.type).sort()).toEqual(["order_confirmed", "welcome"]);
    // And no late copy comes afterwards: a few more reads still show one welcome.
    for (let i = 0; i < 5; i++) {
      await sys.broker.emit("user.registered", registered);
      expect((await notifications(buyer.token)).total).toBe(2);
    }
  });
});
