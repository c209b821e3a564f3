import {
  VOIDED,
  announcement,
  chargeOutcome,
  claim,
  onOrderCancelled,
  onOrderCreated,
  refundOutcome,
  startRefund,
  type PaymentState,
} from "../../services/payments/state-machine";

const NOW = 100_000;
const STALE_MS = 5_000;

function payment(status: PaymentState["status"], claimedAgoMs = 0): PaymentState {
  return { status, claimedAt: NOW - claimedAgoMs };
}

describe("payment state machine", () => {
  describe("order.created", () => {
    it("charges an order that has no payment yet", () => {
      expect(onOrderCreated(null, NOW, STALE_MS)).toBe("charge");
    });

    it("re-announces a finished payment and never charges it again", () => {
      for (const status of ["succeeded", "failed", "refunding", "refunded"] as const) {
        expect(onOrderCreated(payment(status, STALE_MS * 10), NOW, STALE_MS)).toBe("announce");
      }
    });

    it("waits for a charge under way; resumes one left stale by a dead process", () => {
      expect(onOrderCreated(payment("processing", STALE_MS - 1), NOW, STALE_MS)).toBe("wait");
      expect(onOrderCreated(payment("processing", STALE_MS), NOW, STALE_MS)).toBe("resumeCharge");
    });
  });

  describe("order.cancelled", () => {
    it("voids an order not charged yet: its one slot is taken as failed (order_cancelled)", () => {
      expect(onOrderCancelled(null, NOW, STALE_MS)).toBe("void");
      expect(VOIDED).toEqual({
        status: "failed",
        failureReason: "order_cancelled",
        event: "payment.failed",
      });
    });

    it("refunds a kept charge", () => {
      expect(onOrderCancelled(payment("succeeded"), NOW, STALE_MS)).toBe("refund");
    });

    it("waits for a charge or refund under way; resumes one left stale", () => {
      expect(onOrderCancelled(payment("processing", 1), NOW, STALE_MS)).toBe("wait");
      expect(onOrderCancelled(payment("processing", STALE_MS), NOW, STALE_MS)).toBe("resumeCharge");
      expect(onOrderCancelled(payment("refunding", 1), NOW, STALE_MS)).toBe("wait");
      expect(onOrderCancelled(payment("refunding", STALE_MS), NOW, STALE_MS)).toBe("resumeRefund");
    });

    it("re-announces a final payment: a failed one is not refunded, a refunded one not twice", () => {
      expect(onOrderCancelled(payment("failed"), NOW, STALE_MS)).toBe("announce");
      expect(onOrderCancelled(payment("refunded"), NOW, STALE_MS)).toBe("announce");
    });
  });

  describe("claims", () => {
    it("takes over a stale step, conditional on the claim it read", () => {
      expect(claim(payment("processing", STALE_MS), NOW, STALE_MS)).toEqual({
        expect: { status: "processing", claimedAt: NOW - STALE_MS },
        set: { claimedAt: NOW },
      });
      expect(claim(payment("refunding", STALE_MS + 1), NOW, STALE_MS)).toEqual({
        expect: { status: "refunding", claimedAt: NOW - STALE_MS - 1 },
        set: { claimedAt: NOW },
      });
    });

    it("refuses a step still within its time, and a payment not in flight", () => {
      expect(claim(payment("processing", STALE_MS - 1), NOW, STALE_MS)).toBeNull();
      expect(claim(payment("refunding", 0), NOW, STALE_MS)).toBeNull();
      for (const status of ["succeeded", "failed", "refunded"] as const) {
        expect(claim(payment(status, STALE_MS * 10), NOW, STALE_MS)).toBeNull();
      }
    });
  });

  describe("refunds", () => {
    it("starts a refund only of a succeeded payment, where it is still succeeded", () => {
      expect(startRefund(payment("succeeded"), NOW)).toEqual({
        expect: { status: "succeeded" },
        set: { status: "refunding", claimedAt: NOW },
      });
      for (const status of ["processing", "failed", "refunding", "refunded"] as const) {
        expect(startRefund(payment(status), NOW)).toBeNull();
      }
    });

    it("records a refund where the payment is refunding, announcing payment.refunded", () => {
      expect(refundOutcome("re_1")).toEqual({
        expect: { status: "refunding" },
        set: { status: "refunded", refundId: "re_1" },
        event: "payment.refunded",
      });
    });
  });

  describe("charge outcomes", () => {
    it("records a charge where the payment is processing: succeeded with its charge id", () => {
      expect(chargeOutcome({ ok: true, chargeId: "ch_1" })).toEqual({
        expect: { status: "processing" },
        set: { status: "succeeded", chargeId: "ch_1" },
        event: "payment.succeeded",
      });
    });

    it("records a declined card as failed with the provider's reason", () => {
      expect(chargeOutcome({ ok: false, reason: "card_declined" })).toEqual({
        expect: { status: "processing" },
        set: { status: "failed", failureReason: "card_declined" },
        event: "payment.failed",
      });
    });
  });

  it("announces final statuses only: in-flight ones have no event yet", () => {
    expect(announcement("succeeded")).toBe("payment.succeeded");
    expect(announcement("failed")).toBe("payment.failed");
    expect(announcement("refunded")).toBe("payment.refunded");
    expect(announcement("processing")).toBeNull();
    expect(announcement("refunding")).toBeNull();
  });
});
