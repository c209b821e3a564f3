/**
 * The e-mail delivery of one notification, as stored on it, and the retry policy: plain
 * functions, no Moleculer.
 *
 * Guarantee: at-least-once, bounded. A process claims a pending delivery (a conditional update:
 * still pending, no live claim) before it sends, and records the outcome after. A mail is sent
 * twice only when the sender dies after the SMTP server accepted it and before the outcome was
 * written (the next claim, after the lease, sends again), or when two processes claim the same
 * delivery at once on a database without atomic conditional updates (FerretDB 1.24, see
 * docs/ARCHITECTURE.md); each repeat carries the same Message-ID, so receivers that dedupe on
 * it see the mail once.
 */
export type DeliveryStatus = "pending" | "sent" | "failed";

export interface Delivery {
  channel: "email";
  status: DeliveryStatus;
  attempts: number;
  lastError?: string;
  sentAt?: string;
  /** Epoch ms: not attempted before this. */
  nextAttemptAt: number;
  /** Epoch ms: the claim of the process sending it ends then (0: unclaimed). */
  claimedUntil: number;
  claimedBy?: string;
}

/** What a customer sees of a delivery: never the error text, which may name servers. */
export interface PublicDelivery {
  channel: "email";
  status: DeliveryStatus;
  attempts: number;
  sentAt?: string;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  /** No wait between two attempts is longer than this. */
  capMs: number;
}

export function newDelivery(now: number): Delivery {
  return { channel: "email", status: "pending", attempts: 0, nextAttemptAt: now, claimedUntil: 0 };
}

export function publicDelivery(d: Delivery): PublicDelivery {
  const view: PublicDelivery = { channel: d.channel, status: d.status, attempts: d.attempts };
  if (d.sentAt) view.sentAt = d.sentAt;
  return view;
}

/** The wait after failed attempt number `attempts` (1-based): base, 2·base, 4·base, … up to cap. */
export function backoffMs(attempts: number, policy: RetryPolicy): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The fields to set after a failed attempt: retry later, or give up at the limit. */
export function afterFailure(
  attempts: number,
  error: string,
  now: number,
  policy: RetryPolicy,
): Record<string, unknown> {
  const gaveUp = attempts >= policy.maxAttempts;
  return {
    "delivery.status": gaveUp ? "failed" : "pending",
    "delivery.attempts": attempts,
    "delivery.lastError": error,
    "delivery.nextAttemptAt": gaveUp ? 0 : now + backoffMs(attempts, policy),
    "delivery.claimedUntil": 0,
  };
}
