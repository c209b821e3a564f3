/**
 * Observability of a checkout across real processes, read from the real tools an operator opens
 * (tools/test-bench.sh): Jaeger v2 receives the nodes' jaeger-client spans and answers its query
 * API; Prometheus scrapes the nodes (deploy/prometheus/prometheus.yml with file discovery, the
 * shipped alerting rules with time compressed) and answers PromQL and its alerts API.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { Cluster, ROOT, freePort } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { createProduct, waitForOrder, type Order, type Product } from "../helpers/shop";
import { STACK_ENV } from "../helpers/stack-shop";
import {
  benchServers,
  findTraces,
  promAlerts,
  promQuery,
  tag,
  writeTargets,
  type JaegerSpan,
} from "../helpers/observability";
import { brokerOptions } from "../../moleculer.config";
import { config, resetConfig } from "../../lib/config";
import { faultReports, faultsCommand } from "../../repl";
import { waitReady } from "../../bench/shop";
import { waitFor } from "../helpers/wait";

const bench = benchServers();
const table = (rows: unknown[][]) => rows.map((r) => r.join(" | ")).join("\n");
/** Processes and the service name DNS discovery would give each (compose's service names). */
const NODES = { gw: "api", orders: "orders", payments: "payments" } as const;
/** `expr` with every selector of the shop's metrics (and `up`) limited to one run's processes. */
const thisRun = (expr: string, namespace: string) =>
  expr.replace(/\b(moleculer_\w+|commerce_\w+|up)\b(\{)?/g, (_, name: string, brace?: string) =>
    brace ? `${name}{namespace="${namespace}",` : `${name}{namespace="${namespace}"}`,
  );
const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === "CHILD_OF");

