/**
 * orders: checkout and the order saga (API.md, "Orders"; DESIGN.md, "Events are fire-and-forget
 * in Moleculer; orders must not be"). Owns the `orders` collection. The schema only: checkout's
 * steps are services/orders/checkout.ts, the saga's machinery (transitions, effects, outbox,
 * sweeper pass) services/orders/saga.ts, its decisions services/orders/state-machine.ts.
 *
 * - `create` stores the order (`reserving`), reserves its stock, prices it and makes it
 *   `pending`, announcing `order.created`; payments answers with an event.
 * - Payment events, customer cancels and the sweeper's passed deadlines all go through
 *   `saga.drive` / `saga.redrive`: one conditional update per transition, its event in the
 *   order's outbox by the same write.
 * - The sweeper runs every SWEEPER_INTERVAL_MS; its pass also re-sends unsent outbox entries.
 */
import { countDomain } from "../lib/metrics";
import type { Context, ServiceSettingSchema } from "moleculer";
import { config } from "../lib/config";
import { defineService } from "../lib/define-service";
import { InvalidStateError, NotFoundError, ServiceUnavailableError } from "../lib/errors";
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
  type CreateParams,
  type ListParams,
  type Order,
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
import { dbMixin, type DbMethods, type DbVars, type Query } from "../mixins/db.mixin";
import { OUTBOX_INDEX } from "../lib/outbox";
import { callWithFailover } from "../lib/failover-call";
import { Checkout, checkRequest } from "./orders/checkout";
import { publicOrder, type OrderDoc } from "./orders/order-doc";
import { unbackedPayment, type PaymentOutcome } from "./orders/payment-check";
import { Saga, type StuckOrder } from "./orders/saga";
import {
  VISIBLE_STATUSES,
  onCustomerCancel,
  onPaymentFailed,
  onPaymentRefunded,
  onPaymentSucceeded,
  type Decision,
  type Effect,
  type OrderStatus,
  type SagaState,
  type Timing,
  type Transition,
} from "./orders/state-machine";

interface OrdersVars extends DbVars<OrderDoc> {
  saga: Saga;
  checkout: Checkout;
  sweeper: NodeJS.Timeout | null;
  sweeping: Promise<void> | null;
}

interface OrdersMethods extends DbMethods {
  timing(): Timing;
  transitionApplied(order: OrderDoc, t: Transition): void;
  visibleOrder(id: string, meta: GatewayMeta): Promise<OrderDoc>;
  onPayment(
    ctx: Context<{ orderId: string; paymentId: string }>,
    outcome: PaymentOutcome,
    decide: (s: SagaState, now: number) => Decision,
  ): Promise<void>;
}

