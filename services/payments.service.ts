/**
 * payments: charges and refunds through the provider (services/payments/provider.ts). Owns the
 * `payments` collection: one document per order, ever, by a unique index on `orderId`.
 *
 * Consumes `order.created` (charge) and `order.cancelled` (refund, or make sure no charge
 * happens later); emits `payment.succeeded` / `payment.failed` / `payment.refunded`. Every
 * event may arrive again (the orders sweeper re-emits until it hears back), so each handler
 * first looks at the stored payment: a finished one has its outcome re-sent, never redone.
 *
 * The outcome event (`payment.succeeded/failed/refunded`) is recorded in the payment's outbox by
 * the same write as the outcome and removed once emitted (lib/outbox.ts); a periodic pass
 * re-sends what a crash left unsent.
 *
 * A charge is recorded as `processing` before the provider is called. If this process dies
 * mid-charge, the record stays `processing`; once it is older than any charge could take
 * (stale), the next redelivery claims it and resumes with the same provider idempotency key.
 */
import { countDomain } from "../lib/metrics";
import { PaymentDeclinedError } from "../lib/errors";
import type { Context, ServiceSettingSchema } from "moleculer";
import { config } from "../lib/config";
import type { Page } from "../contracts/common";
import { defineService } from "../lib/define-service";
import type { GatewayMeta } from "../lib/auth";
import {
  ORDER_CANCELLED,
  ORDER_CREATED,
  ORDERS_LOOKUP,
  lookupParams,
  orderCancelled,
  orderCreated,
  type OrderCancelledEvent,
  type OrderCreatedEvent,
  type OrderRecord,
} from "../contracts/orders";
import {
  listParams,
  type ListParams,
  type Payment,
  type PaymentRecord,
  type PaymentStatus,
} from "../contracts/payments";
import { dbMixin, type DbMethods, type DbVars, type Query, type Stored } from "../mixins/db.mixin";
import {
  OUTBOX_INDEX,
  crashPoint,
  deliver,
  pendingEvent,
  resendDue,
  type OutboxFields,
} from "../lib/outbox";
import { createTestProvider, type ChargeResult, type PaymentProvider } from "./payments/provider";
import { unbackedCancel, unbackedCharge } from "./payments/order-check";
import { paymentEvent } from "./payments/events";
import {
  VOIDED,
  announcement,
  chargeOutcome,
  claim,
  onOrderCancelled,
  onOrderCreated,
  refundOutcome,
  startRefund,
  type Outcome,
  type PaymentWrite,
} from "./payments/state-machine";

interface PaymentDoc extends Stored, OutboxFields {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  failureReason?: string;
  /** Kept to resume a charge interrupted by a crash; a provider token, never card data. */
  paymentToken?: string;
  chargeId?: string;
  refundId?: string;
  /** The node that last worked on it (internal: shows how the work spread over replicas). */
  nodeId: string;
  /** Provider calls made for this payment; more than one only after a resumed crash. */
  attempts: number;
  /** When the current step was claimed (epoch ms); a step older than `staleMs` is resumed. */
  claimedAt: number;
  rev: number;
  createdAt: string;
  updatedAt: string;
}

interface PaymentsVars extends DbVars<PaymentDoc> {
  provider: PaymentProvider;
  outboxTimer: NodeJS.Timeout | null;
  outboxPass: Promise<unknown> | null;
}

type Emitter = Pick<Context, "emit">;
type Tracing = Pick<Context, "emit" | "startSpan" | "finishSpan">;
type OrderEvent = OrderCreatedEvent | OrderCancelledEvent;

