/** Checkout's request body and its fingerprint for Idempotency-Key replays. No Moleculer. */
import { createHash } from "node:crypto";
import type { CreateParams } from "../../contracts/orders";

export type CheckoutBody = Pick<CreateParams, "items" | "paymentToken">;

/**
 * The body's fingerprint: the same lines in any order with the same token hash alike, so a
 * client that rebuilds its request in another order is still recognised as repeating it.
 */
export function checkoutHash(body: CheckoutBody): string {
  const items = body.items
    .map((i) => [i.productId, i.quantity] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256")
    .update(JSON.stringify({ items, paymentToken: body.paymentToken }))
    .digest("hex");
}
