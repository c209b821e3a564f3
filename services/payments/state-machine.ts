/**
 * The payment of one order as pure decisions: what `order.created` and `order.cancelled` ask of
 * the order's payment, when a step left by a dead process may be taken over, and what a charge
 * or refund outcome writes. It knows nothing of Moleculer or the database: payments.service.ts
 * applies each write as a conditional update on the `expect`ed state, so of two handlers (two
 * replicas, a redelivery) exactly one moves the payment on.
 *
 *   (none) ──order.created──▶ processing ──charged──▶ succeeded ──order.cancelled──▶ refunding ──▶ refunded
 *     │                           └──declined──▶ failed
 *     └──order.cancelled first──▶ failed (`order_cancelled`: the order's one slot, never charged)
 *
 * `processing` and `refunding` are in flight: the provider is being called. One whose claim is
 * older than any call could take (stale) was left by a process that died, and is resumed with
 * the same provider idempotency key, so the money moves once.
 */
import {
  PAYMENT_FAILED,
  PAYMENT_REFUNDED,
  PAYMENT_SUCCEEDED,
  type PaymentStatus,
} from "../../contracts/payments";
import type { ChargeResult } from "./provider";

/** The part of the payment document the decisions read. Times are epoch milliseconds. */
export interface PaymentState {
  status: PaymentStatus;
  /** When the current step was claimed. */
  claimedAt: number;
}

/** What `order.created` asks, given the order's payment (`null`: none yet). */
export type CreatedStep =
  /** Record the payment as `processing`, then charge. */
  | "charge"
  /** A stale charge: claim it and charge again. */
  | "resumeCharge"
  /** A charge under way by its first handler: nothing to do. */
  | "wait"
  /** A finished payment: re-send its outcome, never redo it. */
  | "announce";

/** What `order.cancelled` asks, given the order's payment (`null`: none yet). */
export type CancelledStep =
  /** Take the order's one payment slot as `failed`, so a late order.created charges nothing. */
  | "void"
  /** A stale charge: claim it, finish it, then decide again on its outcome. */
  | "resumeCharge"
  /** A charge or refund under way by another handler: orders asks again until it hears back. */
  | "wait"
  /** A kept charge: move it to `refunding`, then refund. */
  | "refund"
  /** A stale refund: claim it and refund again. */
  | "resumeRefund"
  /** A final payment: re-send its outcome. */
  | "announce";

/** A conditional write: apply `set` only where the payment still matches `expect`. */
export interface PaymentWrite {
  expect: Partial<PaymentState>;
  set: Record<string, unknown> & { claimedAt?: number };
}

/** A final outcome recorded where the payment is still `expect.status`, with its event. */
export interface Outcome {
  expect: { status: "processing" | "refunding" };
  set:
    | { status: "succeeded"; chargeId: string }
    | { status: "failed"; failureReason: string }
    | { status: "refunded"; refundId: string };
  event: string;
}

/** The event each final status announces. */
const EVENT_OF_STATUS: Partial<Record<PaymentStatus, string>> = {
  succeeded: PAYMENT_SUCCEEDED,
  failed: PAYMENT_FAILED,
  refunded: PAYMENT_REFUNDED,
};

/** The event a payment's status announces; `null` while it is in flight. */
export function announcement(status: PaymentStatus): string | null {
  return EVENT_OF_STATUS[status] ?? null;
}

/** Whether an in-flight step was left by a process that died (older than any step may take). */
export function isStale(p: PaymentState, now: number, staleMs: number): boolean {
  return now - p.claimedAt >= staleMs;
}

export function onOrderCreated(p: PaymentState | null, now: number, staleMs: number): CreatedStep {
  if (!p) return "charge";
  if (p.status !== "processing") return "announce";
  return isStale(p, now, staleMs) ? "resumeCharge" : "wait";
}

export function onOrderCancelled(
  p: PaymentState | null,
  now: number,
  staleMs: number,
): CancelledStep {
  if (!p) return "void";
  switch (p.status) {
    case "processing":
      return isStale(p, now, staleMs) ? "resumeCharge" : "wait";
    case "succeeded":
      return "refund";
    case "refunding":
      return isStale(p, now, staleMs) ? "resumeRefund" : "wait";
    default:
      return "announce";
  }
}

/**
 * Takes over a stale in-flight step: conditional on the claim read, so of several handlers one
 * wins. `null` (refused) when the step is not stale or not in flight.
 */
export function claim(p: PaymentState, now: number, staleMs: number): PaymentWrite | null {
  const inFlight = p.status === "processing" || p.status === "refunding";
  if (!inFlight || !isStale(p, now, staleMs)) return null;
  return { expect: { status: p.status, claimedAt: p.claimedAt }, set: { claimedAt: now } };
}

/** Starts the refund of a kept charge; `null` (refused) for any payment but a succeeded one. */
export function startRefund(p: PaymentState, now: number): PaymentWrite | null {
  if (p.status !== "succeeded") return null;
  return { expect: { status: "succeeded" }, set: { status: "refunding", claimedAt: now } };
}

/** What the provider's answer to a charge records. */
export function chargeOutcome(result: ChargeResult): Outcome {
  return result.ok
    ? {
        expect: { status: "processing" },
        set: { status: "succeeded", chargeId: result.chargeId },
        event: PAYMENT_SUCCEEDED,
      }
    : {
        expect: { status: "processing" },
        set: { status: "failed", failureReason: result.reason },
        event: PAYMENT_FAILED,
      };
}

/** What a refund the provider made records. */
export function refundOutcome(refundId: string): Outcome {
  return {
    expect: { status: "refunding" },
    set: { status: "refunded", refundId },
    event: PAYMENT_REFUNDED,
  };
}

/** The order's one payment slot taken by an `order.cancelled` that came first (`void`). */
export const VOIDED = {
  status: "failed",
  failureReason: "order_cancelled",
  event: PAYMENT_FAILED,
} as const;
