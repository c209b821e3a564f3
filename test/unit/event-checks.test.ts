/**
 * The checks behind the event consumers (services/orders/payment-check.ts,
 * services/payments/order-check.ts): an event is acted on only when its owner's record backs it.
 */
import { unbackedPayment } from "../../services/orders/payment-check";
import { unbackedCancel, unbackedCharge } from "../../services/payments/order-check";
import type { OrderRecord } from "../../contracts/orders";
import type { PaymentRecord } from "../../contracts/payments";

const order = { total: 1400, currency: "USD" };
const paid: PaymentRecord = {
  id: "pay-1",
  orderId: "ord-1",
  amount: 1400,
  currency: "USD",
  status: "succeeded",
};
const event = { paymentId: "pay-1", orderId: "ord-1" };

describe("a payment event against the payments record", () => {
  it("is backed by the order's payment in the event's state with the order's amount", () => {
    expect(unbackedPayment("succeeded", event, order, paid)).toBeNull();
    expect(unbackedPayment("refunded", event, order, { ...paid, status: "refunded" })).toBeNull();
    expect(unbackedPayment("failed", event, order, { ...paid, status: "failed" })).toBeNull();
  });

  it("is not backed without a record, by another payment, in another state or for another amount", () => {
    expect(unbackedPayment("succeeded", event, order, null)).toMatch(/no payment/);
    expect(unbackedPayment("succeeded", { ...event, paymentId: "x" }, order, paid)).toMatch(
      /pay-1/,
    );
    expect(unbackedPayment("succeeded", event, order, { ...paid, status: "processing" })).toMatch(
      /processing/,
    );
    expect(unbackedPayment("succeeded", event, order, { ...paid, amount: 1 })).toMatch(/1 USD/);
    expect(
      unbackedPayment("refunded", event, order, { ...paid, currency: "EUR", status: "refunded" }),
    ).not.toBeNull();
  });
});

describe("an order event against the orders record", () => {
  const stored: OrderRecord = {
    id: "ord-1",
    userId: "u-1",
    status: "pending",
    total: 1400,
    currency: "USD",
    paymentToken: "tok_visa",
  };
  const created = {
    eventId: "e",
    orderId: "ord-1",
    userId: "u-1",
    amount: 1400,
    currency: "USD",
    paymentToken: "tok_visa",
  };
  const cancelled = {
    eventId: "e",
    orderId: "ord-1",
    userId: "u-1",
    reason: "cancelled_by_customer" as const,
    amount: 1400,
    currency: "USD",
  };

  it("charges a pending order with the event's customer, amount and card only", () => {
    expect(unbackedCharge(created, stored)).toBeNull();
    expect(unbackedCharge(created, null)).toMatch(/no such order/);
    expect(unbackedCharge(created, { ...stored, status: "cancelled" })).toMatch(/cancelled/);
    expect(unbackedCharge({ ...created, amount: 1 }, stored)).toMatch(/1400 USD/);
    expect(unbackedCharge({ ...created, userId: "u-2" }, stored)).toMatch(/another customer/);
    expect(unbackedCharge({ ...created, paymentToken: "tok_other" }, stored)).toMatch(/card token/);
  });

  it("refunds or voids only an order that orders cancelled", () => {
    expect(unbackedCancel(cancelled, { ...stored, status: "cancelled" })).toBeNull();
    expect(unbackedCancel(cancelled, { ...stored, status: "confirmed" })).toMatch(/confirmed/);
    expect(unbackedCancel(cancelled, null)).toMatch(/no such order/);
  });
});
