/**
 * A service in another language on the mesh: the Python recommendations service (moleculerpy,
 * its own PostgreSQL) between TypeScript processes over the real NATS. It counts the products
 * of confirmed orders, the gateway ranks them through products, a redelivered event counts
 * once, and its absence costs its route alone.
 */
import { ServiceBroker } from "moleculer";
import { startShop, type Shop } from "../helpers/stack-shop";
import { createProduct, waitForOrder, type Order, type Product } from "../helpers/shop";
import { startPostgres, type Postgres } from "../helpers/postgres";
import { metricValue, startRecommendations } from "../helpers/recommendations";
import { waitFor } from "../helpers/wait";
import { ORDER_CONFIRMED, orderConfirmed, type OrderConfirmedEvent } from "../../contracts/orders";

interface Recommended {
  id: string;
  sku: string;
  price: number;
}

describe("recommendations, a Python service with its own PostgreSQL", () => {
  let shop: Shop;
  let pg: Postgres;
  let metricsPort: number;
  let a: Product, b: Product, c: Product, d: Product;
  const placed: Order[] = [];

  const recommendationsOf = (id: string, limit: number) =>
    shop.http.get<Recommended[] & { type?: string }>(
      `/api/products/${id}/recommendations?limit=${limit}`,
    );

  async function buy(customer: number, products: Product[]): Promise<Order> {
    const { token } = shop.customers[customer];
    const res = await shop.http.post<Order>("/api/orders", {
      token,
      json: {
        items: products.map((p) => ({ productId: p.id, quantity: 1 })),
        paymentToken: "tok_visa",
      },
    });
    expect(res.status).toBe(201);
    const order = await waitForOrder(shop.http, token, res.body.id, (o) => o.status !== "pending");
    expect(order.status).toBe("confirmed");
    return order;
  }

  const countedOrders = async () =>
    Number((await pg.query("SELECT count(*) FROM processed_orders"))[0][0]);
  const pairCounts = () =>
    pg.query("SELECT product_id, other_id, count FROM pair_counts ORDER BY 1, 2");

  beforeAll(async () => {
    pg = await startPostgres();
    shop = await startShop({ orders: ["orders"], pay: ["payments"] }, 2);
    metricsPort = await startRecommendations(shop.cluster, "recs", pg.url);
    [a, b, c, d] = [
      await createProduct(shop.http, shop.admin, 100),
      await createProduct(shop.http, shop.admin, 100),
      await createProduct(shop.http, shop.admin, 100),
      await createProduct(shop.http, shop.admin, 100),
    ];
    // The first run on a machine builds the venv (tools/python-env.sh, about 30 s from PyPI).
  }, 240_000);
  afterAll(async () => {
    await shop?.stop();
    await pg?.stop();
  });

  it("ranks the product bought most often with another first, as products", async () => {
    placed.push(await buy(0, [a, b]), await buy(1, [a, b]), await buy(0, [a, c]));
    placed.push(await buy(1, [b, c, d]));
    // Counted in PostgreSQL before the first read: a read caches its answer for a minute.
    await waitFor(countedOrders, (n) => n === placed.length, 20_000);

    const forA = await recommendationsOf(a.id, 5);
    expect(forA.status).toBe(200);
    expect(forA.body.map((p) => p.id)).toEqual([b.id, c.id]);
    expect(forA.body[0]).toMatchObject({ id: b.id, sku: b.sku, price: b.price });
    const forB = await recommendationsOf(b.id, 5);
    expect(forB.body[0].id).toBe(a.id);
    expect(forB.body.map((p) => p.id).sort()).toEqual([a.id, c.id, d.id].sort());
    expect((await recommendationsOf(b.id, 1)).body.map((p) => p.id)).toEqual([a.id]);
  });

  it("counts a redelivered order.confirmed once", async () => {
    const before = await pairCounts();
    const order = placed[2]; // a with c: three more counts would put c above b for a
    const event: OrderConfirmedEvent = {
      eventId: orderConfirmed.eventId(order.id),
      orderId: order.id,
      userId: order.userId,
      total: order.total,
      currency: order.currency,
      productIds: order.items.map((i) => i.productId),
    };
    const sample = 'recommendations_orders_total{outcome="duplicate"}';
    const duplicates = await metricValue(metricsPort, sample);
    const replayer = new ServiceBroker({
      namespace: shop.cluster.namespace,
      nodeID: `${shop.cluster.namespace}-replayer`,
      transporter: { type: "NATS", options: { url: process.env.TRANSPORTER } },
      logger: false,
    });
    await replayer.start();
    try {
      await replayer.waitForServices(["recommendations"], 10_000);
      for (let i = 0; i < 3; i++)
        await replayer.emit(ORDER_CONFIRMED, event, { groups: ["recommendations"] });
      // The service saw all three (its metrics say so) and counted none of them.
      await waitFor(
        () => metricValue(metricsPort, sample),
        (n) => n === duplicates + 3,
        10_000,
      );
      expect(await pairCounts()).toEqual(before);
      expect(await countedOrders()).toBe(placed.length);
      const ranked = await replayer.call<string[], object>("recommendations.forProduct", {
        productId: a.id,
        limit: 5,
      });
      expect(ranked).toEqual([b.id, c.id]);
    } finally {
      await replayer.stop();
    }
  });

  it("answers 503 on its route alone while the Python process is down, and again once it is back", async () => {
    await shop.cluster.kill("recs");
    // d's recommendations were never read, so no cached answer hides the outage.
    const down = await waitFor(
      () => recommendationsOf(d.id, 5),
      (res) => res.status !== 200,
      30_000,
      200,
    );
    expect(down.status).toBe(503);
    expect(down.body.type).toBe("SERVICE_UNAVAILABLE");

    expect((await shop.http.get("/health/ready")).status).toBe(200);
    expect((await shop.http.get(`/api/products/${d.id}`)).status).toBe(200);
    expect((await shop.http.get("/api/products")).status).toBe(200);
    const unseen = await buy(0, [c, d]);
    expect(unseen.status).toBe("confirmed");

    await shop.cluster.restart("recs");
    const back = await waitFor(
      () => recommendationsOf(d.id, 5),
      (res) => res.status === 200,
      30_000,
      200,
    );
    expect(back.body.map((p) => p.id).sort()).toEqual([b.id, c.id].sort());
  });
});
