/**
 * The outbox loses no event at any crash point (lib/outbox.ts): for each event that follows a
 * state change, the process that owns it SIGKILLs itself right after the state write and
 * before the emit (CRASH_AFTER_WRITE, lib/config.ts), is started again, and every order still
 * ends final with nothing left pending, at most one charge per order (the provider's charge
 * log), stock conserved, and every notification delivered once.
 */
import { waitFor } from "../helpers/wait";
import {
  allSettled,
  makeProducts,
  ordersOf,
  paymentsOf,
  placeOrders,
  startShop,
  type OrderRecord,
  type PaymentRecord,
  type Shop,
} from "../helpers/stack-shop";
import type { Notification, Product } from "../helpers/shop";
import type { OutboxFields } from "../../lib/outbox";

const INITIAL_STOCK = 100;
const ORDERS_PER_CASE = 4;

type StoredOrder = OrderRecord & OutboxFields & { history: Array<{ status: string }> };
type StoredPayment = PaymentRecord & OutboxFields;

interface CrashCase {
  event: string;
  node: "orders" | "pay";
  paymentToken: string;
  /** Customer-cancel every order once it is confirmed (the refund's path). */
  cancelConfirmed?: boolean;
}

const CASES: CrashCase[] = [
  { event: "order.created", node: "orders", paymentToken: "tok_visa" },
  { event: "order.confirmed", node: "orders", paymentToken: "tok_visa" },
  { event: "order.cancelled", node: "orders", paymentToken: "tok_chargeDeclined" },
  { event: "payment.succeeded", node: "pay", paymentToken: "tok_visa" },
  { event: "payment.failed", node: "pay", paymentToken: "tok_chargeDeclined" },
  { event: "payment.refunded", node: "pay", paymentToken: "tok_visa", cancelConfirmed: true },
];

