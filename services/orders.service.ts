/**
 * orders: checkout and the order saga (API.md, "Orders"; DESIGN.md, "Events are fire-and-forget
 * in Moleculer; orders must not be"). Owns the `orders` collection.
 *
 * - Checkout stores the order first (`reserving`), then reserves its stock, then makes it
 *   `pending` and emits `order.created`. Stored first, a crash at any point leaves a document the
 *   sweeper finds (and releases); reserved first, a crash before the insert would leave stock
 *   held by an order nobody knows of.
 * - The saga's state and the deadline of its next step live in the order document. Every
 *   transition is one conditional update on the expected status and payment status
 *   (services/orders/state-machine.ts decides, this file applies), so concurrent events and
 *   requests cannot both win.
 * - The event a transition owes is recorded in the order's outbox by the transition's own
 *   write and removed once emitted (lib/outbox.ts): a crash between the write and the emit
 *   loses no event.
 * - The sweeper re-drives every order whose deadline passed: it re-emits the step's event,
 *   cancels orders unpaid past ORDER_PAYMENT_TIMEOUT_MS, finishes stock releases and abandons
 *   checkouts that died half-way. It also re-sends the outbox entries left unsent.
 */
import { countDomain } from "../lib/metrics";
import { randomUUID } from "node:crypto";
import type { Context, ServiceSettingSchema } from "moleculer";
import { config } from "../lib/config";
import { defineService } from "../lib/define-service";
import {
  IdempotencyConflictError,
  InvalidStateError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationError,
} from "../lib/errors";
import { isAdmin, type GatewayMeta } from "../lib/auth";
import type { Page } from "../contracts/common";
import {
  ORDER_STATUSES,
  createParams,
  idParams,
  listParams,
  lookupParams,
  orderStatusChanged,
  stuckParams,
  type CancelReason,
  type CreateParams,
  type ListParams,
  type Order,
  type OrderLine,
  type OrderRecord,
} from "../contracts/orders";
import {
  PAYMENTS_LOOKUP,
  PAYMENT_FAILED,
  PAYMENT_REFUNDED,
  PAYMENT_SUCCEEDED,
  paymentFailed,
  paymentRefunded,
  paymentSucceeded,
  type PaymentFailedEvent,
  type PaymentRecord,
  type PaymentRefundedEvent,
  type PaymentSucceededEvent,
} from "../contracts/payments";
import type { PricedLine, ReserveLine } from "../contracts/products";
import { dbMixin, type DbMethods, type DbVars, type Doc, type Query } from "../mixins/db.mixin";
import {
  OUTBOX_INDEX,
  crashPoint,
  deliver,
  pendingEvent,
  resendDue,
  type OutboxEntry,
  type OutboxFields,
} from "../lib/outbox";
import { EVENT_OF_EFFECT, orderEvent } from "./orders/events";
import { checkoutHash } from "./orders/checkout";
import { unbackedPayment, type PaymentOutcome } from "./orders/payment-check";
import {
  VISIBLE_STATUSES,
  onCustomerCancel,
  onDeadline,
  onPaymentFailed,
  onPaymentRefunded,
  onPaymentSucceeded,
  onReserved,
  type Decision,
  type Effect,
  type HistoryEntry,
  type OrderStatus,
  type PaymentState,
  type SagaState,
  type Timing,
  type Transition,
} from "./orders/state-machine";

/** The stored order: the contract's fields plus the saga's bookkeeping. */
interface OrderDoc extends Doc, OutboxFields {
  userId: string;
  status: OrderStatus;
  items: Array<OrderLine | ReserveLine>;
  total: number;
  currency: string;
  payment: { status: PaymentState; id?: string };
  cancelReason?: CancelReason;
  history: HistoryEntry[];
  /** `<userId>:<Idempotency-Key>`, or a random one without a key; unique. */
  idemKey: string;
  bodyHash: string;
  /** Kept so the sweeper can re-send `order.created`; a provider token, never card data. */
  paymentToken: string;
  stockReleased: boolean;
  paymentDueAt: number;
  deadline: number | null;
  /** Bumped by every write, so a conditional update always counts as a modification. */
  rev: number;
  /** How often the sweeper (or an operator) re-drove the order past a deadline. */
  redrives?: number;
  /** The checkout's span, when traced: events re-driven later join its trace under it. */
  trace?: { traceID: string; spanID: string };
  createdAt: string;
  updatedAt: string;
}