interface PaymentsMethods extends DbMethods {
  publicPayment(doc: PaymentDoc): Payment;
  staleMs(): number;
  byOrder(orderId: string): Promise<PaymentDoc | null>;
  insertPayment(
    e: OrderEvent,
    fields: Pick<PaymentDoc, "status" | "attempts"> & Partial<PaymentDoc>,
  ): Promise<PaymentDoc | null>;
  write(doc: PaymentDoc, w: PaymentWrite, inc?: Record<string, number>): Promise<boolean>;
  claim(doc: PaymentDoc): Promise<PaymentDoc | null>;
  voidPayment(e: OrderCancelledEvent, emitter: Emitter): Promise<PaymentDoc | null>;
  charge(doc: PaymentDoc, ctx: Tracing): Promise<PaymentDoc>;
  refund(doc: PaymentDoc, emitter: Emitter): Promise<void>;
  record(doc: PaymentDoc, outcome: Outcome, emitter: Emitter): Promise<PaymentDoc | null>;
  announce(doc: PaymentDoc, emitter: Emitter): Promise<void>;
  emitEvent(event: string, doc: PaymentDoc, emitter: Emitter): Promise<void>;
  orderBacks<E extends OrderEvent>(
    ctx: Context<E>,
    check: (event: E, order: OrderRecord | null) => string | null,
  ): Promise<boolean>;
}

