/**
 * Whether the orders service's record backs an order event (contracts/orders.ts, "The owners'
 * records"). Payments charges only an order that orders holds as pending with the event's
 * amount, customer and card token, and refunds or voids only an order that orders cancelled: an
 * `order.created` or `order.cancelled` forged by any other node on the mesh moves no money.
 * No Moleculer.
 */
import type { OrderCreatedEvent, OrderCancelledEvent, OrderRecord } from "../../contracts/orders";

/** Why the order does not match the event's customer and amount; `null` when it does. */
function mismatch(
  event: { userId: string; amount: number; currency: string },
  order: OrderRecord,
): string | null {
  if (order.userId !== event.userId) return "the order belongs to another customer";
  if (order.total !== event.amount || order.currency !== event.currency) {
    return `the order is ${order.total} ${order.currency}, the event ${event.amount} ${event.currency}`;
  }
  return null;
}

/** `null` when a charge may go ahead; otherwise why not (for the log). */
export function unbackedCharge(event: OrderCreatedEvent, order: OrderRecord | null): string | null {
  if (!order || order.id !== event.orderId) return "orders has no such order";
  if (order.status !== "pending") return `the order is ${order.status}`;
  if (order.paymentToken !== event.paymentToken) return "the card token is not the order's";
  return mismatch(event, order);
}

/** `null` when the order was cancelled as the event says; otherwise why not (for the log). */
export function unbackedCancel(
  event: OrderCancelledEvent,
  order: OrderRecord | null,
): string | null {
  if (!order || order.id !== event.orderId) return "orders has no such order";
  if (order.status !== "cancelled") return `the order is ${order.status}`;
  return mismatch(event, order);
}