export default defineService<ServiceSettingSchema, OrdersMethods, OrdersVars>({
  name: "orders",
  mixins: [
    dbMixin<OrderDoc>({
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
        const key = ctx.meta.idempotencyKey;
        checkRequest(ctx.params, key);
        const { order, replayed } = await this.checkout.storeOrder({
          userId: ctx.meta.user!.id,
          body: ctx.params,
          idempotencyKey: key,
          trace: ctx.span ? { traceID: ctx.span.traceID, spanID: ctx.span.id } : undefined,
        });
        if (replayed) {
          ctx.meta.$statusCode = 200;
          return publicOrder(order);
        }
        const lines = await this.checkout.reserveStock(order, ctx.params.items, ctx);
        const placed = await this.checkout.placeOrder(order, lines, ctx);
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/orders/${placed._id}`;
        return publicOrder(placed);
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
        return this.store.findPage(query, ["-createdAt", "-_id"], page, pageSize, publicOrder);
      },
    },

    get: {
      auth: "user",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<Order> {
        return publicOrder(await this.visibleOrder(ctx.params.id, ctx.meta));
      },
    },

    cancel: {
      auth: "user",
      params: idParams.rule,
      async handler(ctx: Context<{ id: string }, GatewayMeta>): Promise<Order> {
        const doc = await this.visibleOrder(ctx.params.id, ctx.meta);
        const decision = await this.saga.drive(
          doc._id,
          (s, now) => onCustomerCancel(s, now, this.timing()),
          ctx,
        );
        if (decision?.kind === "reject") throw new InvalidStateError(decision.reason);
        const fresh = await this.saga.load(doc._id);
        if (!fresh) throw new NotFoundError("Order");
        return publicOrder(fresh);
      },
    },

    /** For payments, which charges and refunds only orders this service holds (contracts/orders.ts, "The owners' records"). */
    lookup: {
      visibility: "public",
      params: lookupParams.rule,
      async handler(ctx: Context<{ orderId: string }>): Promise<OrderRecord | null> {
        const doc = await this.saga.load(ctx.params.orderId);
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
        return this.saga.stuck(ctx.params.limit);
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
        const doc = await this.saga.load(ctx.params.id);
        if (!doc) throw new NotFoundError("Order");
        // No deadline: the saga has nothing outstanding (confirmed, or cancelled and settled).
        if (doc.deadline === null) throw new InvalidStateError("The order has no step to re-drive");
        const effects = await this.saga.redrive(doc);
        if (effects === null)
          throw new ServiceUnavailableError("The order changed meanwhile, retry");
        return { id: doc._id, effects };
      },
    },
  },

  events: {
    [PAYMENT_SUCCEEDED]: {
      params: paymentSucceeded.params.rule,
      handler(ctx: Context<PaymentSucceededEvent>) {
        const { paymentId } = ctx.params;
        return this.onPayment(ctx, "succeeded", (s, now) =>
          onPaymentSucceeded(s, paymentId, now, this.timing()),
        );
      },
    },
    [PAYMENT_FAILED]: {
      params: paymentFailed.params.rule,
      handler(ctx: Context<PaymentFailedEvent>) {
        const { paymentId } = ctx.params;
        return this.onPayment(ctx, "failed", (s, now) =>
          onPaymentFailed(s, paymentId, now, this.timing()),
        );
      },
    },
    [PAYMENT_REFUNDED]: {
      params: paymentRefunded.params.rule,
      handler(ctx: Context<PaymentRefundedEvent>) {
        const { paymentId } = ctx.params;
        return this.onPayment(ctx, "refunded", (s) => onPaymentRefunded(s, paymentId));
      },
    },
  },

  methods: {
    timing(): Timing {
      return { stepDeadlineMs: config().orders.stepDeadlineMs };
    },

    /** Every transition the saga writes passes here once, before its effects run. */
    /**
     * Called by the saga once per applied transition, with the order as written: counts final
     * orders and broadcasts every status change to every gateway (each pushes it to the owner's
     * open `GET /api/orders/stream`; a broadcast, not a balanced event, so no gateway misses it).
     */
    transitionApplied(order: OrderDoc, t: Transition) {
      if (t.set.status === "confirmed" || t.set.status === "cancelled") {
        countDomain(this.broker, "ordersFinal", {
          status: t.set.status,
          reason: t.set.cancelReason ?? "",
        });
      }
      if (t.set.status && VISIBLE_STATUSES.includes(order.status)) {
        const event = orderStatusChanged.build(`${order._id}:${order.rev}`, {
          order: publicOrder(order),
        });
        this.broker
          .broadcast(orderStatusChanged.name, event)
          .catch((err: unknown) =>
            this.logger.warn(`Status broadcast of order ${order._id}:`, err),
          );
      }
    },

    /** Owner or admin, and placed; anything else is indistinguishable from a missing order. */
    async visibleOrder(id: string, meta: GatewayMeta): Promise<OrderDoc> {
      const doc = await this.saga.load(id);
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
     * Drives the order on a payment event, if payments recorded that payment for this order and
     * its amount (services/orders/payment-check.ts). The event itself proves nothing: any node on
     * the mesh can emit it. A redelivered or late event passes the same way as the first.
     */
    async onPayment(
      ctx: Context<{ orderId: string; paymentId: string }>,
      outcome: PaymentOutcome,
      decide: (s: SagaState, now: number) => Decision,
    ) {
      const { orderId } = ctx.params;
      const doc = await this.saga.load(orderId);
      if (!doc) return;
      // Hedged to another payments replica when the first is slow or silent (a dying node):
      // the check would otherwise wait the request timeout and delay the confirmation.
      const record = await callWithFailover<PaymentRecord | null, { orderId: string }>(
        ctx,
        PAYMENTS_LOOKUP,
        { orderId },
      );
      const why = unbackedPayment(outcome, ctx.params, doc, record);
      if (why === null) {
        await this.saga.drive(orderId, decide, ctx);
        return;
      }
      this.logger.warn(
        `Ignored ${ctx.eventName} for order ${orderId} from node ${ctx.nodeID}: ${why}.`,
      );
    },
  },

  created() {
    this.saga = new Saga({
      store: this.store,
      emitter: this.broker,
      caller: this.broker,
      timing: () => this.timing(),
      // The checkout's products.reserve may be retried after a timeout: up to three tries of
      // one request timeout each, and a margin.
      abandonAfterMs: () => 3 * config().requestTimeoutMs + 5_000,
      log: this.logger,
      applied: (order, t) => this.transitionApplied(order, t),
      redriven: (order) => countDomain(this.broker, "ordersRedriven", { status: order.status }),
    });
    this.checkout = new Checkout({
      store: this.store,
      saga: this.saga,
      reachable: (action) =>
        this.broker.registry.getActionEndpoints(action)?.hasAvailable() ?? false,
      timing: () => this.timing(),
      paymentTimeoutMs: () => config().orders.paymentTimeoutMs,
    });
  },

  started() {
    const interval = config().orders.sweeperIntervalMs;
    this.sweeping = null;
    this.sweeper = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.saga
        .sweep(() => this.sweeper !== null)
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
