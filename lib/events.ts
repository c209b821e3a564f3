/**
 * Domain events: one definition each (name, validator schema, TypeScript type), shared by the
 * producer, the consumers and the tests. Every payload carries an `eventId` so a consumer can
 * recognise a redelivery. Events are emitted balanced (`ctx.emit`): one instance of each
 * subscribing service handles each event.
 */
export const USER_REGISTERED = "user.registered";

export interface UserRegisteredEvent {
  eventId: string;
  userId: string;
  email: string;
  name: string;
}

export const userRegisteredSchema = {
  eventId: "string",
  userId: "string",
  email: "string",
  name: "string",
} as const;

/**
 * A user's earlier tokens ended (password or role changed, user gone). Broadcast, not emitted
 * balanced: every gateway replica drops the user's remembered tokens
 * (services/api/token-cache.ts).
 */
export const USER_TOKENS_REVOKED = "user.tokensRevoked";

export interface UserTokensRevokedEvent {
  eventId: string;
  userId: string;
}

export const userTokensRevokedSchema = { eventId: "string", userId: "string" } as const;

/** Checkout placed an order and reserved its stock: payments charges it. */
export const ORDER_CREATED = "order.created";

export interface OrderCreatedEvent {
  eventId: string;
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  paymentToken: string;
}

export const orderCreatedSchema = {
  eventId: "string",
  orderId: "string",
  userId: "string",
  amount: { type: "number", integer: true, min: 0 },
  currency: "string",
  paymentToken: "string",
} as const;

/** The order's payment succeeded and the order is confirmed: notifications tells the customer. */
export const ORDER_CONFIRMED = "order.confirmed";

export interface OrderConfirmedEvent {
  eventId: string;
  orderId: string;
  userId: string;
  total: number;
  currency: string;
  /** The order's products, for the recommendations service's bought-together counts. */
  productIds: string[];
}

export const orderConfirmedSchema = {
  eventId: "string",
  orderId: "string",
  userId: "string",
  total: { type: "number", integer: true, min: 0 },
  currency: "string",
  // Optional on the way in: an orders node older than the field still confirms orders.
  productIds: { type: "array", items: "string", optional: true },
} as const;

export type CancelReason = "payment_declined" | "cancelled_by_customer" | "payment_timeout";
export const CANCEL_REASONS: readonly CancelReason[] = [
  "payment_declined",
  "cancelled_by_customer",
  "payment_timeout",
];

/**
 * The order is cancelled and its stock released. Payments refunds any charge the order has (a
 * paid order, or a charge that succeeded after the cancellation) and makes sure none is made
 * later; notifications tells the customer. Re-emitted by the sweeper until payments has
 * answered with the payment's final state.
 */
export const ORDER_CANCELLED = "order.cancelled";

export interface OrderCancelledEvent {
  eventId: string;
  orderId: string;
  userId: string;
  reason: CancelReason;
  amount: number;
  currency: string;
}

export const orderCancelledSchema = {
  eventId: "string",
  orderId: "string",
  userId: "string",
  reason: { type: "enum", values: [...CANCEL_REASONS] },
  amount: { type: "number", integer: true, min: 0 },
  currency: "string",
} as const;

/** A charge succeeded: orders confirms the order (or refunds it if it was cancelled meanwhile). */
export const PAYMENT_SUCCEEDED = "payment.succeeded";

export interface PaymentSucceededEvent {
  eventId: string;
  paymentId: string;
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
}

export const paymentSucceededSchema = {
  eventId: "string",
  paymentId: "string",
  orderId: "string",
  userId: "string",
  amount: { type: "number", integer: true, min: 0 },
  currency: "string",
} as const;

/** A charge was declined: orders cancels the order (`payment_declined`). */
export const PAYMENT_FAILED = "payment.failed";

export interface PaymentFailedEvent {
  eventId: string;
  paymentId: string;
  orderId: string;
  userId: string;
  reason: string;
}

export const paymentFailedSchema = {
  eventId: "string",
  paymentId: "string",
  orderId: "string",
  userId: "string",
  reason: "string",
} as const;

/** A charge was refunded: orders records it, notifications tells the customer. */
export const PAYMENT_REFUNDED = "payment.refunded";

export interface PaymentRefundedEvent {
  eventId: string;
  paymentId: string;
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
}

export const paymentRefundedSchema = {
  eventId: "string",
  paymentId: "string",
  orderId: "string",
  userId: "string",
  amount: { type: "number", integer: true, min: 0 },
  currency: "string",
} as const;

/**
 * The owners' records behind the events above. Any node on the mesh can emit an event, so a
 * consumer whose handling changes state (confirms an order, charges, refunds) does not act on
 * the payload alone: it asks the event's owner for its record (`payments.lookup`,
 * `orders.lookup`, internal actions the gateway never exposes) and acts only when the record
 * backs the event (docs/DEPLOY.md, "Trust boundary").
 */
export const PAYMENTS_LOOKUP = "payments.lookup";
export const ORDERS_LOOKUP = "orders.lookup";

/** `payments.lookup`: the payment the payments service recorded for an order, or `null`. */
export interface PaymentRecord {
  id: string;
  orderId: string;
  amount: number;
  currency: string;
  status: "processing" | "succeeded" | "failed" | "refunding" | "refunded";
}

/** `orders.lookup`: an order as the orders service stores it, or `null`. */
export interface OrderRecord {
  id: string;
  userId: string;
  status: "reserving" | "abandoned" | "pending" | "confirmed" | "cancelled";
  total: number;
  currency: string;
  paymentToken: string;
}

export const lookupParams = {
  orderId: { type: "string", min: 1, max: 64 },
} as const;
