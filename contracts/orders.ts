/** orders: checkout, the customer's orders, and the saga's events. */
import { id, pagingProps } from "./common";
import { defineEvent, type EventOf } from "./events";
import { orderLines } from "./products";
import { params, s, type Infer, type InferParams } from "./schema";

/** `reserving` and `abandoned` are internal; a customer sees the other three. */
export const ORDER_STATUSES = [
  "reserving",
  "abandoned",
  "pending",
  "confirmed",
  "cancelled",
] as const;
export const PAYMENT_STATES = ["pending", "succeeded", "failed", "refunding", "refunded"] as const;
export const CANCEL_REASONS = [
  "payment_declined",
  "cancelled_by_customer",
  "payment_timeout",
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

const orderStatus = s.enum(ORDER_STATUSES, { example: "pending" });

export const order = s.object({
  id: s.string({ example: "o_5d0e7a" }),
  userId: s.string(),
  status: orderStatus,
  items: s.array(
    s.object({
      productId: s.string(),
      sku: s.string({ example: "MUG-001" }),
      name: s.string({ example: "Enamel mug" }),
      unitPrice: s.int({ min: 0, example: 1999 }),
      quantity: s.int({ min: 1, example: 2 }),
      lineTotal: s.int({ min: 0, example: 3998 }),
    }),
  ),
  total: s.int({ min: 0, description: "Minor units (cents)", example: 3998 }),
  currency: s.string({ example: "USD" }),
  payment: s.object({
    status: s.enum(PAYMENT_STATES),
    id: s.optional(s.string()),
  }),
  cancelReason: s.optional(s.enum(CANCEL_REASONS)),
  history: s.array(
    s.object({
      status: orderStatus,
      at: s.dateTime(),
      reason: s.optional(s.string()),
    }),
  ),
  createdAt: s.dateTime(),
  updatedAt: s.dateTime(),
});
export type Order = Infer<typeof order>;
export type OrderLine = Order["items"][number];

/** The provider's test tokens (services/payments/provider.ts); anything else is a card token. */
export const TEST_PAYMENT_TOKENS = {
  tok_visa: "charges successfully",
  tok_chargeDeclined: "is declined: the order is cancelled with `payment_declined`",
  tok_slow: "answers slowly: the order stays `pending` for a while",
} as const;

export const createParams = params(
  {
    items: orderLines,
    paymentToken: s.string({
      min: 1,
      max: 200,
      description: `A payment provider's token, never card data. Test tokens: ${Object.entries(
        TEST_PAYMENT_TOKENS,
      )
        .map(([token, what]) => `\`${token}\` ${what}`)
        .join("; ")}.`,
      example: "tok_visa",
    }),
  },
  { strip: true },
);
export type CreateParams = InferParams<typeof createParams>;

export const listParams = params(
  { ...pagingProps, userId: s.optional(id("Another user's orders (admins only)")) },
  { strip: true },
);
export type ListParams = InferParams<typeof listParams>;

export const idParams = params({ id: id("Order id") });

export const stuckParams = params({
  limit: s.withDefault(s.int({ min: 1, max: 500 }), 20),
});

/** Checkout placed an order and reserved its stock: payments charges it. */
export const ORDER_CREATED = "order.created";
export const orderCreated = defineEvent(ORDER_CREATED, {
  orderId: s.string(),
  userId: s.string(),
  amount: s.int({ min: 0 }),
  currency: s.string(),
  paymentToken: s.string(),
});
export type OrderCreatedEvent = EventOf<typeof orderCreated>;

/** The order's payment succeeded and the order is confirmed: notifications tells the customer. */
export const ORDER_CONFIRMED = "order.confirmed";
export const orderConfirmed = defineEvent(ORDER_CONFIRMED, {
  orderId: s.string(),
  userId: s.string(),
  total: s.int({ min: 0 }),
  currency: s.string(),
  // The order's products, for the recommendations service's bought-together counts; optional on
  // the way in, so an orders node older than the field still confirms orders.
  productIds: s.optional(s.array(s.string())),
});
export type OrderConfirmedEvent = EventOf<typeof orderConfirmed>;

/**
 * The order is cancelled and its stock released. Payments refunds any charge the order has (a
 * paid order, or a charge that succeeded after the cancellation) and makes sure none is made
 * later; notifications tells the customer. Re-emitted by the sweeper until payments has
 * answered with the payment's final state.
 */
export const ORDER_CANCELLED = "order.cancelled";
export const orderCancelled = defineEvent(ORDER_CANCELLED, {
  orderId: s.string(),
  userId: s.string(),
  reason: s.enum(CANCEL_REASONS),
  amount: s.int({ min: 0 }),
  currency: s.string(),
});
export type OrderCancelledEvent = EventOf<typeof orderCancelled>;

/**
 * The owners' records behind the events. Any node on the mesh can emit an event, so a consumer
 * whose handling changes state (confirms an order, charges, refunds) does not act on the payload
 * alone: it asks the event's owner for its record (`payments.lookup`, `orders.lookup`, internal
 * actions the gateway never exposes) and acts only when the record backs the event
 * (docs/DEPLOY.md, "Trust boundary").
 */
export const ORDERS_LOOKUP = "orders.lookup";
export const lookupParams = params({ orderId: s.string({ min: 1, max: 64 }) });

/** `orders.lookup`: an order as the orders service stores it, or `null`. */
export interface OrderRecord {
  id: string;
  userId: string;
  status: (typeof ORDER_STATUSES)[number];
  total: number;
  currency: string;
  paymentToken: string;
}

/**
 * An order the customer sees changed status (pending, confirmed, cancelled): the order as
 * `GET /api/orders/{id}` answers it. Broadcast, not emitted balanced: every gateway replica
 * writes it to the owner's open `GET /api/orders/stream` responses. It is for display only —
 * nothing acts on it, so it needs no owner's record behind it — and it is not in the outbox: a
 * page that reconnects reads the order again.
 */
export const ORDER_STATUS_CHANGED = "order.statusChanged";
export const orderStatusChanged = defineEvent(ORDER_STATUS_CHANGED, { order });
export type OrderStatusChangedEvent = EventOf<typeof orderStatusChanged>;
