/**
 * The order saga's machinery (services/orders/saga.ts) driven directly: a real store (NeDB in
 * memory, or the stack's database), a recording emitter and a products caller. No broker runs:
 * the ServiceBroker below only owns the store (openStore's adapter takes one) and is never
 * started.
 */
import { ServiceBroker, type Service } from "moleculer";
import { openStore, type Store } from "../../mixins/db.mixin";
import { resetConfig } from "../../lib/config";
import { orderEvent } from "../../services/orders/events";
import { sagaState, type OrderDoc } from "../../services/orders/order-doc";
import { Saga, type EmitOptions, type SagaDeps } from "../../services/orders/saga";
import {
  onCustomerCancel,
  onPaymentFailed,
  onPaymentSucceeded,
  type Transition,
} from "../../services/orders/state-machine";

const STEP_MS = 1_000;
const timing = { stepDeadlineMs: STEP_MS };

interface Emitted {
  event: string;
  payload: unknown;
  opts?: EmitOptions;
}

describe("the order saga without a broker", () => {
  const broker = new ServiceBroker({ logger: false });
  const owner = { broker, logger: broker.getLogger("test") } as unknown as Service;
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  async function setup(over: Partial<SagaDeps> = {}) {
    const suffix = Math.random().toString(36).slice(2);
    const { store, close } = await openStore<OrderDoc>(owner, `orders_${suffix}`, []);
    closers.push(close);
    const emitted: Emitted[] = [];
    const released: unknown[] = [];
    const applied: Array<{ order: OrderDoc; t: Transition }> = [];
    const redriven: string[] = [];
    const warnings: string[] = [];
    const faults = { emit: 0, release: 0 };
    let abandonAfterMs = 60_000;
    const deps: SagaDeps = {
      store,
      emitter: {
        async emit(event, payload, opts) {
          if (faults.emit > 0 && faults.emit--) throw new Error("transporter down");
          emitted.push({ event, payload, opts });
        },
      },
      caller: {
        async call(action, params) {
          if (faults.release > 0 && faults.release--) throw new Error("products down");
          expect(action).toBe("products.release");
          released.push(params);
        },
      },
      timing: () => timing,
      abandonAfterMs: () => abandonAfterMs,
      log: { info: () => undefined, warn: (m) => warnings.push(m) },
      applied: (order, t) => applied.push({ order, t }),
      redriven: (order) => redriven.push(order._id),
      ...over,
    };
    const saga = new Saga(deps);
    return {
      store,
      saga,
      emitted,
      released,
      applied,
      redriven,
      warnings,
      faults,
      setAbandonAfter: (ms: number) => (abandonAfterMs = ms),
      events: () => emitted.map((e) => e.event),
    };
  }

  /** A placed order (pending, priced) unless `over` says otherwise. */
  function insertOrder(store: Store<OrderDoc>, over: Partial<OrderDoc> = {}): Promise<OrderDoc> {
    const now = Date.now();
    const iso = new Date(now).toISOString();
    return store.insert({
      userId: "u1",
      status: "pending",
      items: [
        { productId: "p1", quantity: 2, unitPrice: 5, lineTotal: 10, name: "A" },
        { productId: "p2", quantity: 1, unitPrice: 10, lineTotal: 10, name: "B" },
      ],
      total: 20,
      currency: "USD",
      payment: { status: "pending" },
      history: [{ status: "pending", at: iso }],
      idemKey: `u1:${Math.random()}`,
      bodyHash: "h",
      paymentToken: "tok_visa",
      stockReleased: false,
      paymentDueAt: now + 60_000,
      deadline: now + STEP_MS,
      rev: 0,
      createdAt: iso,
      updatedAt: iso,
      ...over,
    });
  }

  const succeeded = (s: Parameters<typeof onPaymentSucceeded>[0], now: number) =>
    onPaymentSucceeded(s, "pay1", now, timing);

  it("confirms on payment: one conditional write, its event emitted once and the outbox emptied", async () => {
    const t = await setup();
    const order = await insertOrder(t.store);
    const decision = await t.saga.drive(order._id, succeeded);
    expect(decision?.kind).toBe("transition");
    const doc = (await t.store.findById(order._id))!;
    expect(doc).toMatchObject({
      status: "confirmed",
      payment: { status: "succeeded", id: "pay1" },
      deadline: null,
      outbox: [],
      outboxDue: null,
      rev: 1,
    });
    expect(doc.history.map((h) => h.status)).toEqual(["pending", "confirmed"]);
    expect(t.emitted).toEqual([
      { event: "order.confirmed", payload: orderEvent("order.confirmed", doc), opts: undefined },
    ]);
    expect(t.applied.map((a) => a.order.status)).toEqual(["confirmed"]);

    // A redelivered payment.succeeded changes and emits nothing.
    expect((await t.saga.drive(order._id, succeeded))?.kind).toBe("ignore");
    expect(t.events()).toEqual(["order.confirmed"]);
    expect((await t.store.findById(order._id))?.rev).toBe(1);
  });

  it("writes nothing when the order left the expected state: the stale transition loses", async () => {
    const t = await setup();
    const order = await insertOrder(t.store, {
      status: "confirmed",
      payment: { status: "succeeded" },
    });
    // Decided on an older read of the order, while it was still pending.
    const stale = { ...order, status: "pending" as const, payment: { status: "pending" as const } };
    const d = onPaymentFailed(sagaState(stale), "pay1", Date.now(), timing);
    if (d.kind !== "transition") throw new Error("expected a transition");
    expect(await t.saga.apply(stale, d.transition)).toBeNull();
    expect(await t.store.findById(order._id)).toEqual(order);
    expect(t.emitted).toEqual([]);
    expect(t.released).toEqual([]);
  });

  it("decides again on the fresh order after losing a race: a cancel that meets a confirm refunds", async () => {
    const t = await setup();
    const order = await insertOrder(t.store);
    let raced = false;
    const racing: Store<OrderDoc> = {
      ...t.store,
      async updateWhere(query, update) {
        // The payment lands between the cancel's read and its write.
        if (!raced) {
          raced = true;
          await t.store.updateWhere(
            { _id: order._id },
            { $set: { status: "confirmed", "payment.status": "succeeded" } },
          );
        }
        return t.store.updateWhere(query, update);
      },
    };
    const r = await setup({ store: racing });
    await r.saga.drive(order._id, (s, now) => onCustomerCancel(s, now, timing));
    expect(await t.store.findById(order._id)).toMatchObject({
      status: "cancelled",
      cancelReason: "cancelled_by_customer",
      payment: { status: "refunding" },
    });
    expect(r.events()).toEqual(["order.cancelled"]);
  });

  it("gives up with SERVICE_UNAVAILABLE when every try loses", async () => {
    const t = await setup();
    const order = await insertOrder(t.store);
    const losing = await setup({ store: { ...t.store, updateWhere: async () => 0 } });
    await expect(losing.saga.drive(order._id, succeeded)).rejects.toMatchObject({
      type: "SERVICE_UNAVAILABLE",
    });
    expect(losing.emitted).toEqual([]);
  });

  it("a cancel releases the stock once and settles when payments answers", async () => {
    const t = await setup();
    const order = await insertOrder(t.store);
    await t.saga.drive(order._id, (s, now) => onCustomerCancel(s, now, timing));
    expect(t.released).toEqual([{ orderId: order._id, productIds: ["p1", "p2"] }]);
    expect(t.events()).toEqual(["order.cancelled"]);
    // Payments has not answered yet: the sweeper keeps watching.
    expect(await t.store.findById(order._id)).toMatchObject({
      status: "cancelled",
      stockReleased: true,
      deadline: expect.any(Number),
    });
    await t.saga.drive(order._id, (s, now) => onPaymentFailed(s, "pay1", now, timing));
    expect(await t.store.findById(order._id)).toMatchObject({
      payment: { status: "failed", id: "pay1" },
      deadline: null,
    });
    expect(t.released).toHaveLength(1);
  });

  it("a stock release that failed is redone by the sweeper, which then settles the order", async () => {
    const t = await setup();
    const order = await insertOrder(t.store);
    t.faults.release = 1;
    await t.saga.drive(order._id, (s, now) => onPaymentFailed(s, "pay1", now, timing));
    expect(await t.store.findById(order._id)).toMatchObject({
      status: "cancelled",
      cancelReason: "payment_declined",
      stockReleased: false,
      deadline: expect.any(Number),
    });
    expect(t.released).toEqual([]);
    await t.store.updateWhere({ _id: order._id }, { $set: { deadline: Date.now() - 1 } });
    await t.saga.sweep();
    expect(t.released).toEqual([{ orderId: order._id, productIds: ["p1", "p2"] }]);
    expect(await t.store.findById(order._id)).toMatchObject({
      stockReleased: true,
      deadline: null,
      redrives: 1,
    });
  });

  it("the sweeper cancels an order unpaid past its due time, in the checkout's trace", async () => {
    const t = await setup();
    const past = Date.now() - 1;
    const trace = { traceID: "trace-1", spanID: "span-1" };
    const order = await insertOrder(t.store, { deadline: past, paymentDueAt: past, trace });
    await t.saga.sweep();
    const doc = (await t.store.findById(order._id))!;
    expect(doc).toMatchObject({ status: "cancelled", cancelReason: "payment_timeout" });
    expect(t.released).toHaveLength(1);
    expect(t.emitted).toEqual([
      {
        event: "order.cancelled",
        payload: orderEvent("order.cancelled", doc),
        opts: { parentSpan: { id: "span-1", traceID: "trace-1", sampled: true } },
      },
    ]);
    expect(t.redriven).toEqual([order._id]);
  });

  it("the sweeper re-sends order.created for a pending order still within its due time", async () => {
    const t = await setup();
    const order = await insertOrder(t.store, { deadline: Date.now() - 1 });
    const before = Date.now();
    await t.saga.sweep();
    const doc = (await t.store.findById(order._id))!;
    expect(doc.status).toBe("pending");
    expect(doc.deadline).toBeGreaterThanOrEqual(before + STEP_MS);
    expect(t.emitted).toEqual([
      { event: "order.created", payload: orderEvent("order.created", doc), opts: {} },
    ]);
    // Not due any more: the next pass leaves it.
    await t.saga.sweep();
    expect(t.events()).toEqual(["order.created"]);
  });

  it("the sweeper abandons a checkout that died while reserving: released always, deleted once its window passed", async () => {
    const t = await setup();
    const past = Date.now() - 1;
    const reserving = { status: "reserving" as const, deadline: past };
    const young = await insertOrder(t.store, reserving);
    await t.saga.sweep();
    expect(await t.store.findById(young._id)).toMatchObject({ status: "abandoned" });
    expect(t.released).toEqual([{ orderId: young._id, productIds: ["p1", "p2"] }]);

    t.setAbandonAfter(0);
    const old = await insertOrder(t.store, {
      ...reserving,
      createdAt: new Date(past - 1_000).toISOString(),
    });
    await t.saga.sweep();
    expect(await t.store.findById(old._id)).toBeNull();
    expect(t.released).toContainEqual({ orderId: old._id, productIds: ["p1", "p2"] });
    expect(t.emitted).toEqual([]);
  });

  it("of two re-drives of one order exactly one claims it", async () => {
    const t = await setup();
    const order = await insertOrder(t.store, { deadline: Date.now() - 1 });
    const results = await Promise.all([t.saga.redrive(order), t.saga.redrive(order)]);
    expect(results.filter((r) => r === null)).toHaveLength(1);
    expect(results.find((r) => r !== null)).toEqual(["emitCreated"]);
    expect(t.events()).toEqual(["order.created"]);
    expect((await t.store.findById(order._id))?.redrives).toBe(1);
  });

  it("an event whose emit failed after the state write is re-sent from the outbox, same eventId", async () => {
    process.env.OUTBOX_GRACE_MS = "0";
    resetConfig();
    try {
      const t = await setup();
      const order = await insertOrder(t.store);
      t.faults.emit = 1;
      await expect(t.saga.drive(order._id, succeeded)).rejects.toThrow("transporter down");
      const lost = (await t.store.findById(order._id))!;
      expect(lost.status).toBe("confirmed");
      expect(lost.outbox?.map((e) => e.event)).toEqual(["order.confirmed"]);
      expect(t.emitted).toEqual([]);

      await t.saga.sweep();
      expect(t.emitted).toEqual([
        { event: "order.confirmed", payload: orderEvent("order.confirmed", lost), opts: undefined },
      ]);
      expect(await t.store.findById(order._id)).toMatchObject({ outbox: [], outboxDue: null });
      await t.saga.sweep();
      expect(t.events()).toEqual(["order.confirmed"]);
    } finally {
      delete process.env.OUTBOX_GRACE_MS;
      resetConfig();
    }
  });

  it("lists the orders past their deadline with the step the sweeper will redo", async () => {
    const t = await setup();
    const due = await insertOrder(t.store, { deadline: Date.now() - 1 });
    await insertOrder(t.store);
    const stuck = await t.saga.stuck(10);
    expect(stuck).toEqual([
      expect.objectContaining({ id: due._id, status: "pending", step: "emitCreated", attempts: 0 }),
    ]);
  });

  it("a sweep told to stop leaves the due orders for the next pass", async () => {
    const t = await setup();
    const order = await insertOrder(t.store, { deadline: Date.now() - 1 });
    await t.saga.sweep(() => false);
    expect(await t.store.findById(order._id)).toEqual(order);
    expect(t.emitted).toEqual([]);
  });
});
