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

/** The order as an e-mail shows it (what `orders.get` answers, trimmed to these fields). */
export interface MailOrder {
  id: string;
  items: Array<{ name: string; quantity: number; unitPrice: number; lineTotal: number }>;
  total: number;
  currency: string;
}

export interface Mail {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * The e-mail of a stored notification: its subject and text, greeted by name, and for order
 * mails the order's lines and total. Names come from users and products: escaped in the HTML.
 */
export function renderMail(message: Message, name: string, order: MailOrder | null): Mail {
  const text = [`Hi ${name},`, "", message.body];
  const html = [`<p>Hi ${escapeHtml(name)},</p>`, `<p>${escapeHtml(message.body)}</p>`];
  if (order) {
    const money = (amount: number) => formatMoney(amount, order.currency);
    text.push("", `Order ${order.id}:`);
    html.push(`<p>Order ${escapeHtml(order.id)}:</p>`, "<table>");
    for (const line of order.items) {
      text.push(
        `  ${line.quantity} x ${line.name} at ${money(line.unitPrice)} = ${money(line.lineTotal)}`,
      );
      html.push(
        `<tr><td>${line.quantity} &times; ${escapeHtml(line.name)}</td>` +
          `<td>${escapeHtml(money(line.unitPrice))}</td><td>${escapeHtml(money(line.lineTotal))}</td></tr>`,
      );
    }
    text.push(`Total: ${money(order.total)}`);
    html.push(
      `<tr><th colspan="2">Total</th><th>${escapeHtml(money(order.total))}</th></tr>`,
      "</table>",
    );
  }
  text.push("", "— commerce-mesh");
  html.push("<p>— commerce-mesh</p>");
  return { subject: message.subject, text: text.join("\n"), html: html.join("\n") };
}
