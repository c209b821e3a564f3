/**
 * Observability of a checkout across real processes: one trace exported through jaeger-client
 * spans gateway → orders → products → the events to payments and notifications; each service
 * process serves Prometheus metrics whose request and domain counters move with the checkout.
 */
import { Cluster, freePort } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { JaegerCollector, NO_PARENT } from "../helpers/jaeger-collector";
import { createProduct, waitForOrder, type Order } from "../helpers/shop";
import { STACK_ENV } from "../helpers/stack-shop";
import { waitReady } from "../../bench/shop";
import { waitFor } from "../helpers/wait";

/** The value of one Prometheus sample whose name and labels match, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

describe("a checkout's trace and metrics", () => {
  const collector = new JaegerCollector();
  let cluster: Cluster;
  let http: Client;
  const metricsPort: Record<string, number> = {};

  beforeAll(async () => {
    const endpoint = await collector.start();
    cluster = new Cluster({ ...STACK_ENV, JAEGER_ENDPOINT: endpoint });
    for (const name of ["orders", "payments"]) metricsPort[name] = await freePort();
    await Promise.all([
      cluster.start("gw", ["api", "users", "products", "notifications"], { LOG_FORMAT: "json" }),
      ...["orders", "payments"].map((name) =>
        cluster.start(name, [name], { METRICS: "true", METRICS_PORT: String(metricsPort[name]) }),
      ),
    ]);
    http = client(cluster.baseUrl("gw"));
    await waitReady(cluster.baseUrl("gw"), 30_000);
  });
  afterAll(async () => {
    await cluster.stopAll();
    await collector.stop();
  });

  const scrape = async (name: string) =>
    (await fetch(`http://127.0.0.1:${metricsPort[name]}/metrics`)).text();

  it("exports one trace and moves the request and domain metrics", async () => {
    const admin = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    const product = await createProduct(http, admin.body.token, 5);
    const user = await http.post<{ token: string }>("/api/auth/register", {
      json: {
        email: `obs-${cluster.namespace}@example.com`,
        password: "password-123",
        name: "Obs",
      },
    });
    const token = user.body.token;

    const before = { orders: await scrape("orders"), payments: await scrape("payments") };
    const created = await http.post<Order>("/api/orders", {
      token,
      headers: { "x-request-id": `checkout-${cluster.namespace}` },
      json: { items: [{ productId: product.id, quantity: 2 }], paymentToken: "tok_visa" },
    });
    expect(created.status).toBe(201);
    await waitForOrder(http, token, created.body.id, (o) => o.status === "confirmed", 20_000);

    // --- trace: every span of the checkout's trace, collected from five services' processes
    const needed = ["api", "orders", "products", "payments", "notifications"];
    const trace = await waitFor(
      async () => collector.traceOf((s) => s.operationName === "action 'orders.create'"),
      (spans) => needed.every((svc) => spans.some((s) => s.serviceName === svc)),
      20_000,
      250,
    );
    const ids = new Set(trace.map((s) => s.spanId));
    const roots = trace.filter((s) => s.parentSpanId === NO_PARENT || !ids.has(s.parentSpanId));
    expect(roots.map((s) => s.serviceName)).toEqual(["api"]);
    const ops = trace.map((s) => `${s.serviceName}: ${s.operationName}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        "orders: action 'orders.create'",
        "products: action 'products.reserve'",
        "payments: event 'order.created' in 'payments'",
        "notifications: event 'order.confirmed' in 'notifications'",
      ]),
    );

    // --- metrics: the orders process and the payments process each counted the checkout
    const after = { orders: await scrape("orders"), payments: await scrape("payments") };
    const requests = (text: string) =>
      sample(text, "moleculer_request_total", { action: "orders.create" });
    expect(requests(after.orders) - requests(before.orders)).toBe(1);
    const confirmed = (text: string) =>
      sample(text, "commerce_orders_final_total", { status: "confirmed" });
    expect(confirmed(after.orders) - confirmed(before.orders)).toBe(1);
    const charged = (text: string) =>
      sample(text, "commerce_payments_total", { outcome: "succeeded" });
    expect(charged(after.payments) - charged(before.payments)).toBe(1);
    expect(after.orders).toContain("moleculer_request_time");

    // --- logs: the notification's log line, written by an event handler reached through orders
    // and payments, carries the request's id (AsyncLocalStorage under the nodes' flag)
    const delivered = await waitFor(
      async () =>
        cluster.nodes
          .get("gw")!
          .output.join("")
          .split("\n")
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as { msg?: string; requestID?: string }];
            } catch {
              return [];
            }
          })
          .filter((l) => l.msg?.includes("[order_confirmed]")),
      (lines) => lines.length > 0,
      10_000,
      200,
    );
    expect(delivered.map((l) => l.requestID)).toEqual([`checkout-${cluster.namespace}`]);
  });
});
