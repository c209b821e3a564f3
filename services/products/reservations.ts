/**
 * Stock reservations of the checkout saga, kept as markers inside the product documents:
 * `reserved.<orderId>: quantity` while an order holds stock. Plain helpers, no Moleculer; the
 * params and answers of `products.reserve`/`release` are in contracts/products.ts.
 */

/** The dotted field of an order's marker (order ids are validated to contain no dots or `$`). */
export function reservationField(orderId: string): string {
  return `reserved.${orderId}`;
}

/** The quantity a product document holds for an order, or `undefined` if it holds none. */
export function heldQuantity(doc: Record<string, unknown>, orderId: string): number | undefined {
  const reserved = doc.reserved;
  if (typeof reserved !== "object" || reserved === null) return undefined;
  const qty = (reserved as Record<string, unknown>)[orderId];
  return typeof qty === "number" ? qty : undefined;
}
