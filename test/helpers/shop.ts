/** The contract's resources (contracts/) and small shop steps shared by the e2e suites. */
import type { Client } from "./http";
import { waitFor } from "./wait";

import type { Order } from "../../contracts/orders";
import type { Product } from "../../contracts/products";

export type { ErrorBody } from "./contract-errors";
export type { Notification } from "../../contracts/notifications";
export type { Payment } from "../../contracts/payments";
export type { Order, Product };

let skuSeq = 0;

export async function createProduct(
  http: Client,
  adminToken: string,
  stock: number,
  price = 1250,
): Promise<Product> {
  const res = await http.post<Product>("/api/products", {
    token: adminToken,
    json: { sku: `SKU-${process.pid}-${Date.now()}-${++skuSeq}`, name: "Thing", price, stock },
  });
  if (res.status !== 201) throw new Error(`create product: ${res.status}`);
  return res.body;
}

export async function stockOf(http: Client, productId: string): Promise<number> {
  const res = await http.get<Product>(`/api/products/${productId}`);
  if (res.status !== 200) throw new Error(`product ${productId}: ${res.status}`);
  return res.body.stock;
}

export async function getOrder(http: Client, token: string, id: string): Promise<Order> {
  const res = await http.get<Order>(`/api/orders/${id}`, { token });
  if (res.status !== 200) throw new Error(`order ${id}: ${res.status}`);
  return res.body;
}

/** Waits until the order satisfies `done` (its saga moved on), and returns it. */
export function waitForOrder(
  http: Client,
  token: string,
  id: string,
  done: (o: Order) => boolean,
  timeoutMs = 10_000,
): Promise<Order> {
  return waitFor(() => getOrder(http, token, id), done, timeoutMs);
}
