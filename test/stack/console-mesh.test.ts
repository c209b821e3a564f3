/**
 * The console's mesh routes and the orders stream across processes over NATS (issue 13): two
 * gateways, the services in a process of their own and a spare node. `GET /api/admin/nodes`
 * lists every node and service, `GET /api/admin/stream` reports the spare node leaving and
 * coming back, and a customer's stream on one gateway gets the status changes of an order
 * placed through the other (the status change is a broadcast every gateway receives).
 */
import { Cluster } from "../helpers/cluster";
import { client } from "../helpers/http";
import { openSse, type SseClient, type SseEvent } from "../helpers/sse";
import { waitFor } from "../helpers/wait";
import { config } from "../../lib/config";
import type { MeshNodes, NodeChange } from "../../contracts/console";
import type { Order, Product } from "../helpers/shop";

const SERVICES = ["users", "products", "orders", "payments", "notifications"];

describe("the console's mesh and the orders stream, over NATS", () => {
  const cluster = new Cluster();
  const id = (name: string) => `${cluster.namespace}-${name}`;
  const streams: SseClient[] = [];
  let admin = "";

  beforeAll(async () => {
    await cluster.start("gateway", ["api"]);
    await cluster.start("gateway2", ["api"]);
    await cluster.start("services", SERVICES);
    await cluster.start("spare", ["notifications"]);
    const http = client(cluster.baseUrl("gateway"));
    const cfg = config();
    const login = await waitFor(
      () =>
        http.post<{ token: string }>("/api/auth/login", {
          json: { email: cfg.auth.adminEmail, password: cfg.auth.adminPassword },
        }),
      (r) => r.status === 200,
      30_000,
      250,
    );
    admin = login.body.token;
  });
  afterAll(async () => {
    streams.forEach((s) => s.close());
    await cluster.stopAll();
  });

  const nodes = async () =>
    (await client(cluster.baseUrl("gateway")).get<MeshNodes>("/api/admin/nodes", { token: admin }))
      .body.nodes;

  it("lists every node with the services it runs", async () => {
    const all = await waitFor(
      nodes,
      (list) => ["gateway2", "services", "spare"].every((n) => list.some((x) => x.id === id(n))),
      30_000,
      250,
    );
    const servicesOf = (name: string) =>
      all
        .find((n) => n.id === id(name))!
        .services.map((s) => s.name)
        .sort();
    expect(servicesOf("gateway")).toEqual(["api"]);
    expect(servicesOf("gateway2")).toEqual(["api"]);
    expect(servicesOf("services")).toEqual([...SERVICES].sort());
    expect(servicesOf("spare")).toEqual(["notifications"]);
    expect(all.find((n) => n.id === id("gateway"))!.local).toBe(true);
    expect(all.filter((n) => n.id !== id("gateway")).every((n) => !n.local)).toBe(true);
  });

  it("streams a node leaving and coming back", async () => {
    const stream = await openSse(`${cluster.baseUrl("gateway")}/api/admin/stream`, admin);
    streams.push(stream);
    expect(stream.status).toBe(200);
    await stream.waitFor((e) => e.event === "ready");
    const change = (c: NodeChange["change"]) => (e: SseEvent) =>
      e.event === "node" &&
      (e.data as NodeChange).id === id("spare") &&
      (e.data as NodeChange).change === c;

    await cluster.stop("spare");
    await stream.waitFor(change("disconnected"), 30_000);
    expect((await nodes()).find((n) => n.id === id("spare"))?.available).not.toBe(true);

    await cluster.restart("spare");
    const back = await stream.waitFor(change("connected"), 30_000);
    expect((back.data as NodeChange).node?.services.map((s) => s.name)).toEqual(["notifications"]);
  });

  it("streams an order placed through one gateway to its owner's stream on the other", async () => {
    const one = client(cluster.baseUrl("gateway"));
    const email = `stream-${Date.now()}@example.com`;
    const reg = await one.post<{ token: string }>("/api/auth/register", {
      json: { email, password: "password-123", name: "Streamer" },
    });
    expect(reg.status).toBe(201);
    const product = await one.post<Product>("/api/products", {
      token: admin,
      json: { sku: `STREAM-${Date.now()}`, name: "Thing", price: 500, stock: 10 },
    });
    const stream = await openSse(
      `${cluster.baseUrl("gateway2")}/api/orders/stream`,
      reg.body.token,
    );
    streams.push(stream);
    await stream.waitFor((e) => e.event === "ready");

    // Three orders: were the change a balanced event, each would reach this gateway only
    // half of the time.
    for (let i = 0; i < 3; i++) {
      const order = await one.post<Order>("/api/orders", {
        token: reg.body.token,
        json: { items: [{ productId: product.body.id, quantity: 1 }], paymentToken: "tok_visa" },
      });
      expect(order.status).toBe(201);
      const confirmed = await stream.waitFor(
        (e) =>
          e.event === "order" &&
          (e.data as Order).id === order.body.id &&
          (e.data as Order).status === "confirmed",
        30_000,
      );
      expect((confirmed.data as Order).userId).toBe(order.body.userId);
    }
  });
});
