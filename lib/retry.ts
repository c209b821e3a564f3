/**
 * Which failed calls the broker may repeat. A call refused before it ran (no endpoint, node
 * gone, queue full) can always be retried. A call that timed out, or whose node vanished while
 * it was in flight, may already have run: repeating a write could place an order or register
 * a user twice, so only the actions listed here — reads, and writes idempotent by design —
 * are repeated after such an error.
 */
const MAY_HAVE_RUN = new Set(["REQUEST_TIMEOUT", "REQUEST_REJECTED"]);

export const SAFE_TO_REPEAT = new Set([
  "products.list",
  "products.get",
  "products.reserve", // idempotent per order
  "products.release", // idempotent per order
  "products.stats",
  "users.me",
  "users.resolveToken",
  "users.stats",
  "orders.list",
  "orders.get",
  "orders.stuck",
  "orders.lookup",
  "orders.stats",
  "payments.list",
  "payments.lookup",
  "payments.stats",
  "notifications.list",
  "notifications.stats",
]);

interface CallError {
  retryable?: boolean;
  type?: string;
  data?: { action?: string };
}

export function shouldRetry(err: unknown): boolean {
  const e = (err ?? {}) as CallError;
  if (!e.retryable) return false;
  if (!MAY_HAVE_RUN.has(e.type ?? "")) return true;
  return SAFE_TO_REPEAT.has(e.data?.action ?? "");
}
