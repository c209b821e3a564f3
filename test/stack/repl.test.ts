/**
 * The operator's REPL (`npm run repl`) joined to a cluster of separate processes: driven through
 * its standard input, read from its output. An order whose payment step was lost (payments
 * down) shows up in `stuck`, and `redrive` finishes it once payments is back.
 */
import { Cluster } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { ReplProcess } from "../helpers/repl-process";
import { createProduct, waitForOrder, type Order } from "../helpers/shop";
import { STACK_ENV } from "../helpers/stack-shop";
import { waitFor } from "../helpers/wait";

describe("npm run repl against a cluster", () => {
  let cluster: Cluster;
  let http: Client;
  let repl: ReplProcess;

  beforeAll(async () => {
    // The sweeper stays out of the way, so a lost step stays stuck until the operator acts.
    cluster = new Cluster({
      ...STACK_ENV,
      SWEEPER_INTERVAL_MS: "600000",
      SAGA_STEP_DEADLINE_MS: "500",
    });
    await Promise.all([
      cluster.start("gw", ["api", "users", "products", "notifications"]),
      cluster.start("orders", ["orders"]),
    ]);
    http = client(cluster.baseUrl("gw"));
    await waitFor(
      () => http.get("/health/live"),
      (r) => r.status === 200,
      30_000,
      200,
    );
    repl = new ReplProcess({
      ...process.env,
      NAMESPACE: cluster.namespace,
      LOGLEVEL: "error",
      NO_COLOR: "1",
    });
    await repl.run("", /commerce-mesh \$/, 90_000);
  }, 120_000);
  afterAll(async () => {
    await repl?.quit();
    await cluster.stopAll();
  });

  it("calls an action of the cluster", async () => {
    const admin = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    await createProduct(http, admin.body.token, 3);
    const printed = await repl.run("call products.list --pageSize 1", /totalPages/);
    expect(printed).toMatch(/total: 1\b/);
    expect(printed).toMatch(/sku: 'SKU-/);
  });

  it("lists an order stuck without payments, and re-drives it once payments is back", async () => {
    const admin = await http.post<{ token: string }>("/api/auth/login", {
      json: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
    });
    const product = await createProduct(http, admin.body.token, 5);
    const user = await http.post<{ token: string }>("/api/auth/register", {
      json: { email: `repl-${cluster.namespace}@example.com`, password: "password-123", name: "R" },
    });
    const order = await http.post<Order>("/api/orders", {
      token: user.body.token,
      json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
    });
    expect(order.status).toBe(201);
    // Listed once its step deadline has passed (no sleep: asked until it shows, with a deadline).
    const stuck = await waitFor(
      () => repl.run("stuck", /stuck order\(s\)|No stuck orders/),
      (text) => text.includes(order.body.id),
      10_000,
      200,
    );
    expect(stuck).toMatch(/pending/);

    const counts = await repl.run("counts", /documents/);
    // service │ instances │ nodes │ documents: one orders process owning one order.
    expect(counts).toMatch(/orders\s*│\s*1\s*│[^│]+│\s*1\s*║/);

    await cluster.start("payments", ["payments"]);
    // The gateway is ready without payments (only routes that need it answer 503): wait until
    // the mesh has payments again, or the re-driven event would find no one to take it.
    await waitFor(
      () => http.get<{ unavailableServices?: string[] }>("/health/ready"),
      (r) => r.status === 200 && !(r.body.unavailableServices ?? []).includes("payments"),
      20_000,
      200,
    );
    const redriven = await repl.run(`redrive ${order.body.id}`, /effects|redrive failed/);
    expect(redriven).toContain("emitCreated");
    const done = await waitForOrder(
      http,
      user.body.token,
      order.body.id,
      (o) => o.status !== "pending",
      20_000,
    );
    expect(done.status).toBe("confirmed");

    expect(await repl.run("stuck", /stuck order\(s\)|No stuck orders/)).toContain(
      "No stuck orders",
    );
  });
});
