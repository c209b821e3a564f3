/**
 * The checkout saga where it leaves the happy path, end to end through HTTP: a checkout whose
 * reply comes too late, events that arrive in the wrong order, a refund and a checkout cut
 * short as a crash would cut them. A test middleware (`hooks`) holds, slows or cuts one step;
 * everything else is the real system with short saga timings.
 */
import { Errors, type Context, type Middleware } from "moleculer";
import { selectServices } from "../../services";
import type { DbVars } from "../../mixins/db.mixin";
import { startTuned, type TunedSystem } from "../helpers/tuned-system";
import { waitFor } from "../helpers/wait";
import {
  createProduct,
  stockOf,
  waitForOrder,
  type Notification,
  type Order,
  type Payment,
} from "../helpers/shop";

type Next = (ctx: Context) => Promise<unknown>;
type Hook = (ctx: Context, next: Next) => Promise<unknown>;

/** Hooks by action (`orders.create`) or event handler (`payments:order.created`). */
const hooks = new Map<string, Hook>();
const runs = new Map<string, number>();

const Hooks: Middleware = {
  name: "TestHooks",
  localAction(next: Next, action: { name?: string }) {
    const name = String(action.name);
    return (ctx: Context) => {
      runs.set(name, (runs.get(name) ?? 0) + 1);
      const hook = hooks.get(name);
      return hook ? hook(ctx, next) : next(ctx);
    };
  },
  localEvent(next: Next, event: { name?: string; service?: { name: string } }) {
    const name = `${event.service?.name ?? ""}:${event.name ?? ""}`;
    return (ctx: Context) => {
      const hook = hooks.get(name);
      return hook ? hook(ctx, next) : next(ctx);
    };
  },
} as Middleware;

