/**
 * payments: charges and refunds through the provider (services/payments/provider.ts). Owns the
 * `payments` collection: one document per order, ever, by a unique index on `orderId`.
 *
 * Consumes `order.created` (charge) and `order.cancelled` (refund, or make sure no charge
 * happens later); emits `payment.succeeded` / `payment.failed` / `payment.refunded`. Every
 * event may arrive again (the orders sweeper re-emits until it hears back), so each handler
 * first looks at the stored payment: a finished one has its outcome re-sent, never redone.
 *
 * Each handler asks the state machine (services/payments/state-machine.ts) what the stored
 * payment calls for; the ledger (services/payments/ledger.ts) applies it as a conditional write,
 * the outcome's event in the payment's outbox by the same write; a periodic pass re-sends what a
 * crash left unsent.
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
} from "../contracts/payments";
import { dbMixin, type DbMethods, type DbVars, type Query } from "../mixins/db.mixin";
import { OUTBOX_INDEX } from "../lib/outbox";
import { createTestProvider, type ChargeResult, type PaymentProvider } from "./payments/provider";
import { unbackedCancel, unbackedCharge } from "./payments/order-check";
import { Ledger, publicPayment, type Emitter, type PaymentDoc } from "./payments/ledger";
import {
  chargeOutcome,
  onOrderCancelled,
  onOrderCreated,
  refundOutcome,
  startRefund,
} from "./payments/state-machine";

interface PaymentsVars extends DbVars<PaymentDoc> {
  ledger: Ledger;
  provider: PaymentProvider;
  outboxTimer: NodeJS.Timeout | null;
  outboxPass: Promise<unknown> | null;
}

type Tracing = Pick<Context, "emit" | "startSpan" | "finishSpan">;

interface PaymentsMethods extends DbMethods {
  staleMs(): number;
  charge(doc: PaymentDoc, ctx: Tracing): Promise<PaymentDoc>;
  refund(doc: PaymentDoc, emitter: Emitter): Promise<void>;
  orderBacks<E extends OrderCreatedEvent | OrderCancelledEvent>(
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
        return this.store.findPage(query, ["-createdAt", "-_id"], page, pageSize, publicPayment);
      },
    },

    /** For orders, which acts only on payments this service recorded (contracts/orders.ts, "The owners' records"). */
    lookup: {
      visibility: "public",
      params: lookupParams.rule,
      async handler(ctx: Context<{ orderId: string }>): Promise<PaymentRecord | null> {
        const doc = await this.ledger.byOrder(ctx.params.orderId);
        if (!doc) return null;
        const { _id: id, orderId, amount, currency, status } = doc;
        return { id, orderId, amount, currency, status };
      },
    },
  },

  events: {
    [ORDER_CREATED]: {
      params: orderCreated.params.rule,
      async handler(ctx: Context<OrderCreatedEvent>) {
        const e = ctx.params;
        if (!(await this.orderBacks(ctx, unbackedCharge))) return;
        const started = await this.ledger.startCharge(e);
        if (started) return void (await this.charge(started, ctx));
        // A redelivery: this order has its one payment already.
        const existing = await this.ledger.byOrder(e.orderId);
        if (!existing) return;
        switch (onOrderCreated(existing, Date.now(), this.staleMs())) {
          case "announce":
            return this.ledger.announce(existing, ctx);
          case "resumeCharge": {
            const claimed = await this.ledger.claim(existing);
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
        let doc = await this.ledger.byOrder(e.orderId);
        let step = onOrderCancelled(doc, Date.now(), this.staleMs());
        if (step === "void") {
          // null: this handler took the slot and announced it.
          doc = await this.ledger.voidPayment(e, ctx);
          if (!doc) return;
          step = onOrderCancelled(doc, Date.now(), this.staleMs());
        }
        if (step === "resumeCharge" && doc) {
          // Only a charge abandoned by a dead process is finished here; one under way is
          // awaited (orders hears payment.succeeded and asks again).
          const claimed = await this.ledger.claim(doc);
          if (!claimed) return;
          doc = await this.charge(claimed, ctx);
          step = onOrderCancelled(doc, Date.now(), this.staleMs());
        }
        if (!doc) return;
        switch (step) {
          case "refund": {
            const started = startRefund(doc, Date.now());
            if (started && (await this.ledger.write(doc, started))) await this.refund(doc, ctx);
            return;
          }
          case "resumeRefund": {
            const claimed = await this.ledger.claim(doc);
            if (claimed) await this.refund(claimed, ctx);
            return;
          }
          case "announce":
            return this.ledger.announce(doc, ctx);
          default:
            return;
        }
      },
    },
  },

  methods: {
    /** Longer than any provider call may take (the slow test card included) plus a step. */
    staleMs(): number {
      const cfg = config();
      return cfg.payments.slowMs + cfg.orders.stepDeadlineMs;
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
      const recorded = await this.ledger.record(doc, chargeOutcome(result), ctx);
      if (recorded) {
        countDomain(this.broker, "payments", { outcome: result.ok ? "succeeded" : result.reason });
        return recorded;
      }
      // Another handler recorded it first: the stored outcome is the one announced.
      const stored = (await this.ledger.byOrder(doc.orderId)) ?? doc;
      await this.ledger.announce(stored, ctx);
      return stored;
    },

    async refund(doc: PaymentDoc, emitter: Emitter): Promise<void> {
      const { refundId } = await this.provider.refund({
        idempotencyKey: `refund:${doc.orderId}`,
        chargeId: doc.chargeId ?? "",
        amount: doc.amount,
      });
      if (await this.ledger.record(doc, refundOutcome(refundId), emitter)) {
        countDomain(this.broker, "payments", { outcome: "refunded" });
        return;
      }
      const stored = await this.ledger.byOrder(doc.orderId);
      if (stored) await this.ledger.announce(stored, emitter);
    },

    /**
     * Whether orders holds the order an order event speaks of, in the state the event says
     * (services/payments/order-check.ts). The event itself proves nothing: any node on the mesh
     * can emit it, and a charge or a refund moves money.
     */
    async orderBacks<E extends OrderCreatedEvent | OrderCancelledEvent>(
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
  },

  created() {
    const { slowMs, chargeLog } = config().payments;
    this.provider = createTestProvider({ slowMs, chargeLog });
    this.ledger = new Ledger({
      store: this.store,
      nodeId: this.broker.nodeID,
      staleMs: () => this.staleMs(),
      log: this.logger,
    });
  },

  // The outbox pass runs as often as the orders sweeper (SWEEPER_INTERVAL_MS).
  started() {
    this.outboxPass = null;
    this.outboxTimer = setInterval(() => {
      if (this.outboxPass) return;
      this.outboxPass = this.ledger
        .resendDue(this.broker)
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
