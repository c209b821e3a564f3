/**
 * The e-mail delivery of one notification, as stored on it, and the retry policy: plain
 * functions, no Moleculer.
 *
 * Guarantee: at-least-once, bounded. One process at a time holds the claim on a delivery
 * (services/notifications/mail-delivery.ts), so two notifications processes or a redelivered
 * event never send the same mail side by side. A mail is sent again only when its sender dies,
 * or overruns its claim, after the SMTP server accepted it and before the outcome was written:
 * then the next holder, after the claim ends, sends it once more. Every copy carries the same
 * Message-ID (derived from the notification id), so a receiver that dedupes on it sees one.
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
  /** The claim key of the process holding it: only that process records the outcome. */
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
