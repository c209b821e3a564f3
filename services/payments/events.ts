/**
 * The events a payment announces, built from the stored payment: the first emit, the outbox's
 * re-sends (lib/outbox.ts) and the re-announcements of a finished payment send the same payload
 * with the same `eventId`, so a consumer recognises the second copy. No Moleculer.
 */
import {
  PAYMENT_FAILED,
  PAYMENT_REFUNDED,
  PAYMENT_SUCCEEDED,
  paymentFailed,
  paymentRefunded,
  paymentSucceeded,
  type PaymentFailedEvent,
  type PaymentRefundedEvent,
  type PaymentSucceededEvent,
} from "../../contracts/payments";

/** The payment fields the payloads read. */
export interface PaymentFacts {
  _id: string;
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  failureReason?: string;
}

export type PaymentEvent = PaymentSucceededEvent | PaymentFailedEvent | PaymentRefundedEvent;

/** The payload of `event` for this payment; `null` for a name payments does not emit. */
export function paymentEvent(event: string, doc: PaymentFacts): PaymentEvent | null {
  const base = { paymentId: doc._id, orderId: doc.orderId, userId: doc.userId };
  switch (event) {
    case PAYMENT_SUCCEEDED:
      return {
        ...base,
        eventId: paymentSucceeded.eventId(doc._id),
        amount: doc.amount,
        currency: doc.currency,
      };
    case PAYMENT_FAILED:
      return {
        ...base,
        eventId: paymentFailed.eventId(doc._id),
        reason: doc.failureReason ?? "failed",
      };
    case PAYMENT_REFUNDED:
      return {
        ...base,
        eventId: paymentRefunded.eventId(doc._id),
        amount: doc.amount,
        currency: doc.currency,
      };
    default:
      return null;
  }
}