const REQUEST_TIMEOUT_MS = 1_000;
const STEP_DEADLINE_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the checkout saga off the happy path", () => {
  let sys: TunedSystem;
  let admin: string;

  beforeAll(async () => {
    // Read while the system runs (orders' timing, payments' staleness, the abandon window).
    process.env.REQUEST_TIMEOUT_MS = String(REQUEST_TIMEOUT_MS);
    process.env.SWEEPER_INTERVAL_MS = "100";
    process.env.SAGA_STEP_DEADLINE_MS = String(STEP_DEADLINE_MS);
    process.env.PAYMENT_SLOW_MS = "300";
    sys = await startTuned(selectServices(null), { middlewares: [Hooks] });
    const login = await sys.http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    admin = login.body.token;
  });
  afterEach(() => hooks.clear());
  afterAll(() => sys?.stop());

  async function customer(): Promise<{ id: string; token: string }> {
    const res = await sys.http.post<{ token: string; user: { id: string } }>("/api/auth/register", {
      json: {
        email: `edge-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`,
        password: "password-123",
        name: "Edge",
      },
    });
    return { id: res.body.user.id, token: res.body.token };
  }

  const place = (token: string, productId: string, quantity: number, paymentToken = "tok_visa") =>
    sys.http.post<Order>("/api/orders", {
      token,
      json: { items: [{ productId, quantity }], paymentToken },
    });

  const paymentsOf = async (token: string, orderId: string) =>
    (await sys.http.get<{ rows: Payment[] }>(`/api/payments?orderId=${orderId}`, { token })).body
      .rows;

  const inbox = async (token: string) =>
    (await sys.http.get<{ rows: Notification[] }>("/api/notifications", { token })).body.rows;

  it("does not retry a timed-out orders.create: one order, one reservation", async () => {
    const product = await createProduct(sys.http, admin, 10);
    const buyer = await customer();
    const reserved: string[] = [];
    hooks.set("products.reserve", async (ctx, next) => {
      reserved.push((ctx.params as { orderId: string }).orderId);
      return next(ctx);
    });
    // The order is placed, but its reply comes back after the request timeout.
    hooks.set("orders.create", async (ctx, next) => {
      const placed = await next(ctx);
      await sleep(REQUEST_TIMEOUT_MS + 500);
      return placed;
    });
    const before = runs.get("orders.create") ?? 0;

    const res = await place(buyer.token, product.id, 2);
    expect(res.status).toBe(503);
    // Every retry the broker would make has started by the time the client has its answer.
    expect((runs.get("orders.create") ?? 0) - before).toBe(1);

    const list = await waitFor(
      () => sys.http.get<{ rows: Order[]; total: number }>("/api/orders", { token: buyer.token }),
      (r) => r.body.total > 0 && r.body.rows.every((o) => o.status === "confirmed"),
    );
    expect(list.body.total).toBe(1);
    expect(reserved).toEqual([list.body.rows[0].id]);
    expect(await stockOf(sys.http, product.id)).toBe(8);
  });

  it("never charges an order whose order.cancelled reaches payments before its order.created", async () => {
    const product = await createProduct(sys.http, admin, 5);
    const buyer = await customer();
    // payments' order.created handler waits at a gate; `handled` settles when it has run.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let handled!: Promise<unknown>;
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    hooks.set("payments:order.created", (ctx, next) => {
      handled = gate.then(() => next(ctx));
      arrived();
      return handled;
    });

    const placed = await place(buyer.token, product.id, 2);
    expect(placed.status).toBe(201);
    await arrival;
    const cancel = await sys.http.post<Order>(`/api/orders/${placed.body.id}/cancel`, {
      token: buyer.token,
    });
    expect(cancel.body).toMatchObject({
      status: "cancelled",
      cancelReason: "cancelled_by_customer",
    });
    await waitFor(
      () => paymentsOf(buyer.token, placed.body.id),
      (rows) => rows.length > 0,
    );

    // Now the late order.created is handled: it finds the order's payment slot taken.
    open();
    await handled;
    const payments = await paymentsOf(buyer.token, placed.body.id);
    expect(payments).toMatchObject([{ status: "failed", failureReason: "order_cancelled" }]);
    expect(payments).toHaveLength(1);
    const settled = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.payment.status === "failed",
    );
    expect(settled.status).toBe("cancelled");
    expect(await stockOf(sys.http, product.id)).toBe(5);
    expect((await inbox(buyer.token)).map((n) => n.type)).not.toContain("payment_refunded");
  });

  it("re-drives a refund left in `refunding` by a crash until the money is back", async () => {
    const product = await createProduct(sys.http, admin, 5);
    const buyer = await customer();
    const placed = await place(buyer.token, product.id, 1);
    await waitForOrder(sys.http, buyer.token, placed.body.id, (o) => o.status === "confirmed");

    // The first order.cancelled dies right after payments recorded `refunding`, before the
    // provider was asked: what a crash at that point leaves in the database.
    const payments = sys.broker.getLocalService("payments") as unknown as DbVars;
    let delivered = 0;
    let crashed = false;
    hooks.set("payments:order.cancelled", async (ctx, next) => {
      if (++delivered > 1) return next(ctx);
      await payments.store.updateWhere(
        { orderId: placed.body.id, status: "succeeded" },
        { $set: { status: "refunding", claimedAt: Date.now() } },
      );
      crashed = true;
    });

    const cancel = await sys.http.post<Order>(`/api/orders/${placed.body.id}/cancel`, {
      token: buyer.token,
    });
    expect(cancel.status).toBe(200);
    await waitFor(
      async () => crashed,
      (done) => done,
    );
    expect(await paymentsOf(buyer.token, placed.body.id)).toMatchObject([{ status: "refunding" }]);

    // The orders sweeper re-sends order.cancelled past the step deadline; once the refunding
    // step is stale, payments takes it over and finishes the refund.
    const refunded = await waitForOrder(
      sys.http,
      buyer.token,
      placed.body.id,
      (o) => o.payment.status === "refunded",
    );
    expect(refunded.status).toBe("cancelled");
    expect(await paymentsOf(buyer.token, placed.body.id)).toMatchObject([{ status: "refunded" }]);
    const notes = await waitFor(
      () => inbox(buyer.token),
      (rows) => rows.some((n) => n.type === "payment_refunded"),
    );
    expect(notes.filter((n) => n.type === "payment_refunded")).toHaveLength(1);
  });

  it("abandons a checkout that died while `reserving`: the stock comes back, no order stays", async () => {
    const product = await createProduct(sys.http, admin, 4);
    const buyer = await customer();
    let orderId = "";
    const before = runs.get("orders.create") ?? 0;
    // products.reserve takes the stock, but its reply is lost: the checkout stops half-way.
    hooks.set("products.reserve", async (ctx, next) => {
      orderId = (ctx.params as { orderId: string }).orderId;
      await next(ctx);
      throw new Errors.RequestTimeoutError({ action: "products.reserve", nodeID: "lost" });
    });

    const res = await place(buyer.token, product.id, 3);
    expect(res.status).toBe(503);
    hooks.delete("products.reserve");
    // The inner call's timeout does not make the broker repeat the whole checkout.
    expect((runs.get("orders.create") ?? 0) - before).toBe(1);
    expect(orderId).not.toBe("");
    expect(await stockOf(sys.http, product.id)).toBe(1);

    // Past its step deadline the sweeper gives the order up and releases what it holds ...
    await waitFor(
      () => stockOf(sys.http, product.id),
      (stock) => stock === 4,
    );
    const list = await sys.http.get<{ total: number }>("/api/orders", { token: buyer.token });
    expect(list.body.total).toBe(0);
    // ... and once no retried reservation can land any more (three request timeouts and a
    // margin, orders.service.ts), deletes it.
    await waitFor(
      () =>
        sys.broker.call("orders.redrive", { id: orderId }).then(
          () => 200,
          (err: { code?: number }) => err.code ?? 500,
        ),
      (code) => code === 404,
      3 * REQUEST_TIMEOUT_MS + 5_000 + 5_000,
      200,
    );
    expect(await stockOf(sys.http, product.id)).toBe(4);
  });
});
