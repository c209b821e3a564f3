/**
 * Fault injection end to end (middlewares/faults.ts): the REPL's `faults` command, run from an
 * operator node that joins the cluster, makes half of the payments service's `order.created`
 * deliveries fail on another process. Orders placed meanwhile still all end confirmed (the
 * sweeper re-drives the lost events); after `faults clear`, every node has dropped the rule
 * within a second and no order needs the sweeper any more.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { config, resetConfig } from "../../lib/config";
import { faultReports, faultsCommand } from "../../repl";
import type { FaultReport } from "../../middlewares/faults";
import { waitFor } from "../helpers/wait";
import {
  allSettled,
  makeProducts,
  ordersOf,
  paymentsOf,
  placeOrders,
  startShop,
  type OrderRecord,
  type PlannedOrder,
  type Shop,
} from "../helpers/stack-shop";
import type { Product } from "../helpers/shop";

const TARGET = "payments:order.created";
/** How soon after `faults clear` every node must have stopped injecting. */
const CLEAR_WITHIN_MS = 1_000;

const table = (rows: unknown[][]) => rows.map((r) => r.join(" | ")).join("\n");

function plan(shop: Shop, products: Product[], count: number, tag: string): PlannedOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${tag}-${i}`,
    token: shop.customers[i % shop.customers.length].token,
    productId: products[i % products.length].id,
    quantity: 1,
    paymentToken: "tok_visa",
  }));
}

function injected(reports: FaultReport[]): number {
  return reports.reduce((sum, r) => sum + (r.injected[TARGET] ?? 0), 0);
}

describe("fault injection through the REPL's faults command", () => {
  let shop: Shop;
  let operator: ServiceBroker;

  beforeAll(async () => {
    shop = await startShop({ orders: ["orders"], pay: ["payments"] }, 3);
    resetConfig();
    operator = new ServiceBroker({
      ...brokerOptions(config()),
      namespace: shop.cluster.namespace,
      nodeID: `${shop.cluster.namespace}-operator`,
      cacher: null,
      logger: false,
    });
    await operator.start();
    // The operator and the three shop processes each run a $faults service.
    await waitFor(
      () => faultReports(operator),
      (reports) => reports.length === 4,
      15_000,
      100,
    );
  });
  afterAll(async () => {
    await operator?.stop();
    await shop?.stop();
  });

  it("keeps every order final under 50 % payment failures and recovers within a second of the clear", async () => {
    const products = await makeProducts(shop, 2, 1_000);

    const set = await faultsCommand(operator, "set", [TARGET, "error=0.5"], table);
    expect(set).toContain(`${TARGET} error=0.5`);
    await waitFor(
      () => faultReports(operator),
      (reports) => reports.every((r) => r.rules.some((rule) => rule.target === TARGET)),
      2_000,
      50,
    );

    const during = await placeOrders(shop.http, plan(shop, products, 30, "faulty"), 5);
    expect(during.accepted.size).toBe(30);
    // Give the injected failures time to happen on the payments process (events are async).
    await waitFor(
      () => faultReports(operator),
      (reports) => injected(reports) > 0,
      10_000,
      100,
    );

    await faultsCommand(operator, "clear", [], table);
    const clearedAt = Date.now();
    await waitFor(
      () => faultReports(operator),
      (reports) => reports.every((r) => r.rules.length === 0),
      CLEAR_WITHIN_MS,
      25,
    );
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, clearedAt + CLEAR_WITHIN_MS - Date.now())),
    );
    const injectedAtClear = injected(await faultReports(operator));

    const after = await placeOrders(shop.http, plan(shop, products, 20, "healthy"), 5);
    expect(after.accepted.size).toBe(20);

    const orders: OrderRecord[] = await waitFor(
      () => ordersOf(shop),
      (os) => os.length === 50 && allSettled(os),
      60_000,
      250,
    );
    // Every order paid with the good card ends confirmed, faults or not: each lost
    // order.created was re-sent by the sweeper until a delivery got through.
    expect(orders.filter((o) => o.status !== "confirmed")).toEqual([]);
    const faulty = orders.filter((o) => during.accepted.has(o._id));
    const healthy = orders.filter((o) => after.accepted.has(o._id));
    expect([faulty.length, healthy.length]).toEqual([30, 20]);
    const redrives = (o: OrderRecord) => (o as OrderRecord & { redrives?: number }).redrives ?? 0;
    expect(faulty.some((o) => redrives(o) > 0)).toBe(true);

    // From a second after the clear on, nothing is injected and no order needs the sweeper.
    expect(injected(await faultReports(operator))).toBe(injectedAtClear);
    expect(healthy.filter((o) => redrives(o) > 0)).toEqual([]);

    // One payment per order, whatever was re-sent.
    const payments = await paymentsOf(
      shop,
      orders.map((o) => o._id),
    );
    expect(payments).toHaveLength(50);
    expect(payments.every((p) => p.status === "succeeded")).toBe(true);
  });
});
