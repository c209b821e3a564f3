/** What each notification says. Plain functions of the event, no Moleculer. */
import type { CancelReason } from "../../contracts/orders";
import type { NotificationType } from "../../contracts/notifications";

export type { NotificationType };

export interface Message {
  subject: string;
  body: string;
}

/** `1299, "USD"` → `"12.99 USD"`: minor units shown without ever becoming a float. */
export function formatMoney(amount: number, currency: string): string {
  const major = Math.trunc(amount / 100);
  const minor = String(Math.abs(amount % 100)).padStart(2, "0");
  return `${major}.${minor} ${currency}`;
}

const CANCEL_TEXT: Record<CancelReason, string> = {
  payment_declined: "the payment was declined",
  cancelled_by_customer: "you cancelled it",
  payment_timeout: "it was not paid in time",
};

export function welcome(name: string): Message {
  return {
    subject: "Welcome to commerce-mesh",
    body: `Hi ${name}, your account is ready. Happy shopping!`,
  };
}

export function orderConfirmed(orderId: string, total: number, currency: string): Message {
  return {
    subject: `Order ${orderId} confirmed`,
    body: `We received your payment of ${formatMoney(total, currency)}; your order is confirmed.`,
  };
}

export function orderCancelled(orderId: string, reason: CancelReason): Message {
  return {
    subject: `Order ${orderId} cancelled`,
    body: `Your order was cancelled because ${CANCEL_TEXT[reason]}. Its items are back in stock.`,
  };
}

export function paymentRefunded(orderId: string, amount: number, currency: string): Message {
  return {
    subject: `Refund for order ${orderId}`,
    body: `${formatMoney(amount, currency)} is on its way back to your card.`,
  };
}
