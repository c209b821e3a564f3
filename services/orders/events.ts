/**
 * The events an order announces, built from the stored order: the saga's emits and the
 * outbox's re-sends (lib/outbox.ts) send the same payload with the same `eventId`, so a
 * consumer recognises the second copy. No Moleculer.
 */
import {
  ORDER_CANCELLED,
  ORDER_CONFIRMED,
  ORDER_CREATED,
  orderCancelled,
  orderConfirmed,
  orderCreated,
  type CancelReason,
  type OrderCancelledEvent,
  type OrderConfirmedEvent,
  type OrderCreatedEvent,
} from "../../contracts/orders";
import type { Effect } from "./state-machine";

/** The order fields the payloads read. */
export interface OrderFacts {
  _id: string;
  userId: string;
  total: number;
  currency: string;
  paymentToken: string;
  cancelReason?: CancelReason;
  items: Array<{ productId: string }>;
}

export type OrderEvent = OrderCreatedEvent | OrderConfirmedEvent | OrderCancelledEvent;

/** The event each emitting effect of the state machine owes. */
export const EVENT_OF_EFFECT: Partial<Record<Effect, string>> = {
  emitCreated: ORDER_CREATED,
  emitConfirmed: ORDER_CONFIRMED,
  emitCancelled: ORDER_CANCELLED,
};

/** The payload of `event` for this order; `null` for a name orders does not emit. */
export function orderEvent(event: string, doc: OrderFacts): OrderEvent | null {
  const base = { orderId: doc._id, userId: doc.userId };
  switch (event) {
    case ORDER_CREATED:
      return {
        ...base,
        eventId: orderCreated.eventId(doc._id),
        amount: doc.total,
        currency: doc.currency,
        paymentToken: doc.paymentToken,
      };
    case ORDER_CONFIRMED:
      return {
        ...base,
        eventId: orderConfirmed.eventId(doc._id),
        total: doc.total,
        currency: doc.currency,
        productIds: doc.items.map((i) => i.productId),
      };
    case ORDER_CANCELLED:
      return {
        ...base,
        eventId: orderCancelled.eventId(doc._id),
        reason: doc.cancelReason ?? "cancelled_by_customer",
        amount: doc.total,
        currency: doc.currency,
      };
    default:
      return null;
  }
}
