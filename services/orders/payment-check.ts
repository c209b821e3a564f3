/**
 * Whether the payments service's record backs a payment event (contracts/orders.ts, "The
 * owners' records"). Orders confirms, cancels or settles an order only on a payment that payments
 * recorded for that order, with the order's amount: a `payment.succeeded` forged by any other
 * node on the mesh confirms nothing. No Moleculer.
 */
import type { PaymentRecord } from "../../contracts/payments";

export type PaymentOutcome = "succeeded" | "failed" | "refunded";

/** `null` when the record backs the event; otherwise why it does not (for the log). */
export function unbackedPayment(
  outcome: PaymentOutcome,
  event: { paymentId: string; orderId: string },
  order: { total: number; currency: string },
  record: PaymentRecord | null,
): string | null {
  if (!record || record.orderId !== event.orderId) return "payments has no payment for the order";
  if (record.id !== event.paymentId) return `the order's payment is ${record.id}`;
  if (record.status !== outcome) return `the payment is ${record.status}`;
  if (outcome === "failed") return null;
  if (record.amount !== order.total || record.currency !== order.currency) {
    return `the payment is ${record.amount} ${record.currency}, the order ${order.total} ${order.currency}`;
  }
  return null;
}
