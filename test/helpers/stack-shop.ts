/**
 * A shop split over real processes (test/helpers/cluster.ts) and the steps the stack suites
 * share: start it, place many orders at bounded concurrency, and read the end state.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Cluster } from "./cluster";
import { readChargeLog, type ChargeLogEntry } from "../../services/payments/provider";
import { client, type Client } from "./http";
import { openProbe, type DbProbe } from "./db-probe";
import { waitReady } from "../../bench/shop";
import { createProduct, type Product } from "./shop";
import { waitFor } from "./wait";

/** Saga timings short enough for a test, long enough for two shared cores. */
export const STACK_ENV = {
  SWEEPER_INTERVAL_MS: "200",
  SAGA_STEP_DEADLINE_MS: "2000",
  ORDER_PAYMENT_TIMEOUT_MS: "120000",
  PAYMENT_SLOW_MS: "1500",
};

export interface Shop {
  cluster: Cluster;
  http: Client;
  admin: string;
  probe: DbProbe;
  customers: Array<{ id: string; token: string }>;
  /** Every charge the provider accepted, from every payments process the shop ever ran. */
  charges(): ChargeLogEntry[];
  stop(): Promise<void>;
}

/** `gw` runs the gateway, users, products and notifications; the rest as `nodes` says. */
export async function startShop(
  nodes: Record<string, string[]>,
  customerCount: number,
  /** Overrides of STACK_ENV for this shop. */
  env: Record<string, string> = {},
): Promise<Shop> {
  if (!process.env.MONGO_URI) throw new Error("stack tests need MONGO_URI");
  const chargeLog = path.join(
    os.tmpdir(),
    `commerce-mesh-charges-${randomBytes(4).toString("hex")}.jsonl`,
  );
  const cluster = new Cluster({ ...STACK_ENV, ...env, PAYMENT_CHARGE_LOG: chargeLog });
  try {
    await Promise.all([
      cluster.start("gw", ["api", "users", "products", "notifications"]),
      ...Object.entries(nodes).map(([name, services]) => cluster.start(name, services)),
    ]);
    const http = client(cluster.baseUrl("gw"));
    await waitReady(cluster.baseUrl("gw"), 30_000);
    const login = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    const customers: Shop["customers"] = [];
    for (let i = 0; i < customerCount; i++) {
      const res = await http.post<{ token: string; user: { id: string } }>("/api/auth/register", {
        json: {
          email: `stack-${cluster.namespace}-${i}@example.com`,
          password: "password-123",
          name: `Stack ${i}`,
        },
      });
      customers.push({ id: res.body.user.id, token: res.body.token });
    }
    const probe = await openProbe(["orders", "payments", "products", "reservations"]);
    return {
      cluster,
      http,
      admin: login.body.token,
      probe,
      customers,
      charges: () => readChargeLog(chargeLog),
      async stop() {
        await probe.close();
        await cluster.stopAll();
        fs.rmSync(chargeLog, { force: true });
      },
    };
  } catch (err) {
    await cluster.stopAll();
    fs.rmSync(chargeLog, { force: true });
    throw err;
  }
}

export interface PlannedOrder {
  key: string;
  token: string;
  productId: string;
  quantity: number;
  paymentToken: string;
}

/**
 * Places every order, `concurrency` at a time, each with its own Idempotency-Key (a client
 * that retries after a failed request finds its order instead of placing another). A request
 * that fails while a process is down is retried a few times, as a client would.
 * `onPlaced(n)` runs after the n-th request finished.
 */
export async function placeOrders(
  http: Client,
  planned: PlannedOrder[],
  concurrency: number,
  onPlaced: (n: number) => Promise<void> = async () => undefined,
): Promise<{ accepted: Set<string>; statuses: number[] }> {
  const accepted = new Set<string>();
  const statuses: number[] = [];
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < planned.length) {
      const o = planned[next++];
      let status = 0;
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          const res = await http.post<{ id: string }>("/api/orders", {
            token: o.token,
            headers: { "Idempotency-Key": o.key },
            json: {
              items: [{ productId: o.productId, quantity: o.quantity }],
              paymentToken: o.paymentToken,
            },
            timeoutMs: 20_000,
          });
          status = res.status;
          if (res.status === 200 || res.status === 201) accepted.add(res.body.id);
        } catch {
          status = 0;
        }
        if (status !== 0 && status < 500) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      statuses.push(status);
      await onPlaced(++finished);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { accepted, statuses };
}

export async function makeProducts(shop: Shop, count: number, stock: number): Promise<Product[]> {
  const products: Product[] = [];
  for (let i = 0; i < count; i++) products.push(await createProduct(shop.http, shop.admin, stock));
  return products;
}

export interface OrderRecord {
  _id: string;
  userId: string;
  status: string;
  items: Array<{ productId: string; quantity: number }>;
  payment: { status: string };
  deadline: number | null;
}

export interface PaymentRecord {
  _id: string;
  orderId: string;
  amount: number;
  status: string;
  paymentToken?: string;
  claimedAt: number;
  nodeId: string;
  attempts: number;
}

export async function ordersOf(shop: Shop): Promise<OrderRecord[]> {
  const userIds = shop.customers.map((c) => c.id);
  return (await shop.probe
    .store("orders")
    .find({ query: { userId: { $in: userIds } } })) as unknown as OrderRecord[];
}

export async function paymentsOf(shop: Shop, orderIds: string[]): Promise<PaymentRecord[]> {
  return (await shop.probe
    .store("payments")
    .find({ query: { orderId: { $in: orderIds } } })) as unknown as PaymentRecord[];
}

/** Every order final and nothing left for the sweeper (stock released, refunds answered). */
export function allSettled(orders: OrderRecord[]): boolean {
  return orders.every(
    (o) => (o.status === "confirmed" || o.status === "cancelled") && o.deadline === null,
  );
}

/**
 * Nothing lost: a client whose request failed retries with the same Idempotency-Key until every
 * planned order answers 200/201 (finding its order rather than placing another); every order the
 * first pass accepted is among them; then every order ends confirmed and settled, with one
 * succeeded payment and one provider charge each.
 */
export async function expectEveryOrderConfirmedOnce(
  shop: Shop,
  planned: PlannedOrder[],
  accepted: Set<string>,
): Promise<void> {
  const retried = await waitFor(
    () => placeOrders(shop.http, planned, 4),
    (r) => r.statuses.every((s) => s === 200 || s === 201),
    60_000,
    1_000,
  );
  for (const id of accepted) expect(retried.accepted).toContain(id);
  expect(retried.accepted.size).toBe(planned.length);

  const orders = await waitFor(
    () => ordersOf(shop),
    (os) => os.length === planned.length && allSettled(os),
    90_000,
    500,
  );
  expect(new Set(orders.map((o) => o._id))).toEqual(retried.accepted);
  expect(orders.filter((o) => o.status !== "confirmed")).toEqual([]);

  const payments = await paymentsOf(
    shop,
    orders.map((o) => o._id),
  );
  expect(payments).toHaveLength(planned.length);
  expect(payments.every((p) => p.status === "succeeded")).toBe(true);
  const charged = shop.charges().map((c) => c.orderId);
  expect(charged.sort()).toEqual([...retried.accepted].sort());
}