/** What the REPL's `stuck` shows per order. */
export interface StuckOrder {
  id: string;
  status: OrderStatus;
  step: string;
  deadline: string;
  attempts: number;
}

interface OrdersVars extends DbVars {
  sweeper: NodeJS.Timeout | null;
  sweeping: Promise<void> | null;
}

type Emitter = Pick<Context, "emit">;

interface OrdersMethods extends DbMethods {
  publicOrder(doc: OrderDoc): Order;
  timing(): Timing;
  loadOrder(id: string): Promise<OrderDoc | null>;
  applyTransition(
    doc: OrderDoc,
    t: Transition,
    emitter: Emitter,
    opts?: { extra?: Record<string, unknown>; background?: boolean },
  ): Promise<OrderDoc | null>;
  drive(
    orderId: string,
    decide: (s: SagaState, now: number) => Decision,
    emitter: Emitter,
  ): Promise<Decision | null>;
  runEffects(doc: OrderDoc, t: Transition, emitter: Emitter, pending: OutboxEntry[]): Promise<void>;
  emitEvent(event: string, doc: OrderDoc, emitter: Emitter): Promise<void>;
  broadcastStatusChange(doc: OrderDoc): void;
  releaseStock(doc: OrderDoc): Promise<boolean>;
  settle(orderId: string): Promise<void>;
  sweep(): Promise<void>;
  redriveOne(doc: OrderDoc): Promise<Effect[] | null>;
  findByIdemKey(idemKey: string, bodyHash: string): Promise<OrderDoc | null>;
  visibleOrder(id: string, meta: GatewayMeta): Promise<OrderDoc>;
  paymentBacks(
    ctx: Context<{ orderId: string; paymentId: string }>,
    outcome: PaymentOutcome,
  ): Promise<boolean>;
}

const MAX_ATTEMPTS = 5;
const SWEEP_BATCH = 100;

function sagaState(doc: OrderDoc): SagaState {
  return {
    status: doc.status,
    payment: doc.payment,
    stockReleased: doc.stockReleased,
    paymentDueAt: doc.paymentDueAt,
    deadline: doc.deadline,
  };
}

