/**
 * Which failed calls the broker may repeat. A call refused before it ran (no endpoint, node
 * gone, queue full) can always be retried. A call that timed out, or whose node vanished while
 * it was in flight, may already have run: repeating a write could place an order or register
 * a user twice, so only the actions listed here — reads, and writes idempotent by design —
 * are repeated after such an error.
 */
import type { Context, Middleware } from "moleculer";

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
  "users.contact",
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
  "notifications.deliveries",
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

/**
 * An error that escapes an action's handler comes from a call that ran, whatever its type: a
 * timeout or a vanished node met by a call *inside* `orders.create` (its `products.reserve`)
 * reaches the caller of `orders.create` with that inner call's type and action, and the broker
 * would repeat the whole checkout. So such an error stops being retryable as it leaves the
 * handler of an action that is not safe to repeat. Registered innermost, so a call refused
 * before its handler ran (no endpoint, queue full, an injected fault) keeps the rule above.
 */
export const RanActionErrors: Middleware = {
  name: "RanActionErrors",
  localAction(next: (ctx: Context) => Promise<unknown>, action: { name?: string }) {
    if (SAFE_TO_REPEAT.has(action.name ?? "")) return next;
    return async function ran(ctx: Context) {
      try {
        return await next(ctx);
      } catch (err) {
        if (err && typeof err === "object" && (err as CallError).retryable) {
          (err as CallError).retryable = false;
        }
        throw err;
      }
    };
  },
};