describe("a checkout in Jaeger and Prometheus", () => {
  let cluster: Cluster;
  let http: Client;
  let targetsFile: string;
  let token: string;
  let admin: string;
  let product: Product;
  /** What the test placed, by final status; compared with what Prometheus counted. */
  const placed = { confirmed: 0, cancelled: 0 };
  const checkoutMs: number[] = [];

  /** PromQL over this run's processes only (other runs may have left series behind). */
  const ns = () => `namespace="${cluster.namespace}"`;
  const value = async (expr: string) => {
    const result = await promQuery(bench.prometheus, expr);
    return result.length === 0 ? null : Number(result[0].value[1]);
  };

  async function checkout(paymentToken: string, requestId?: string): Promise<Order> {
    const started = Date.now();
    const created = await http.post<Order>("/api/orders", {
      token,
      headers: requestId ? { "x-request-id": requestId } : {},
      json: { items: [{ productId: product.id, quantity: 1 }], paymentToken },
    });
    checkoutMs.push(Date.now() - started);
    expect(created.status).toBe(201);
    return created.body;
  }

  /** The trace that holds the checkout span of `orderId`, once every `services` has a span in it. */
  async function traceOf(orderId: string, services: string[]): Promise<JaegerSpan[]> {
    return waitFor(
      async () => (await findTraces(bench.jaeger, "orders", { orderId }))[0] ?? [],
      (spans) => services.every((svc) => spans.some((s) => s.serviceName === svc)),
      30_000,
      500,
    );
  }

  beforeAll(async () => {
    cluster = new Cluster({ ...STACK_ENV, JAEGER_ENDPOINT: bench.collector, METRICS: "true" });
    const ports = {
      gw: await freePort(),
      orders: await freePort(),
      payments: await freePort(),
    };
    await Promise.all([
      cluster.start("gw", ["api", "users", "products", "notifications"], {
        LOG_FORMAT: "json",
        METRICS_PORT: String(ports.gw),
        RATE_LIMIT_AUTH_MAX: "10",
      }),
      cluster.start("orders", ["orders"], { METRICS_PORT: String(ports.orders) }),
      cluster.start("payments", ["payments"], { METRICS_PORT: String(ports.payments) }),
    ]);
    targetsFile = writeTargets(
      bench.targets,
      cluster.namespace,
      (Object.keys(NODES) as Array<keyof typeof NODES>).map((n) => ({
        service: NODES[n],
        port: ports[n],
      })),
    );
    http = client(cluster.baseUrl("gw"));
    await waitReady(cluster.baseUrl("gw"), 30_000);
    const login = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    admin = login.body.token;
    product = await createProduct(http, admin, 1_000);
    const user = await http.post<{ token: string }>("/api/auth/register", {
      json: {
        email: `obs-${cluster.namespace}@example.com`,
        password: "password-123",
        name: "Obs",
      },
    });
    token = user.body.token;
    // Prometheus found the three processes through the file and scrapes them.
    await waitFor(
      () => value(`sum(up{${ns()}})`),
      (up) => up === 3,
      30_000,
      500,
    );
  });
  afterAll(async () => {
    if (targetsFile) fs.rmSync(targetsFile, { force: true });
    await cluster?.stopAll();
  });

  it("shows a confirmed checkout as one trace from the gateway through the saga's events", async () => {
    const requestId = randomUUID();
    const order = await checkout("tok_visa", requestId);
    await waitForOrder(http, token, order.id, (o) => o.status === "confirmed", 20_000);
    placed.confirmed++;

    const trace = await traceOf(order.id, [
      "api",
      "orders",
      "products",
      "payments",
      "notifications",
    ]);
    // One root, the gateway's; every other span's parent is a span of the same trace.
    const ids = new Set(trace.map((s) => s.spanID));
    const roots = trace.filter((s) => !parentOf(s));
    expect(roots.map((s) => s.serviceName)).toEqual(["api"]);
    for (const span of trace.filter((s) => parentOf(s))) {
      expect(ids.has(parentOf(span)!.spanID)).toBe(true);
      expect(parentOf(span)!.traceID).toBe(span.traceID);
    }
    const ops = trace.map((s) => `${s.serviceName}: ${s.operationName}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        "orders: action 'orders.create'",
        "products: action 'products.reserve'",
        "payments: event 'order.created' in 'payments'",
        "payments: payment provider charge",
        "notifications: event 'order.confirmed' in 'notifications'",
      ]),
    );
    const create = trace.find((s) => s.operationName === "action 'orders.create'")!;
    expect(tag(create, "orderId")).toBe(order.id);
    // Events run later than the call that emitted them, yet hang under the checkout's spans.
    const paid = trace.find((s) => s.operationName === "event 'order.created' in 'payments'")!;
    expect(ids.has(parentOf(paid)!.spanID)).toBe(true);
    expect(trace.filter((s) => tag(s, "error") === true)).toEqual([]);

    // The notification's log line, written by an event handler reached through orders and
    // payments, carries the request's id (AsyncLocalStorage under the nodes' flag).
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
    expect(delivered.map((l) => l.requestID)).toEqual([requestId]);
  });

  it("marks the provider's span failed when a card is declined", async () => {
    const order = await checkout("tok_chargeDeclined");
    await waitForOrder(http, token, order.id, (o) => o.status === "cancelled", 20_000);
    placed.cancelled++;

    const trace = await traceOf(order.id, ["api", "orders", "products", "payments"]);
    const failed = trace.filter((s) => tag(s, "error") === true);
    expect(failed.map((s) => `${s.serviceName}: ${s.operationName}`)).toEqual([
      "payments: payment provider charge",
    ]);
    expect(tag(failed[0], "orderId")).toBe(order.id);
    expect(tag(failed[0], "outcome")).toBe("card_declined");
  });

  it("answers PromQL with the counts of a short load", async () => {
    const load = [
      ...Array.from({ length: 6 }, () => "tok_visa"),
      ...Array.from({ length: 3 }, () => "tok_chargeDeclined"),
    ];
    const orders = await Promise.all(load.map((t) => checkout(t)));
    for (const [i, order] of orders.entries()) {
      const status = load[i] === "tok_visa" ? "confirmed" : "cancelled";
      await waitForOrder(http, token, order.id, (o) => o.status === status, 20_000);
      placed[status]++;
    }
    const total = placed.confirmed + placed.cancelled;

    // Orders per status, as counted by the orders process and scraped by Prometheus.
    const perStatus = await waitFor(
      async () =>
        Object.fromEntries(
          (
            await promQuery(
              bench.prometheus,
              `sum by (status) (commerce_orders_final_total{${ns()}})`,
            )
          ).map((s) => [s.metric.status, Number(s.value[1])]),
        ),
      (seen) => seen.confirmed === placed.confirmed && seen.cancelled === placed.cancelled,
      15_000,
      500,
    );
    expect(perStatus).toEqual(placed);

    // Requests per action: every checkout handled once by orders.create.
    expect(
      await value(`sum(moleculer_request_total{${ns()},action="orders.create",type="local"})`),
    ).toBe(total);
    // Payments per outcome, counted by the payments process: scraped on its own schedule, so
    // it may trail the orders' counts by a scrape.
    const outcomes = await waitFor(
      async () =>
        Object.fromEntries(
          (
            await promQuery(bench.prometheus, `sum by (outcome) (commerce_payments_total{${ns()}})`)
          ).map((s) => [s.metric.outcome, Number(s.value[1])]),
        ),
      (seen) => seen.succeeded === placed.confirmed && seen.card_declined === placed.cancelled,
      15_000,
      500,
    );
    expect(outcomes).toEqual({ succeeded: placed.confirmed, card_declined: placed.cancelled });

    // Checkout p99 from the histogram: every checkout observed, and no slower than the bucket
    // that holds the slowest checkout the client saw (the server's time is within the client's).
    const bucket = `moleculer_request_time_bucket{${ns()},action="orders.create",type="local"}`;
    expect(
      await value(`sum(moleculer_request_time_count{${ns()},action="orders.create",type="local"})`),
    ).toBe(total);
    const p99 = await value(`histogram_quantile(0.99, sum by (le) (${bucket}))`);
    const bounds = (await promQuery(bench.prometheus, `sum by (le) (${bucket})`))
      .map((s) => Number(s.metric.le))
      .sort((a, b) => a - b);
    const slowest = Math.max(...checkoutMs);
    const ceiling = bounds.find((le) => le >= slowest)!;
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(ceiling);
  });

  it("fires PaymentsFailing while payments' order.created handler fails, and resolves after the clear", async () => {
    resetConfig();
    const operator = new ServiceBroker({
      ...brokerOptions(config()),
      namespace: cluster.namespace,
      nodeID: `${cluster.namespace}-operator`,
      cacher: null,
      logger: false,
      metrics: false,
      tracing: { enabled: false },
    });
    await operator.start();
    const firing = () =>
      promAlerts(bench.prometheus).then((alerts) =>
        alerts.filter((a) => a.labels.alertname === "PaymentsFailing").map((a) => a.state),
      );
    try {
      await waitFor(
        () => faultReports(operator),
        (r) => r.length === 4,
        15_000,
        100,
      );
      // The declined cards above count as failing payments: wait until they left the window.
      await waitFor(firing, (states) => states.length === 0, 60_000, 1_000);
      await faultsCommand(operator, "set", ["payments:order.created", "error=1"], table);
      // The sweeper re-drives each lost order.created every step deadline: failures keep coming.
      const stuck = await Promise.all([checkout("tok_visa"), checkout("tok_visa")]);
      await waitFor(firing, (states) => states.includes("firing"), 60_000, 1_000);

      await faultsCommand(operator, "clear", [], table);
      for (const order of stuck) {
        await waitForOrder(http, token, order.id, (o) => o.status === "confirmed", 30_000);
      }
      await waitFor(firing, (states) => states.length === 0, 60_000, 1_000);

      // The sweeper's re-drives joined the checkout's trace, under its orders.create span: the
      // failed deliveries (the first and at least one re-drive) and the one that succeeded.
      const trace = await traceOf(stuck[0].id, ["payments", "notifications"]);
      const create = trace.find((s) => s.operationName === "action 'orders.create'")!;
      const deliveries = trace.filter(
        (s) => s.operationName === "event 'order.created' in 'payments'",
      );
      expect(deliveries.filter((s) => tag(s, "error") === true).length).toBeGreaterThanOrEqual(2);
      expect(deliveries.filter((s) => tag(s, "error") !== true).length).toBeGreaterThanOrEqual(1);
      for (const span of deliveries) expect(parentOf(span)?.spanID).toBe(create.spanID);
    } finally {
      await faultsCommand(operator, "clear", [], table).catch(() => undefined);
      await operator.stop();
    }
  });

  it("serves every panel of the Grafana dashboard with series", async () => {
    // Cache hits and 429s, so the cache and rate-limiting panels have something to show.
    await http.get("/api/products");
    await http.get("/api/products");
    let refused = 0;
    for (let i = 0; i < 12 && refused === 0; i++) {
      const res = await http.post("/api/auth/login", {
        json: { email: `nobody-${i}@example.com`, password: "wrong-password" },
      });
      if (res.status === 429) refused++;
    }
    expect(refused).toBe(1);
    await waitFor(
      () => value(`sum(commerce_gateway_rate_limited_total{${ns()},route="auth"})`),
      (seen) => seen === refused,
      10_000,
      500,
    );

    const dashboard = JSON.parse(
      fs.readFileSync(path.join(ROOT, "deploy/grafana/dashboards/commerce-mesh.json"), "utf8"),
    ) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) =>
      p.targets.map((t) => ({ panel: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThan(10);
    // Each parses (promQuery throws with Prometheus' message otherwise) and returns series
    // from this run's processes (Prometheus still holds earlier runs' recent samples).
    const empty = await waitFor(
      async () => {
        const out: string[] = [];
        for (const { panel, expr } of exprs) {
          const series = await promQuery(bench.prometheus, thisRun(expr, cluster.namespace));
          if (series.length === 0) out.push(`${panel}: ${expr}`);
        }
        return out;
      },
      (missing) => missing.length === 0,
      20_000,
      1_000,
    );
    expect(empty).toEqual([]);
  });
});
