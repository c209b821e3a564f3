/**
 * The checkout saga as pure decisions. Given an order's saga state and what just happened
 * (an event, a customer's request, the sweeper finding a passed deadline), it says which
 * transition to make and which effects follow. It knows nothing of Moleculer or the database:
 * the orders service applies a transition as one conditional update on the `expect`ed state,
 * so when two things happen to one order at once exactly one transition wins and the loser
 * decides again on the fresh state.
 *
 *   reserving ──stock reserved──▶ pending ──payment succeeded──▶ confirmed
 *       │                          │                               │
 *   abandoned (deleted)            └─declined / timeout / customer─┴─customer (refund)─▶ cancelled
 *
 * `reserving` is the order stored before its stock is taken; it is not an order yet for the
 * customer (hidden from reads) and is deleted if the reservation does not complete.
 *
 * A cancelled order stays under the sweeper's watch until its stock is back and payments has
 * answered with the payment's final state (`failed` or `refunded`): a charge that was under
 * way when the order was cancelled must be refunded, never kept.
 */
import type { CancelReason } from "../../contracts/orders";

/**
 * `reserving` and `abandoned` are internal: an order stored before its stock is taken, and one
 * the sweeper gave up on (its stock is released and the document deleted).
 */
export type OrderStatus = "reserving" | "abandoned" | "pending" | "confirmed" | "cancelled";

/** The statuses a customer sees (API.md). */
export const VISIBLE_STATUSES: readonly OrderStatus[] = ["pending", "confirmed", "cancelled"];

/**
 * `pending`: no outcome known yet; `refunding`: a refund is asked for and not yet acknowledged.
 * The contract's final statuses are `succeeded`, `failed` and `refunded`.
 */
export type PaymentState = "pending" | "succeeded" | "failed" | "refunding" | "refunded";

export interface HistoryEntry {
  status: OrderStatus;
  at: string;
  reason?: string;
}

/** The part of the order document the saga reads. Times are epoch milliseconds. */
export interface SagaState {
  status: OrderStatus;
  payment: { status: PaymentState; id?: string };
  /** Whether a cancelled order's stock is back in the catalog. */
  stockReleased: boolean;
  /** When an unpaid order is cancelled with `payment_timeout`. */
  paymentDueAt: number;
  /** When the sweeper next looks at the order; `null` once nothing is left to do. */
  deadline: number | null;
}

export interface Timing {
  /** How long a step may take before the sweeper re-drives it. */
  stepDeadlineMs: number;
}

export type Effect =
  /** Emit `order.created` (again): payments charges, or re-sends its stored outcome. */
  | "emitCreated"
  /** Emit `order.confirmed`: notifications. */
  | "emitConfirmed"
  /** Emit `order.cancelled`: notifications; payments refunds or voids the order's payment. */
  | "emitCancelled"
  /** Give the order's stock back (products.release, idempotent). */
  | "releaseStock"
  /** Release whatever an abandoned order may hold, then delete it. */
  | "abandon";

/** One transition: apply `set` only where the order still matches `expect`, then the effects. */
export interface Transition {
  expect: { status: OrderStatus; paymentStatus: PaymentState };
  set: {
    status?: OrderStatus;
    paymentStatus?: PaymentState;
    paymentId?: string;
    cancelReason?: CancelReason;
    deadline: number | null;
  };
  history?: { status: OrderStatus; reason?: string };
  effects: Effect[];
}

export type Decision =
  | { kind: "transition"; transition: Transition }
  /** Nothing to change (a redelivered or stale event). */
  | { kind: "ignore" }
  /** The request is not allowed in this state (customer cancel of a cancelled order). */
  | { kind: "reject"; reason: string };

const ignore: Decision = { kind: "ignore" };

function transition(t: Transition): Decision {
  return { kind: "transition", transition: t };
}

function expectOf(s: SagaState): Transition["expect"] {
  return { status: s.status, paymentStatus: s.payment.status };
}

/** The first deadline of a pending order: re-send `order.created`, but never past the due time. */
export function pendingDeadline(now: number, paymentDueAt: number, timing: Timing): number {
  return Math.min(now + timing.stepDeadlineMs, paymentDueAt);
}

function cancel(
  s: SagaState,
  reason: CancelReason,
  now: number,
  timing: Timing,
  refund: boolean,
): Decision {
  return transition({
    expect: expectOf(s),
    set: {
      status: "cancelled",
      cancelReason: reason,
      paymentStatus: refund ? "refunding" : s.payment.status,
      // Looked at again until the stock release (and the refund) are acknowledged.
      deadline: now + timing.stepDeadlineMs,
    },
    history: { status: "cancelled", reason },
    effects: ["releaseStock", "emitCancelled"],
  });
}

