/** payments: charges and refunds through the payment provider, and their events. */
import { pagingProps } from "./common";
import { defineEvent, type EventOf } from "./events";
import { params, s, type Infer, type InferParams } from "./schema";

export const PAYMENT_STATUSES = [
  "processing",
  "succeeded",
  "failed",
  "refunding",
  "refunded",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const payment = s.object({
  id: s.string({ example: "pay_71c0de" }),
  orderId: s.string(),
  userId: s.string(),
  amount: s.int({ min: 0, description: "Minor units (cents)", example: 3998 }),
  currency: s.string({ example: "USD" }),
  status: s.enum(PAYMENT_STATUSES, { example: "succeeded" }),
  failureReason: s.optional(s.string({ example: "card_declined" })),
  createdAt: s.dateTime(),
});
export type Payment = Infer<typeof payment>;

export const listParams = params(
  {
    ...pagingProps,
    orderId: s.optional(s.string({ min: 1, max: 64, description: "Only this order's payment" })),
  },
  { strip: true },
);
export type ListParams = InferParams<typeof listParams>;

/** A charge succeeded: orders confirms the order (or refunds it if it was cancelled meanwhile). */
export const PAYMENT_SUCCEEDED = "payment.succeeded";
export const paymentSucceeded = defineEvent(PAYMENT_SUCCEEDED, {
  paymentId: s.string(),
  orderId: s.string(),
  userId: s.string(),
  amount: s.int({ min: 0 }),
  currency: s.string(),
});
export type PaymentSucceededEvent = EventOf<typeof paymentSucceeded>;

/** A charge was declined: orders cancels the order (`payment_declined`). */
export const PAYMENT_FAILED = "payment.failed";
export const paymentFailed = defineEvent(PAYMENT_FAILED, {
  paymentId: s.string(),
  orderId: s.string(),
  userId: s.string(),
  reason: s.string(),
});
export type PaymentFailedEvent = EventOf<typeof paymentFailed>;

/** A charge was refunded: orders records it, notifications tells the customer. */
export const PAYMENT_REFUNDED = "payment.refunded";
export const paymentRefunded = defineEvent(PAYMENT_REFUNDED, {
  paymentId: s.string(),
  orderId: s.string(),
  userId: s.string(),
  amount: s.int({ min: 0 }),
  currency: s.string(),
});
export type PaymentRefundedEvent = EventOf<typeof paymentRefunded>;

/** See contracts/orders.ts, "The owners' records". */
export const PAYMENTS_LOOKUP = "payments.lookup";

/** `payments.lookup`: the payment the payments service recorded for an order, or `null`. */
export interface PaymentRecord {
  id: string;
  orderId: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
}