describe("the outbox survives a crash between the state write and the emit", () => {
  let shop: Shop;

  beforeAll(async () => {
    shop = await startShop({ orders: ["orders"], pay: ["payments"] }, 2);
  });
  afterAll(() => shop?.stop());

  /** Restarts `node` with the fault hook armed for `event`. */
  async function arm(node: string, event: string) {
    shop.cluster.nodes.get(node)!.env.CRASH_AFTER_WRITE = event;
    await shop.cluster.stop(node);
    await shop.cluster.restart(node);
  }

  /** Waits for the hook to kill `node`, then starts it again without the hook. */
  async function restartAfterCrash(node: string): Promise<NodeJS.Signals | null> {
    await waitFor(
      async () => shop.cluster.running(node),
      (running) => !running,
      90_000,
      50,
    );
    const handle = shop.cluster.nodes.get(node)!;
    const signal = handle.process!.signalCode;
    delete handle.env.CRASH_AFTER_WRITE;
    await shop.cluster.restart(node);
    return signal;
  }

  function tokenOf(o: OrderRecord): string {
    return shop.customers.find((c) => c.id === o.userId)!.token;
  }

  async function notificationsOf(token: string): Promise<Notification[]> {
    const res = await shop.http.get<{ rows: Notification[] }>("/api/notifications?pageSize=100", {
      token,
    });
    return res.body.rows;
  }

  /** The notifications an order's end state calls for, by type. */
  function owedNotifications(o: StoredOrder): string[] {
    const owed: string[] = [];
    if (o.history.some((h) => h.status === "confirmed")) owed.push("order_confirmed");
    if (o.status === "cancelled") owed.push("order_cancelled");
    if (o.payment.status === "refunded") owed.push("payment_refunded");
    return owed.sort();
  }

  it.each(CASES)(
    "loses no $event when its process dies after the write",
    async ({ event, node, paymentToken, cancelConfirmed }) => {
      const products: Product[] = await makeProducts(shop, 2, INITIAL_STOCK);
      await arm(node, event);
      const crashed = restartAfterCrash(node);
      // Awaited below; this only keeps a failure to crash from being reported as unhandled.
      crashed.catch(() => undefined);
      const planned = Array.from({ length: ORDERS_PER_CASE }, (_, i) => ({
        key: `${event}-${i}`,
        token: shop.customers[i % shop.customers.length].token,
        productId: products[i % products.length].id,
        quantity: i + 1,
        paymentToken,
      }));
      await placeOrders(shop.http, planned, 2);
      // The hook fired: the process died by its own SIGKILL after the write of `event`.
      if (!cancelConfirmed) expect(await crashed).toBe("SIGKILL");
      // Clients whose request died with the process retry with their keys until they get an
      // answer: each finds its order, or places it now (a checkout the crash cut off half-way
      // is withdrawn by the sweeper first).
      const { accepted } = await waitFor(
        () => placeOrders(shop.http, planned, 2),
        (placed) => placed.accepted.size === ORDERS_PER_CASE,
        90_000,
        1_000,
      );
      const ids = [...accepted];
      const mine = async () =>
        (await ordersOf(shop)).filter((o) => accepted.has(o._id)) as StoredOrder[];

      if (cancelConfirmed) {
        const confirmed = await waitFor(
          mine,
          (os) => os.length === ORDERS_PER_CASE && os.every((o) => o.status === "confirmed"),
          60_000,
          200,
        );
        for (const o of confirmed) {
          const res = await shop.http.post(`/api/orders/${o._id}/cancel`, { token: tokenOf(o) });
          expect(res.status).toBe(200);
        }
        expect(await crashed).toBe("SIGKILL");
      }

      const orders = await waitFor(
        mine,
        (os) =>
          os.length === ORDERS_PER_CASE &&
          allSettled(os) &&
          (!cancelConfirmed || os.every((o) => o.status === "cancelled")),
        90_000,
        250,
      );
      const payments = (await paymentsOf(shop, ids)) as StoredPayment[];
      const wanted = {
        "order.created": ["confirmed"],
        "order.confirmed": ["confirmed"],
        "order.cancelled": ["cancelled"],
        "payment.succeeded": ["confirmed"],
        "payment.failed": ["cancelled"],
        "payment.refunded": ["cancelled"],
      }[event]!;
      for (const o of orders) expect(wanted).toContain(o.status);

      // At most one charge per order, for its amount, and only for a payment that took money.
      const paymentOf = new Map(payments.map((p) => [p.orderId, p]));
      for (const o of orders) {
        const p = paymentOf.get(o._id);
        const charged = p && ["succeeded", "refunded"].includes(p.status) ? [p.amount] : [];
        const charges = shop
          .charges()
          .filter((c) => c.idempotencyKey === o._id)
          .map((c) => c.amount);
        expect({ order: o._id, charges }).toEqual({ order: o._id, charges: charged });
      }

      // Stock is conserved: only confirmed orders keep what they took.
      for (const product of products) {
        const sold = orders
          .filter((o) => o.status === "confirmed")
          .flatMap((o) => o.items)
          .filter((line) => line.productId === product.id)
          .reduce((sum, line) => sum + line.quantity, 0);
        const doc = await shop.probe.store("products").findById(product.id);
        expect(doc?.stock).toBe(INITIAL_STOCK - sold);
      }

      // Every notification the end state calls for exists once and was delivered once.
      const gwLog = () => shop.cluster.nodes.get("gw")!.output.join("");
      for (const o of orders) {
        const token = tokenOf(o);
        const about = await waitFor(
          async () => (await notificationsOf(token)).filter((n) => n.subject.includes(o._id)),
          (ns) => ns.length >= owedNotifications(o).length,
          30_000,
          250,
        );
        expect(about.map((n) => n.type).sort()).toEqual(owedNotifications(o));
        for (const n of about) {
          await waitFor(
            async () => gwLog().split(`notification ${n.id} `).length - 1,
            (c) => c >= 1,
          );
          expect(gwLog().split(`notification ${n.id} `).length - 1).toBe(1);
        }
      }

      // Nothing is left pending in any outbox: the lost emit was re-sent and marked sent.
      await waitFor(
        async () => [
          ...((await ordersOf(shop)).filter((o) => accepted.has(o._id)) as StoredOrder[]),
          ...((await paymentsOf(shop, ids)) as StoredPayment[]),
        ],
        (docs) =>
          docs.every((d) => (d.outbox ?? []).length === 0 && (d.outboxDue ?? null) === null),
        30_000,
        250,
      );
      expect(shop.cluster.nodes.get(node)!.output.join("")).toContain(`Re-sending ${event} of `);
    },
  );
});