/** Stock is reserved: the `reserving` order becomes a pending order awaiting payment. */
export function onReserved(s: SagaState, now: number, timing: Timing): Decision {
  if (s.status !== "reserving") return ignore;
  return transition({
    expect: expectOf(s),
    set: { status: "pending", deadline: pendingDeadline(now, s.paymentDueAt, timing) },
    history: { status: "pending" },
    effects: ["emitCreated"],
  });
}

export function onPaymentSucceeded(
  s: SagaState,
  paymentId: string,
  now: number,
  timing: Timing,
): Decision {
  if (s.status === "pending") {
    return transition({
      expect: expectOf(s),
      set: { status: "confirmed", paymentStatus: "succeeded", paymentId, deadline: null },
      history: { status: "confirmed" },
      effects: ["emitConfirmed"],
    });
  }
  // The order was cancelled (timeout, customer) while the charge was under way: the money
  // must go back. Only once: the first payment.succeeded moves the payment to `refunding`.
  if (s.status === "cancelled" && s.payment.status === "pending") {
    return transition({
      expect: expectOf(s),
      set: { paymentStatus: "refunding", paymentId, deadline: now + timing.stepDeadlineMs },
      effects: ["emitCancelled"],
    });
  }
  return ignore;
}

export function onPaymentFailed(
  s: SagaState,
  paymentId: string,
  now: number,
  timing: Timing,
): Decision {
  if (s.status === "pending") {
    const d = cancel(s, "payment_declined", now, timing, false);
    if (d.kind === "transition") {
      d.transition.set.paymentStatus = "failed";
      d.transition.set.paymentId = paymentId;
    }
    return d;
  }
  if (s.status === "cancelled" && s.payment.status === "pending") {
    return transition({
      expect: expectOf(s),
      set: { paymentStatus: "failed", paymentId, deadline: s.deadline },
      effects: [],
    });
  }
  return ignore;
}

export function onPaymentRefunded(s: SagaState, paymentId: string): Decision {
  // `pending` too: payments refunds a charge of a cancelled order even when this service never
  // heard of the charge (its payment.succeeded was lost).
  const open = s.payment.status === "refunding" || s.payment.status === "pending";
  if (s.status !== "cancelled" || !open) return ignore;
  return transition({
    expect: expectOf(s),
    // The deadline stays until the stock release is also settled (see `settled`).
    set: { paymentStatus: "refunded", paymentId, deadline: s.deadline },
    effects: [],
  });
}

/** The customer (or an admin) cancels: before payment, or after it with a refund. */
export function onCustomerCancel(s: SagaState, now: number, timing: Timing): Decision {
  switch (s.status) {
    case "pending":
      return cancel(s, "cancelled_by_customer", now, timing, false);
    case "confirmed":
      return cancel(s, "cancelled_by_customer", now, timing, s.payment.status === "succeeded");
    case "cancelled":
      return { kind: "reject", reason: "The order is already cancelled" };
    default:
      return { kind: "reject", reason: "The order is not placed yet" };
  }
}

/** What the sweeper does with an order whose deadline passed. */
export function onDeadline(s: SagaState, now: number, timing: Timing): Decision {
  const next = now + timing.stepDeadlineMs;
  switch (s.status) {
    case "reserving":
      // The checkout that stored it died or gave up before its stock was reserved: the client
      // never got this order, so it is released and deleted rather than completed behind the
      // client's back. Moving it to `abandoned` first makes a late checkout's own
      // reserving → pending update fail, so no order goes on without its stock.
      return transition({
        expect: expectOf(s),
        set: { status: "abandoned", deadline: next },
        effects: ["abandon"],
      });
    case "abandoned":
      return transition({ expect: expectOf(s), set: { deadline: next }, effects: ["abandon"] });
    case "pending":
      if (now >= s.paymentDueAt) return cancel(s, "payment_timeout", now, timing, false);
      return transition({
        expect: expectOf(s),
        set: { deadline: pendingDeadline(now, s.paymentDueAt, timing) },
        effects: ["emitCreated"],
      });
    case "cancelled": {
      const effects: Effect[] = [];
      if (!s.stockReleased) effects.push("releaseStock");
      if (awaitingPayments(s)) effects.push("emitCancelled");
      return transition({
        expect: expectOf(s),
        set: { deadline: effects.length > 0 ? next : null },
        effects,
      });
    }
    default:
      return transition({ expect: expectOf(s), set: { deadline: null }, effects: [] });
  }
}

/** A cancelled order whose payment's final state payments has not yet confirmed. */
export function awaitingPayments(s: SagaState): boolean {
  return s.payment.status === "pending" || s.payment.status === "refunding";
}

/** A cancelled order with its stock back and its payment final needs no more sweeping. */
export function settled(s: SagaState): boolean {
  return s.status === "cancelled" && s.stockReleased && !awaitingPayments(s);
}
