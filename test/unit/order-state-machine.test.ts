import {
  onCustomerCancel,
  onDeadline,
  onPaymentFailed,
  onPaymentRefunded,
  onPaymentSucceeded,
  onReserved,
  settled,
  type Decision,
  type SagaState,
  type Transition,
} from "../../services/orders/state-machine";

const timing = { stepDeadlineMs: 1_000 };
const NOW = 10_000;

function state(over: Partial<SagaState> = {}): SagaState {
  return {
    status: "pending",
    payment: { status: "pending" },
    stockReleased: false,
    paymentDueAt: NOW + 60_000,
    deadline: NOW,
    ...over,
  };
}

function transitionOf(d: Decision): Transition {
  if (d.kind !== "transition") throw new Error(`expected a transition, got ${d.kind}`);
  return d.transition;
}

describe("order saga state machine", () => {
  it("places a reserving order as pending and asks for payment, never past the due time", () => {
    const t = transitionOf(onReserved(state({ status: "reserving" }), NOW, timing));
    expect(t.expect).toEqual({ status: "reserving", paymentStatus: "pending" });
    expect(t.set).toMatchObject({ status: "pending", deadline: NOW + 1_000 });
    expect(t.history).toEqual({ status: "pending" });
    expect(t.effects).toEqual(["emitCreated"]);

    const soonDue = state({ status: "reserving", paymentDueAt: NOW + 200 });
    expect(transitionOf(onReserved(soonDue, NOW, timing)).set.deadline).toBe(NOW + 200);
    expect(onReserved(state({ status: "pending" }), NOW, timing).kind).toBe("ignore");
  });

  it("confirms a pending order when its payment succeeds, and only a pending one", () => {
    const t = transitionOf(onPaymentSucceeded(state(), "pay-1", NOW, timing));
    expect(t.set).toMatchObject({
      status: "confirmed",
      paymentStatus: "succeeded",
      paymentId: "pay-1",
      deadline: null,
    });
    expect(t.effects).toEqual(["emitConfirmed"]);
    const confirmed = state({ status: "confirmed", payment: { status: "succeeded" } });
    expect(onPaymentSucceeded(confirmed, "pay-1", NOW, timing).kind).toBe("ignore");
  });

  it("asks for a refund when a charge succeeds after the order was cancelled", () => {
    const cancelled = state({ status: "cancelled", stockReleased: true });
    const t = transitionOf(onPaymentSucceeded(cancelled, "pay-1", NOW, timing));
    expect(t.set).toMatchObject({ paymentStatus: "refunding", paymentId: "pay-1" });
    expect(t.set.status).toBeUndefined();
    expect(t.effects).toEqual(["emitCancelled"]);
    // A second copy of the event changes nothing: the refund is already asked for.
    const refunding = state({ status: "cancelled", payment: { status: "refunding" } });
    expect(onPaymentSucceeded(refunding, "pay-1", NOW, timing).kind).toBe("ignore");
  });

  it("cancels a pending order with payment_declined, releasing its stock", () => {
    const t = transitionOf(onPaymentFailed(state(), "pay-1", NOW, timing));
    expect(t.set).toMatchObject({
      status: "cancelled",
      cancelReason: "payment_declined",
      paymentStatus: "failed",
    });
    expect(t.history).toEqual({ status: "cancelled", reason: "payment_declined" });
    expect(t.effects).toEqual(["releaseStock", "emitCancelled"]);
    const confirmed = state({ status: "confirmed", payment: { status: "succeeded" } });
    expect(onPaymentFailed(confirmed, "pay-1", NOW, timing).kind).toBe("ignore");
  });

  it("lets the customer cancel before payment, after payment with a refund, and not twice", () => {
    const before = transitionOf(onCustomerCancel(state(), NOW, timing));
    expect(before.set).toMatchObject({
      status: "cancelled",
      cancelReason: "cancelled_by_customer",
      paymentStatus: "pending",
    });
    expect(before.effects).toEqual(["releaseStock", "emitCancelled"]);

    const paid = state({ status: "confirmed", payment: { status: "succeeded" }, deadline: null });
    const after = transitionOf(onCustomerCancel(paid, NOW, timing));
    expect(after.expect).toEqual({ status: "confirmed", paymentStatus: "succeeded" });
    expect(after.set).toMatchObject({ status: "cancelled", paymentStatus: "refunding" });
    expect(after.set.deadline).toBe(NOW + 1_000);

    expect(onCustomerCancel(state({ status: "cancelled" }), NOW, timing)).toEqual({
      kind: "reject",
      reason: "The order is already cancelled",
    });
    expect(onCustomerCancel(state({ status: "reserving" }), NOW, timing).kind).toBe("reject");
  });

  it("records a refund only for a cancelled order awaiting it", () => {
    const refunding = state({ status: "cancelled", payment: { status: "refunding" } });
    expect(transitionOf(onPaymentRefunded(refunding, "pay-1")).set.paymentStatus).toBe("refunded");
    const unknown = state({ status: "cancelled", payment: { status: "pending" } });
    expect(transitionOf(onPaymentRefunded(unknown, "pay-1")).set.paymentStatus).toBe("refunded");
    const refunded = state({ status: "cancelled", payment: { status: "refunded" } });
    expect(onPaymentRefunded(refunded, "pay-1").kind).toBe("ignore");
    const confirmed = state({ status: "confirmed", payment: { status: "succeeded" } });
    expect(onPaymentRefunded(confirmed, "pay-1").kind).toBe("ignore");
  });

  describe("when a deadline passes", () => {
    it("re-sends order.created for a pending order that is not yet due", () => {
      const t = transitionOf(onDeadline(state(), NOW, timing));
      expect(t.set).toEqual({ deadline: NOW + 1_000 });
      expect(t.effects).toEqual(["emitCreated"]);
    });

    it("cancels an unpaid order at its due time with payment_timeout", () => {
      const t = transitionOf(onDeadline(state({ paymentDueAt: NOW }), NOW, timing));
      expect(t.set).toMatchObject({ status: "cancelled", cancelReason: "payment_timeout" });
      expect(t.effects).toEqual(["releaseStock", "emitCancelled"]);
    });

    it("abandons a checkout that never finished reserving", () => {
      const t = transitionOf(onDeadline(state({ status: "reserving" }), NOW, timing));
      expect(t.set.status).toBe("abandoned");
      expect(t.effects).toEqual(["abandon"]);
      const again = transitionOf(onDeadline(state({ status: "abandoned" }), NOW, timing));
      expect(again.effects).toEqual(["abandon"]);
    });

    it("finishes a cancelled order's release and refund, then stops", () => {
      const open = state({ status: "cancelled", payment: { status: "refunding" } });
      expect(transitionOf(onDeadline(open, NOW, timing)).effects).toEqual([
        "releaseStock",
        "emitCancelled",
      ]);
      const done = state({
        status: "cancelled",
        stockReleased: true,
        payment: { status: "refunded" },
      });
      const t = transitionOf(onDeadline(done, NOW, timing));
      expect(t.effects).toEqual([]);
      expect(t.set.deadline).toBeNull();
    });
  });

  it("calls a cancelled order settled once its stock is back and its payment final", () => {
    expect(settled(state({ status: "cancelled", stockReleased: true }))).toBe(false);
    expect(
      settled(state({ status: "cancelled", stockReleased: true, payment: { status: "failed" } })),
    ).toBe(true);
    expect(
      settled(state({ status: "cancelled", stockReleased: false, payment: { status: "failed" } })),
    ).toBe(false);
    expect(settled(state({ status: "confirmed", payment: { status: "succeeded" } }))).toBe(false);
  });
});
