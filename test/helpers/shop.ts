/** Shapes of the contract's resources (API.md) and small shop steps shared by the e2e suites. */
import type { Client } from "./http";
import { waitFor } from "./wait";

export interface Product {
  id: string;
  sku: string;
  price: number;
  stock: number;
}

export interface Order {
  id: string;
  userId: string;
  status: "pending" | "confirmed" | "cancelled";
  items: Array<{
    productId: string;
    sku: string;
    name: string;
    unitPrice: number;
    quantity: number;
    lineTotal: number;
  }>;
  total: number;
  currency: string;
  payment: { status: string; id?: string };
  cancelReason?: string;
  history: Array<{ status: string; at: string; reason?: string }>;
  createdAt: string;
}

export interface Payment {
  id: string;
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  status: string;
  failureReason?: string;
}

export interface Notification {
  id: string;
  userId: string;
  type: string;
  subject: string;
  body: string;
  readAt: string | null;
}

export interface ErrorBody {
  code: number;
  type: string;
  data?: unknown;
}

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
