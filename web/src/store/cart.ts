/**
 * The cart, kept in the browser (localStorage) until checkout, and the checkout attempt: one
 * Idempotency-Key per attempt, kept with the body it was made for. A double click, a retry after
 * a dropped connection or a reload sends the same key with the same body, and the gateway
 * answers with the first order instead of placing a second; a changed cart or card is a new
 * attempt with a new key.
 */
import { useEffect, useState } from "preact/hooks";
import type { Product } from "../shared/api";

export interface CartLine {
  productId: string;
  name: string;
  price: number;
  quantity: number;
}

const CART = "commerce-mesh.cart";
const ATTEMPT = "commerce-mesh.checkout";
const listeners = new Set<() => void>();

function load<T>(key: string, fallback: T): T {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

function save(lines: CartLine[]): void {
  localStorage.setItem(CART, JSON.stringify(lines));
  for (const listener of listeners) listener();
}

addEventListener("storage", (event) => {
  if (event.key === CART) for (const listener of listeners) listener();
});

export const cart = {
  lines: (): CartLine[] => load<CartLine[]>(CART, []),
  add(product: Product, quantity = 1): void {
    const lines = cart.lines();
    const line = lines.find((l) => l.productId === product.id);
    if (line) line.quantity += quantity;
    else lines.push({ productId: product.id, name: product.name, price: product.price, quantity });
    save(lines);
  },
  setQuantity(productId: string, quantity: number): void {
    save(
      cart
        .lines()
        .map((l) => (l.productId === productId ? { ...l, quantity } : l))
        .filter((l) => l.quantity > 0),
    );
  },
  clear(): void {
    save([]);
    localStorage.removeItem(ATTEMPT);
  },
};

export function useCart(): CartLine[] {
  const [lines, setLines] = useState(cart.lines);
  useEffect(() => {
    const update = () => setLines(cart.lines());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return lines;
}

export function total(lines: CartLine[]): number {
  return lines.reduce((sum, l) => sum + l.price * l.quantity, 0);
}

/** The key of this attempt: the stored one while the body is the same, else a new one. */
export function attemptKey(body: unknown): string {
  const text = JSON.stringify(body);
  const stored = load<{ key: string; body: string } | null>(ATTEMPT, null);
  if (stored && stored.body === text) return stored.key;
  const key = `checkout-${crypto.randomUUID()}`;
  localStorage.setItem(ATTEMPT, JSON.stringify({ key, body: text }));
  return key;
}