export default defineService<ServiceSettingSchema, PaymentsMethods, PaymentsVars>({
  name: "payments",
  mixins: [
    dbMixin<PaymentDoc>({
      collection: "payments",
      indexes: [{ field: "orderId", unique: true }, { field: "userId" }, OUTBOX_INDEX],
    }),
  ],

  actions: {
    list: {
      auth: "user",
      params: listParams.rule,
      async handler(ctx: Context<ListParams, GatewayMeta>): Promise<Page<Payment>> {
        const { page, pageSize, orderId } = ctx.params;
        const query: Query = { userId: ctx.meta.user!.id };
        if (orderId) query.orderId = orderId;
        return this.store.findPage(query, ["-createdAt", "-_id"], page, pageSize, (d) =>
          this.publicPayment(d),
        );
      },
    },

    /** For orders, which acts only on payments this service recorded (contracts/orders.ts, "The owners' records"). */
    lookup: {
      visibility: "public",
      params: lookupParams.rule,
      async handler(ctx: Context<{ orderId: string }>): Promise<PaymentRecord | null> {
        const doc = await this.byOrder(ctx.params.orderId);
        if (!doc) return null;
        const { _id: id, orderId, amount, currency, status } = doc;
        return { id, orderId, amount, currency, status };
      },
    },
  },

  // Each handler asks the state machine (services/payments/state-machine.ts) what the stored
  // payment calls for, and applies it as a conditional write.
  events: {
    [ORDER_CREATED]: {
      params: orderCreated.params.rule,
      async handler(ctx: Context<OrderCreatedEvent>) {
        const e = ctx.params;
        if (!(await this.orderBacks(ctx, unbackedCharge))) return;
        const inserted = await this.insertPayment(e, {
          status: "processing",
          paymentToken: e.paymentToken,
          attempts: 1,
        });
        if (inserted) return void (await this.charge(inserted, ctx));
        // A redelivery: this order has its one payment already.
        const existing = await this.byOrder(e.orderId);
        if (!existing) return;
        switch (onOrderCreated(existing, Date.now(), this.staleMs())) {
          case "announce":
            return this.announce(existing, ctx);
          case "resumeCharge": {
            const claimed = await this.claim(existing);
            if (claimed) await this.charge(claimed, ctx);
            return;
          }
          default:
            return; // still being charged by its first handler
        }
      },
    },

    [ORDER_CANCELLED]: {
      params: orderCancelled.params.rule,
      async handler(ctx: Context<OrderCancelledEvent>) {
        const e = ctx.params;
        if (!(await this.orderBacks(ctx, unbackedCancel))) return;
        let doc = await this.byOrder(e.orderId);
        let step = onOrderCancelled(doc, Date.now(), this.staleMs());
        if (step === "void") {
          // null: this handler took the slot and announced it.
          doc = await this.voidPayment(e, ctx);
          if (!doc) return;
          step = onOrderCancelled(doc, Date.now(), this.staleMs());
        }
        if (step === "resumeCharge" && doc) {
          // Only a charge abandoned by a dead process is finished here; one under way is
          // awaited (orders hears payment.succeeded and asks again).
          const claimed = await this.claim(doc);
          if (!claimed) return;
          doc = await this.charge(claimed, ctx);
          step = onOrderCancelled(doc, Date.now(), this.staleMs());
        }
        if (!doc) return;
        switch (step) {
          case "refund": {
            const started = startRefund(doc, Date.now());
            if (started && (await this.write(doc, started))) await this.refund(doc, ctx);
            return;
          }
          case "resumeRefund": {
            const claimed = await this.claim(doc);
            if (claimed) await this.refund(claimed, ctx);
            return;
          }
          case "announce":
            return this.announce(doc, ctx);
          default:
            return;
        }
      },
    },
  },

  methods: {
    publicPayment(doc: PaymentDoc): Payment {
      const p: Payment = {
        id: doc._id,
        orderId: doc.orderId,
        userId: doc.userId,
        amount: doc.amount,
        currency: doc.currency,
        status: doc.status,
        createdAt: doc.createdAt,
      };
      if (doc.failureReason) p.failureReason = doc.failureReason;
      return p;
    },

    /** Longer than any provider call may take (the slow test card included) plus a step. */
    staleMs(): number {
      const cfg = config();
      return cfg.payments.slowMs + cfg.orders.stepDeadlineMs;
    },

    async byOrder(orderId: string): Promise<PaymentDoc | null> {
      return this.store.findOne({ orderId });
    },

    /** The order's one payment, inserted; `null` when the order has one already (unique index). */
    async insertPayment(e, fields) {
      const now = Date.now();
      const iso = new Date(now).toISOString();
      try {
        return await this.store.insert({
          orderId: e.orderId,
          userId: e.userId,
          amount: e.amount,
          currency: e.currency,
          nodeId: this.broker.nodeID,
          claimedAt: now,
          rev: 0,
          createdAt: iso,
          updatedAt: iso,
          ...fields,
        });
      } catch (err) {
        if (!this.store.isDuplicateKeyError(err)) throw err;
        return null;
      }
    },

    /** Applies a write of the state machine where the payment still matches; whether it did. */
    async write(doc, w, inc = {}) {
      const changed = await this.store.updateWhere(
        { _id: doc._id, ...w.expect },
        { $set: { ...w.set, nodeId: this.broker.nodeID }, $inc: { rev: 1, ...inc } },
      );
      return changed > 0;
    },

    /** Takes over a stale step; `null` if it is not stale or another replica took it first. */
    async claim(doc: PaymentDoc): Promise<PaymentDoc | null> {
      const now = Date.now();
      const w = claim(doc, now, this.staleMs());
      if (!w || !(await this.write(doc, w, { attempts: 1 }))) return null;
      this.logger.warn(`Resuming the stale ${doc.status} payment of order ${doc.orderId}.`);
      return { ...doc, claimedAt: now, nodeId: this.broker.nodeID, attempts: doc.attempts + 1 };
    },

    /**
     * Not charged yet: takes the order's one payment slot as `failed`, so an order.created still
     * on its way can never charge a cancelled order, and announces it. When another handler took
     * the slot first, resolves to that payment; `null` once this one announced its own.
     */
    async voidPayment(e: OrderCancelledEvent, emitter: Emitter): Promise<PaymentDoc | null> {
      const owed = pendingEvent(VOIDED.event, Date.now());
      const inserted = await this.insertPayment(e, {
        status: VOIDED.status,
        failureReason: VOIDED.failureReason,
        attempts: 0,
        outbox: [owed.entry],
        ...owed.set,
      });
      if (!inserted) return this.byOrder(e.orderId);
      crashPoint(VOIDED.event);
      await deliver(this.store, inserted._id, [owed.entry], (entry) =>
        this.emitEvent(entry.event, inserted, emitter),
      );
      return null;
    },

    async charge(doc: PaymentDoc, ctx: Tracing): Promise<PaymentDoc> {
      // The provider call gets a span of its own, child of the event's: its duration is the
      // card network's, and a refused card marks it failed, so a declined checkout shows in Jaeger.
      const span = ctx.startSpan("payment provider charge", {
        tags: { orderId: doc.orderId, attempt: doc.attempts },
      });
      let result: ChargeResult;
      try {
        result = await this.provider.charge({
          idempotencyKey: doc.orderId,
          token: doc.paymentToken ?? "",
          amount: doc.amount,
          currency: doc.currency,
          metadata: { orderId: doc.orderId, attempt: doc.attempts },
        });
      } catch (err) {
        span.setError(err as Error);
        ctx.finishSpan(span);
        throw err;
      }
      span.addTags({ outcome: result.ok ? "succeeded" : result.reason });
      if (!result.ok) span.setError(new PaymentDeclinedError(result.reason));
      ctx.finishSpan(span);
      const recorded = await this.record(doc, chargeOutcome(result), ctx);
      if (recorded) {
        countDomain(this.broker, "payments", { outcome: result.ok ? "succeeded" : result.reason });
        return recorded;
      }
      // Another handler recorded it first: the stored outcome is the one announced.
      const stored = (await this.byOrder(doc.orderId)) ?? doc;
      await this.announce(stored, ctx);
      return stored;
    },

    async refund(doc: PaymentDoc, emitter: Emitter): Promise<void> {
      const { refundId } = await this.provider.refund({
        idempotencyKey: `refund:${doc.orderId}`,
        chargeId: doc.chargeId ?? "",
        amount: doc.amount,
      });
      if (await this.record(doc, refundOutcome(refundId), emitter)) {
        countDomain(this.broker, "payments", { outcome: "refunded" });
        return;
      }
      const stored = await this.byOrder(doc.orderId);
      if (stored) await this.announce(stored, emitter);
    },

    /**
     * Records a final outcome where the payment is still in the outcome's expected state, with
     * its event in the outbox by the same write, then emits it. `null` when the payment moved on.
     */
    async record(doc, outcome, emitter) {
      const now = Date.now();
      const owed = pendingEvent(outcome.event, now);
      const changed = await this.store.updateWhere(
        { _id: doc._id, status: outcome.expect.status },
        {
          $set: { ...outcome.set, ...owed.set, updatedAt: new Date(now).toISOString() },
          $push: owed.push,
          $inc: { rev: 1 },
        },
      );
      if (changed === 0) return null;
      crashPoint(outcome.event);
      const stored = (await this.byOrder(doc.orderId)) ?? { ...doc, ...outcome.set };
      await deliver(this.store, doc._id, [owed.entry], (e) =>
        this.emitEvent(e.event, stored, emitter),
      );
      return stored;
    },

    /**
     * Whether orders holds the order an order event speaks of, in the state the event says
     * (services/payments/order-check.ts). The event itself proves nothing: any node on the mesh
     * can emit it, and a charge or a refund moves money.
     */
    async orderBacks<E extends OrderEvent>(
      ctx: Context<E>,
      check: (event: E, order: OrderRecord | null) => string | null,
    ): Promise<boolean> {
      const order = await ctx.call<OrderRecord | null, { orderId: string }>(ORDERS_LOOKUP, {
        orderId: ctx.params.orderId,
      });
      const why = check(ctx.params, order);
      if (why === null) return true;
      this.logger.warn(
        `Ignored ${ctx.eventName} for order ${ctx.params.orderId} from node ${ctx.nodeID}: ${why}.`,
      );
      return false;
    },

    /** Re-sends the event of a payment's final state; in-flight states have none yet. */
    async announce(doc: PaymentDoc, emitter: Emitter): Promise<void> {
      const event = announcement(doc.status);
      if (event) await this.emitEvent(event, doc, emitter);
    },

    async emitEvent(event: string, doc: PaymentDoc, emitter: Emitter): Promise<void> {
      const payload = paymentEvent(event, doc);
      if (payload) await emitter.emit(event, payload);
    },
  },

  created() {
    const { slowMs, chargeLog } = config().payments;
    this.provider = createTestProvider({ slowMs, chargeLog });
  },

  // The outbox pass runs as often as the orders sweeper (SWEEPER_INTERVAL_MS).
  started() {
    this.outboxPass = null;
    this.outboxTimer = setInterval(() => {
      if (this.outboxPass) return;
      this.outboxPass = resendDue(
        this.store,
        (doc, e) => this.emitEvent(e.event, doc, this.broker),
        (message) => this.logger.info(message),
      )
        .catch((err: unknown) => this.logger.error("Outbox pass failed:", err))
        .finally(() => {
          this.outboxPass = null;
        });
    }, config().orders.sweeperIntervalMs);
  },

  async stopped() {
    if (this.outboxTimer) clearInterval(this.outboxTimer);
    this.outboxTimer = null;
    await this.outboxPass;
  },
});
