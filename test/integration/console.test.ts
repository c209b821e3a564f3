/**
 * The operator console's routes (issue 13, contracts/console.ts): admins only; the mesh's
 * nodes and services, per-action figures from the broker's metrics, the saga board with its
 * stuck orders and a re-drive, and fault injection set, listed and cleared — the operator's
 * journey of the issue, through HTTP.
 */
import type { TestSystem } from "../helpers/system";
import type { Order, Product } from "../helpers/shop";
import type {
  ActionsReport,
  FaultReports,
  MeshNodes,
  OrderBoard,
  RedriveResult,
} from "../../contracts/console";
import { openSse } from "../helpers/sse";

// Read at run time by the services, so set for the whole file: the metrics the figures come
// from, a short saga step (an order is stuck soon) and a sweeper that leaves it to the operator.
process.env.METRICS = "true";
process.env.SAGA_STEP_DEADLINE_MS = "1500";
process.env.SWEEPER_INTERVAL_MS = "600000";

const FAULT = "payments:order.created";

describe("the operator console's routes", () => {
  let sys: TestSystem;
  let admin: string;
  let customer: string;
  let product: Product;

  beforeAll(async () => {
    const { freePort } = await import("../helpers/cluster");
    const { startSystem } = await import("../helpers/system");
    sys = await startSystem(null, { METRICS_PORT: String(await freePort()) });
    admin = await sys.adminToken();
    customer = (await sys.customer("console")).token;
    const { createProduct } = await import("../helpers/shop");
    product = await createProduct(sys.http, admin, 100);
  });
  afterAll(async () => {
    await sys.http.del("/api/admin/faults", { token: admin });
    await sys.stop();
  });

  const poll = async <T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 15_000) => {
    const { waitFor } = await import("../helpers/wait");
    return waitFor(probe, done, ms, 200);
  };

  it("answers 401 without a token and 403 to a customer on every console route", async () => {
    const { CONSOLE_ALIASES } = await import("../../services/api/console");
    for (const alias of Object.keys(CONSOLE_ALIASES)) {
      const [method, path] = alias.split(" ");
      const url = `/api${path.replace(":id", product.id).replace(":target", "users.me")}`;
      const json = method === "PUT" ? { error: 1 } : undefined;
      const anonymous = await sys.http.request(method, url, { json });
      const asCustomer = await sys.http.request(method, url, { token: customer, json });
      expect([alias, anonymous.status, asCustomer.status]).toEqual([alias, 401, 403]);
    }
    // The stream too, read as the page reads it.
    expect((await openSse(`${sys.baseUrl}/api/admin/stream`, customer)).status).toBe(403);
  });

  it("lists every node with the services it runs", async () => {
    const res = await sys.http.get<MeshNodes>("/api/admin/nodes", { token: admin });
    expect(res.status).toBe(200);
    // Embedded: one node runs everything; in the stack run the services run on a second node.
    const ours = res.body.nodes.filter((n) => sys.brokers.some((b) => b.nodeID === n.id));
    expect(ours.map((n) => n.id).sort()).toEqual(sys.brokers.map((b) => b.nodeID).sort());
    expect(ours.map((n) => [n.id, n.available, n.local])).toEqual(
      ours.map((n) => [n.id, true, n.id === sys.broker.nodeID]),
    );
    const services = ours.flatMap((n) => n.services);
    const names = services.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(["api", "notifications", "orders", "payments", "products", "users"]),
    );
    expect(names.filter((n) => n.startsWith("$"))).toEqual([]);
    expect(services.find((s) => s.name === "orders")!.actions).toBeGreaterThan(3);
  });

  it("opens the mesh stream for an admin with `ready`", async () => {
    const stream = await openSse(`${sys.baseUrl}/api/admin/stream`, admin);
    try {
      expect(stream.status).toBe(200);
      expect(await stream.waitFor((e) => e.event === "ready")).toEqual({
        event: "ready",
        data: {},
      });
    } finally {
      stream.close();
    }
  });

  it("gives each action's request and error rates and latencies from the broker's metrics", async () => {
    await sys.http.request<FaultReports>("PUT", `/api/admin/faults/products.get`, {
      token: admin,
      json: { error: 1 },
    });
    const figures = await poll(
      async () => {
        await sys.http.get("/api/products", {});
        await sys.http.get(`/api/products/${product.id}`, {});
        return (await sys.http.get<ActionsReport>("/api/admin/actions", { token: admin })).body;
      },
      (body) => {
        const get = body.actions.find((a) => a.name === "products.get");
        const list = body.actions.find((a) => a.name === "products.list");
        return Boolean(get && list && get.errorRate > 0 && list.requestsPerSecond > 0);
      },
    );
    await sys.http.del(`/api/admin/faults/products.get`, { token: admin });
    const list = figures.actions.find((a) => a.name === "products.list")!;
    expect(list.errorsPerSecond).toBe(0);
    expect(list.p99Ms).toBeGreaterThanOrEqual(list.p50Ms);
    expect(list.p50Ms).toBeGreaterThan(0);
    expect(list.circuit).toBe("closed");
    const get = figures.actions.find((a) => a.name === "products.get")!;
    expect(get.errorsPerSecond).toBeGreaterThan(0);
    expect(figures.actions.map((a) => a.name)).not.toContain("$node.metrics");
  });

  it("refuses a fault that does nothing, or names no target, with 422", async () => {
    const none = await sys.http.request("PUT", `/api/admin/faults/users.me`, {
      token: admin,
      json: {},
    });
    expect(none.status).toBe(422);
    const bad = await sys.http.request("PUT", `/api/admin/faults/${encodeURIComponent("a b")}`, {
      token: admin,
      json: { error: 1 },
    });
    expect(bad.status).toBe(422);
    const tooLikely = await sys.http.request("PUT", `/api/admin/faults/users.me`, {
      token: admin,
      json: { error: 2 },
    });
    expect(tooLikely.status).toBe(422);
  });

  it("sets a fault, shows the order it holds up as stuck, clears it, and re-drives the order to confirmed", async () => {
    const set = await sys.http.request<FaultReports>("PUT", `/api/admin/faults/${FAULT}`, {
      token: admin,
      json: { error: 1 },
    });
    expect(set.status).toBe(200);
    const rules = (body: FaultReports) => body.nodes.flatMap((n) => n.rules);
    // Every node of the system has the rule (one node embedded, two in the stack run).
    expect(set.body.nodes.map((n) => n.nodeID).sort()).toEqual(
      sys.brokers.map((b) => b.nodeID).sort(),
    );
    for (const node of set.body.nodes)
      expect(node.rules).toEqual([{ target: FAULT, error: 1, latencyMs: 0, retryable: false }]);
    const listed = await sys.http.get<FaultReports>("/api/admin/faults", { token: admin });
    expect(listed.body.nodes.map((n) => n.rules.map((r) => r.target))).toEqual(
      sys.brokers.map(() => [FAULT]),
    );

    const placed = await sys.http.post<Order>("/api/orders", {
      token: customer,
      json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
    });
    expect(placed.status).toBe(201);
    const board = await poll(
      async () =>
        (await sys.http.get<OrderBoard>("/api/admin/orders/board", { token: admin })).body,
      (b) => b.stuck.some((o) => o.id === placed.body.id),
    );
    expect(board.counts.pending).toBeGreaterThanOrEqual(1);
    expect(board.stuck.find((o) => o.id === placed.body.id)).toMatchObject({ status: "pending" });
    const faults = await sys.http.get<FaultReports>("/api/admin/faults", { token: admin });
    expect(faults.body.nodes.some((n) => (n.injected[FAULT] ?? 0) > 0)).toBe(true);

    const cleared = await sys.http.del(`/api/admin/faults/${FAULT}`, { token: admin });
    expect(cleared.status).toBe(204);
    const after = await sys.http.get<FaultReports>("/api/admin/faults", { token: admin });
    expect(rules(after.body)).toEqual([]);

    const redrive = await sys.http.post<RedriveResult>(
      `/api/admin/orders/${placed.body.id}/redrive`,
      { token: admin },
    );
    expect(redrive.status).toBe(200);
    expect(redrive.body).toEqual({ id: placed.body.id, effects: ["emitCreated"] });
    await poll(
      async () =>
        (await sys.http.get<Order>(`/api/orders/${placed.body.id}`, { token: customer })).body,
      (o) => o.status === "confirmed",
    );
    const again = await sys.http.post(`/api/admin/orders/${placed.body.id}/redrive`, {
      token: admin,
    });
    expect(again.status).toBe(409);
    const unknown = await sys.http.post(`/api/admin/orders/nope-${Date.now()}/redrive`, {
      token: admin,
    });
    expect(unknown.status).toBe(404);
  });

  it("clears every fault at once", async () => {
    await sys.http.request("PUT", `/api/admin/faults/users.me`, {
      token: admin,
      json: { latencyMs: 1 },
    });
    await sys.http.request("PUT", `/api/admin/faults/products.list`, {
      token: admin,
      json: { latencyMs: 1 },
    });
    expect((await sys.http.del("/api/admin/faults", { token: admin })).status).toBe(204);
    const after = await sys.http.get<FaultReports>("/api/admin/faults", { token: admin });
    expect(after.body.nodes.flatMap((n) => n.rules)).toEqual([]);
  });
});