function productIdsOf(doc: OrderDoc): string[] {
  return doc.items.map((i) => i.productId);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Error types with which products.reserve refuses an order without taking any stock. */
const RESERVE_REFUSALS = new Set(["OUT_OF_STOCK", "NOT_FOUND", "VALIDATION_ERROR"]);

export default defineService<ServiceSettingSchema, OrdersMethods, OrdersVars>({
  name: "orders",
  mixins: [
    dbMixin({
      collection: "orders",
      indexes: [
        { field: "idemKey", unique: true },
        { field: "userId" },
        { field: "deadline" },
        { field: "createdAt" },
        OUTBOX_INDEX,
      ],
    }),
  ],

  actions: {
    create: {
      auth: "user",
      params: createParams.rule,
      // The order's id on the checkout's span, so Jaeger finds a checkout by its order (the
      // saga's event spans carry it as params.orderId); not the params: no payment token in traces.
      tracing: {
        tags: (_ctx: Context, res?: Order) => (res ? { orderId: res.id } : {}),
      },
      async handler(ctx: Context<CreateParams, GatewayMeta>): Promise<Order> {
        const user = ctx.meta.user!;
        const ids = ctx.params.items.map((i) => i.productId);
        if (new Set(ids).size !== ids.length) {
          throw new ValidationError("Each product may appear in one line only", [
            { field: "items", message: "products must be distinct", type: "arrayUnique" },
          ]);
        }
        const key = ctx.meta.idempotencyKey;
        if (key !== undefined && (key.length > 255 || !/^[\x21-\x7e]+$/.test(key))) {
          throw new ValidationError("Invalid Idempotency-Key", [
            { field: "Idempotency-Key", message: "1-255 visible ASCII characters", type: "string" },
          ]);
        }
        const bodyHash = checkoutHash(ctx.params);
        const idemKey = `${user.id}:${key ?? `auto:${randomUUID()}`}`;
        const cfg = config().orders;
        const timing = this.timing();

        // Store first (see the file comment). The unique idemKey makes a repeated request
        // find the first one's order instead of placing a second.
        let doc: OrderDoc | null = null;
        for (let attempt = 0; doc === null && attempt < MAX_ATTEMPTS; attempt++) {
          const now = Date.now();
          const iso = new Date(now).toISOString();
          try {
            doc = (await this.store.insert({
              userId: user.id,
              status: "reserving",
              items: ctx.params.items.map(({ productId, quantity }) => ({ productId, quantity })),
              total: 0,
              currency: "USD",
              payment: { status: "pending" },
              history: [],
              idemKey,
              bodyHash,
              paymentToken: ctx.params.paymentToken,
              stockReleased: false,
              paymentDueAt: now + cfg.paymentTimeoutMs,
              deadline: now + timing.stepDeadlineMs,
              rev: 0,
              ...(ctx.span ? { trace: { traceID: ctx.span.traceID, spanID: ctx.span.id } } : {}),
              createdAt: iso,
              updatedAt: iso,
            })) as OrderDoc;
          } catch (err) {
            if (!this.store.isDuplicateKeyError(err)) throw err;
            const existing = await this.findByIdemKey(idemKey, bodyHash);
            if (existing) {
              ctx.meta.$statusCode = 200;
              return this.publicOrder(existing);
            }
            // The first request's order was withdrawn (out of stock, abandoned): try afresh.
          }
        }
        if (doc === null) throw new ServiceUnavailableError("Could not place the order");

        let lines: PricedLine[];
        try {
          lines = await ctx.call<PricedLine[], { orderId: string; items: ReserveLine[] }>(
            "products.reserve",
            { orderId: doc._id, items: ctx.params.items },
          );
        } catch (err) {
          // A refusal by products (out of stock, unknown product, bad line) took nothing:
          // withdraw the order, so the client may retry with the same key. Anything else —
          // moleculer's SERVICE_NOT_AVAILABLE is a 404 too — may come after a try that took
          // stock; then the sweeper releases whatever the order holds and withdraws it.
          const type = (err as { type?: string }).type ?? "";
          if (RESERVE_REFUSALS.has(type)) await this.store.removeById(doc._id);
          throw err;
        }

        const currencies = new Set(lines.map((l) => l.currency));
        const items: OrderLine[] = lines.map(({ currency: _c, ...line }) => line);
        const total = items.reduce((sum, l) => sum + l.lineTotal, 0);
        const decision = onReserved(sagaState(doc), Date.now(), timing);
        // The payment runs after the response (background effects): the client gets its
        // pending order at once, even with a slow card or a payments service that is down.
        const placed =
          currencies.size === 1 && decision.kind === "transition"
            ? await this.applyTransition(doc, decision.transition, ctx, {
                extra: { items, total, currency: lines[0].currency },
                background: true,
              })
            : null;
        if (!placed) {
          await ctx.call("products.release", { orderId: doc._id, productIds: ids });
          await this.store.removeById(doc._id);
          if (currencies.size > 1) {
            throw new ValidationError("All products of an order must have the same currency", [
              { field: "items", message: "mixed currencies", type: "currency" },
            ]);
          }
          // The sweeper abandoned it meanwhile: the reservation took longer than a step may.
          throw new ServiceUnavailableError("The checkout took too long, please retry");
        }
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/orders/${placed._id}`;
        return this.publicOrder(placed);
      },
    },

    list: {
      auth: "user",
      params: listParams.rule,
      async handler(ctx: Context<ListParams, GatewayMeta>): Promise<Page<Order>> {
        const { page, pageSize } = ctx.params;
        const user = ctx.meta.user!;
        const userId = isAdmin(user) && ctx.params.userId ? ctx.params.userId : user.id;
        const query: Query = { userId, status: { $in: [...VISIBLE_STATUSES] } };
        return this.store.findPage(query, ["-createdAt", "-_id"], page, pageSize, (d) =>
          this.publicOrder(d as OrderDoc),
        );
      },
    },

    get: {
      auth: "user",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<Order> {
        return this.publicOrder(await this.visibleOrder(ctx.params.id, ctx.meta));
      },
    },

    cancel: {
      auth: "user",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<Order> {
        const doc = await this.visibleOrder(ctx.params.id, ctx.meta);
        const decision = await this.drive(
          doc._id,
          (s, now) => onCustomerCancel(s, now, this.timing()),
          ctx,
        );
        if (decision?.kind === "reject") throw new InvalidStateError(decision.reason);
        const fresh = await this.loadOrder(doc._id);
        if (!fresh) throw new NotFoundError("Order");
        return this.publicOrder(fresh);
      },
    },

    /** For payments, which charges and refunds only orders this service holds (contracts/orders.ts, "The owners' records"). */
    lookup: {
      visibility: "public",
      params: lookupParams.rule,
      async handler(ctx: Context<{ orderId: string }>): Promise<OrderRecord | null> {
        const doc = await this.loadOrder(ctx.params.orderId);
        if (!doc) return null;
        const { _id: id, userId, status, total, currency, paymentToken } = doc;
        return { id, userId, status, total, currency, paymentToken };
      },
    },

    /** For operators (the REPL's `stuck`): orders past their step's deadline, oldest first. */
    stuck: {
      visibility: "public",
      params: stuckParams.rule,
      async handler(ctx: Context<{ limit: number }>): Promise<StuckOrder[]> {
        const now = Date.now();
        const docs = (await this.store.find({
          query: { deadline: { $lte: now } },
          sort: ["deadline"],
          limit: ctx.params.limit,
        })) as OrderDoc[];
        return docs.map((doc) => {
          const decision = onDeadline(sagaState(doc), now, this.timing());
          return {
            id: doc._id,
            status: doc.status,
            step: decision.kind === "transition" ? decision.transition.effects.join(", ") : "",
            deadline: new Date(doc.deadline ?? now).toISOString(),
            attempts: doc.redrives ?? 0,
          };
        });
      },
    },

    /** For operators (the console's saga board): how many orders are in each status. */
    counts: {
      visibility: "public",
      async handler(): Promise<Record<OrderStatus, number>> {
        const counts = await Promise.all(
          ORDER_STATUSES.map(async (status) => [status, await this.store.count({ status })]),
        );
        return Object.fromEntries(counts) as Record<OrderStatus, number>;
      },
    },

    /** For operators (the REPL's `redrive`): does now what the sweeper would at the deadline. */
    redrive: {
      visibility: "public",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }>): Promise<{ id: string; effects: Effect[] }> {
        const doc = await this.loadOrder(ctx.params.id);
        if (!doc) throw new NotFoundError("Order");
        // No deadline: the saga has nothing outstanding (confirmed, or cancelled and settled).
        if (doc.deadline === null) throw new InvalidStateError("The order has no step to re-drive");
        const effects = await this.redriveOne(doc);
        if (effects === null)
          throw new ServiceUnavailableError("The order changed meanwhile, retry");
        return { id: doc._id, effects };
      },
    },
  },

  events: {
    [PAYMENT_SUCCEEDED]: {
      params: paymentSucceeded.params.rule,
      async handler(ctx: Context<PaymentSucceededEvent>) {
        const { orderId, paymentId } = ctx.params;
        if (!(await this.paymentBacks(ctx, "succeeded"))) return;
        await this.drive(
          orderId,
          (s, now) => onPaymentSucceeded(s, paymentId, now, this.timing()),
          ctx,
        );
      },
    },
    [PAYMENT_FAILED]: {
      params: paymentFailed.params.rule,
      async handler(ctx: Context<PaymentFailedEvent>) {
        const { orderId, paymentId } = ctx.params;
        if (!(await this.paymentBacks(ctx, "failed"))) return;
        await this.drive(
          orderId,
          (s, now) => onPaymentFailed(s, paymentId, now, this.timing()),
          ctx,
        );
      },
    },
    [PAYMENT_REFUNDED]: {
      params: paymentRefunded.params.rule,
      async handler(ctx: Context<PaymentRefundedEvent>) {
        const { orderId, paymentId } = ctx.params;
        if (!(await this.paymentBacks(ctx, "refunded"))) return;
        await this.drive(orderId, (s) => onPaymentRefunded(s, paymentId), ctx);
      },
    },
  },

  methods: {
    publicOrder(doc: OrderDoc): Order {
      const order: Order = {
        id: doc._id,
        userId: doc.userId,
        status: doc.status,
        items: doc.items as OrderLine[],
        total: doc.total,
        currency: doc.currency,
        payment: doc.payment,
        history: doc.history,
        createdAt: doc.createdAt,
        updatedAt: doc.updatedAt,
      };
      if (doc.cancelReason) order.cancelReason = doc.cancelReason;
      return order;
    },

    timing(): Timing {
      return { stepDeadlineMs: config().orders.stepDeadlineMs };
    },

    async loadOrder(id: string): Promise<OrderDoc | null> {
      return (await this.store.findById(id)) as OrderDoc | null;
    },

    /** Owner or admin, and placed; anything else is indistinguishable from a missing order. */
    async visibleOrder(id: string, meta: GatewayMeta): Promise<OrderDoc> {
      const doc = await this.loadOrder(id);
      const user = meta.user!;
      if (
        !doc ||
        !VISIBLE_STATUSES.includes(doc.status) ||
        (doc.userId !== user.id && !isAdmin(user))
      ) {
        throw new NotFoundError("Order");
      }
      return doc;
    },

    /**
     * Whether payments recorded the payment a payment event announces, for this order and its
     * amount (services/orders/payment-check.ts). The event itself proves nothing: any node on
     * the mesh can emit it. A redelivered or late event passes the same way as the first.
     */
    async paymentBacks(
      ctx: Context<{ orderId: string; paymentId: string }>,
      outcome: PaymentOutcome,
    ): Promise<boolean> {
      const { orderId } = ctx.params;
      const doc = await this.loadOrder(orderId);
      if (!doc) return false;
      const record = await ctx.call<PaymentRecord | null, { orderId: string }>(PAYMENTS_LOOKUP, {
        orderId,
      });
      const why = unbackedPayment(outcome, ctx.params, doc, record);
      if (why === null) return true;
      this.logger.warn(
        `Ignored ${ctx.eventName} for order ${orderId} from node ${ctx.nodeID}: ${why}.`,
      );
      return false;
    },

    /**
     * The order an earlier request with this key placed. Its body must match. While that
     * request is still reserving, wait for it (bounded): it ends placed or withdrawn.
     */
    async findByIdemKey(idemKey: string, bodyHash: string): Promise<OrderDoc | null> {
      const until = Date.now() + this.timing().stepDeadlineMs;
      for (;;) {
        const existing = (await this.store.findOne({ idemKey })) as OrderDoc | null;
        if (!existing) return null;
        if (existing.bodyHash !== bodyHash) throw new IdempotencyConflictError();
        if (VISIBLE_STATUSES.includes(existing.status)) return existing;
        if (Date.now() > until) {
          throw new ServiceUnavailableError("The first request with this key is still running");
        }
        await sleep(50);
      }
    },

    /**
     * Applies one transition as a conditional update on the expected state, then its effects.
     * Resolves to the order as the transition left it, or `null` when the order moved on
     * meanwhile (the caller decides again on the fresh document).
     */
    async applyTransition(doc, t, emitter, { extra = {}, background = false } = {}) {
      const set: Record<string, unknown> = {
        ...extra,
        deadline: t.set.deadline,
        updatedAt: new Date().toISOString(),
      };
      if (t.set.status) set.status = t.set.status;
      if (t.set.paymentStatus) set["payment.status"] = t.set.paymentStatus;
      if (t.set.paymentId) set["payment.id"] = t.set.paymentId;
      if (t.set.cancelReason) set.cancelReason = t.set.cancelReason;
      const push: Record<string, unknown> = {};
      if (t.history) {
        const entry: HistoryEntry = { status: t.history.status, at: String(set.updatedAt) };
        if (t.history.reason) entry.reason = t.history.reason;
        push.history = entry;
      }
      // The event the transition owes (one at most: state-machine.ts) goes into the outbox by
      // this same write (lib/outbox.ts).
      const owed = t.effects.map((e: Effect) => EVENT_OF_EFFECT[e]).find(Boolean);
      const pending = owed ? pendingEvent(owed, Date.now()) : null;
      if (pending) {
        Object.assign(push, pending.push);
        Object.assign(set, pending.set);
      }
      const update: Record<string, unknown> = { $set: set, $inc: { rev: 1 } };
      if (Object.keys(push).length > 0) update.$push = push;
      const changed = await this.store.updateWhere(
        { _id: doc._id, status: t.expect.status, "payment.status": t.expect.paymentStatus },
        update,
      );
      if (changed === 0) return null;
      if (owed) crashPoint(owed);
      if (t.set.status === "confirmed" || t.set.status === "cancelled") {
        countDomain(this.broker, "ordersFinal", {
          status: t.set.status,
          reason: t.set.cancelReason ?? "",
        });
      }
      const fresh = await this.loadOrder(doc._id);
      if (!fresh) return null;
      if (t.set.status) this.broadcastStatusChange(fresh);
      const effects = this.runEffects(fresh, t, emitter, pending ? [pending.entry] : []);
      if (!background) await effects;
      else {
        // A failed effect is redone by the sweeper: the order's deadline is still set.
        effects.catch((err: unknown) => this.logger.warn(`Effects of order ${doc._id}:`, err));
      }
      return fresh;
    },

    /** Decides and applies on the latest document until a transition wins or none is due. */
    async drive(orderId, decide, emitter) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const doc = await this.loadOrder(orderId);
        if (!doc) return null;
        const decision = decide(sagaState(doc), Date.now());
        if (decision.kind !== "transition") return decision;
        if (await this.applyTransition(doc, decision.transition, emitter)) return decision;
      }
      throw new ServiceUnavailableError("The order is changing too fast, please retry");
    },

    async runEffects(doc, t, emitter, pending) {
      for (const effect of t.effects) {
        switch (effect) {
          case "releaseStock":
            if (await this.releaseStock(doc)) {
              await this.store.updateWhere(
                { _id: doc._id, stockReleased: false },
                { $set: { stockReleased: true }, $inc: { rev: 1 } },
              );
            }
            break;
          case "abandon":
            // A reservation for this order may still land after this release: the checkout's
            // products.reserve may be retried after a timeout, up to three tries of one request
            // timeout each. So the order (and its deadline) stays, and every pass releases
            // again, until that window has passed; only then is the last release final.
            if (await this.releaseStock(doc)) {
              const window = 3 * config().requestTimeoutMs + 5_000;
              if (Date.now() - Date.parse(doc.createdAt) > window) {
                await this.store.removeById(doc._id);
                this.logger.warn(`Abandoned order ${doc._id}: its checkout did not complete.`);
              }
            }
            break;
          default:
            // The emits: their events are in the outbox, delivered below.
            break;
        }
      }
      await deliver(this.store, doc._id, pending, (e) => this.emitEvent(e.event, doc, emitter));
      if (doc.status === "cancelled") await this.settle(doc._id);
    },

    async emitEvent(event: string, doc: OrderDoc, emitter: Emitter) {
      const payload = orderEvent(event, doc);
      if (payload) await emitter.emit(event, payload);
    },

    /**
     * Tells every gateway that the order's status changed (contracts/orders.ts,
     * `order.statusChanged`), for its owner's open streams. Display only: a lost broadcast
     * costs a live update, never a state change, so it is not awaited.
     */
    broadcastStatusChange(doc: OrderDoc) {
      if (!VISIBLE_STATUSES.includes(doc.status)) return;
      const event = orderStatusChanged.build(`${doc._id}:${doc.rev}`, {
        order: this.publicOrder(doc),
      });
      this.broker
        .broadcast(orderStatusChanged.name, event)
        .catch((err: unknown) => this.logger.warn(`Status broadcast of order ${doc._id}:`, err));
    },

    /** products.release is idempotent; a failure leaves the deadline set, so the sweeper retries. */
    async releaseStock(doc: OrderDoc): Promise<boolean> {
      try {
        await this.broker.call("products.release", {
          orderId: doc._id,
          productIds: productIdsOf(doc),
        });
        return true;
      } catch (err) {
        this.logger.warn(`Releasing the stock of order ${doc._id} failed; will retry:`, err);
        return false;
      }
    },

    /** Clears the deadline of a cancelled order once nothing is outstanding. */
    async settle(orderId: string) {
      await this.store.updateWhere(
        {
          _id: orderId,
          status: "cancelled",
          stockReleased: true,
          "payment.status": { $in: ["failed", "refunded"] },
          deadline: { $ne: null },
        },
        { $set: { deadline: null }, $inc: { rev: 1 } },
      );
    },

    /**
     * One pass over the orders whose deadline passed, oldest first, a bounded batch. Each order
     * is claimed by moving its deadline with a conditional update, so with several orders
     * replicas only one re-drives it; a pass that dies half-way leaves the rest due.
     */
    async sweep() {
      const due = (await this.store.find({
        query: { deadline: { $lte: Date.now() } },
        sort: ["deadline"],
        limit: SWEEP_BATCH,
      })) as OrderDoc[];
      for (const doc of due) {
        if (!this.sweeper) return;
        await this.redriveOne(doc);
      }
      await resendDue(
        this.store,
        (doc, e) => this.emitEvent(e.event, doc as OrderDoc, this.broker),
        (message) => this.logger.info(message),
      );
    },

    /**
     * Claims the order by moving its deadline (conditional on the one read), then applies what
     * the state machine says a passed deadline means. `null` when another replica claimed it.
     */
    async redriveOne(doc: OrderDoc): Promise<Effect[] | null> {
      const timing = this.timing();
      const now = Date.now();
      const next = now + timing.stepDeadlineMs;
      const claimed = await this.store.updateWhere(
        { _id: doc._id, deadline: doc.deadline },
        { $set: { deadline: next }, $inc: { rev: 1, redrives: 1 } },
      );
      if (claimed === 0) return null;
      countDomain(this.broker, "ordersRedriven", { status: doc.status });
      const claimedDoc: OrderDoc = { ...doc, deadline: next };
      const decision = onDeadline(sagaState(claimedDoc), now, timing);
      if (decision.kind !== "transition") return [];
      // Past a deadline is not the normal path: say so, it is how a lost event shows.
      const { effects } = decision.transition;
      if (effects.length > 0) {
        this.logger.info(`Re-driving order ${doc._id} (${doc.status}): ${effects.join(", ")}`);
      }
      // The re-driven events continue the checkout's trace, under its orders.create span, so
      // Jaeger shows a late payment where the checkout is (not as a trace of its own).
      const { trace } = doc;
      const emitter: Emitter = {
        emit: (event: string, payload?: unknown) =>
          this.broker.emit(
            event,
            payload,
            trace
              ? { parentSpan: { id: trace.spanID, traceID: trace.traceID, sampled: true } }
              : {},
          ),
      };
      // A transition that loses a race is simply retried at the next deadline.
      await this.applyTransition(claimedDoc, decision.transition, emitter);
      return effects;
    },
  },

  started() {
    const interval = config().orders.sweeperIntervalMs;
    this.sweeping = null;
    this.sweeper = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.logger.error("Sweeper pass failed:", err))
        .finally(() => {
          this.sweeping = null;
        });
    }, interval);
  },

  async stopped() {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.sweeping;
  },
});
