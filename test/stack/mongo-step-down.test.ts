/**
 * A MongoDB primary step-down, as the app sees it: every connection to the database drops at
 * once, in the middle of checkouts, and new ones are accepted right after (the new primary).
 * FerretDB, the bench's Mongo, has no replica set to step down, so this file puts a TCP relay
 * of its own between every node and the shared FerretDB and cuts every connection through it,
 * again and again while orders are placed. The nodes' driver reconnects; a write cut in flight
 * fails its request (the client retries with its Idempotency-Key) or is re-driven by the saga's
 * sweeper: every accepted order is confirmed and charged once — none is lost. What a real
 * replica set adds on top (the driver's retryable writes, retried once on the new primary) is
 * not exercised here: the driver retries writes only against a replica set or a sharded cluster.
 */
import { freePort } from "../helpers/cluster";
import { Relay } from "../helpers/relay";
import {
  expectEveryOrderConfirmedOnce,
  makeProducts,
  placeOrders,
  startShop,
  type PlannedOrder,
  type Shop,
} from "../helpers/stack-shop";

describe("a Mongo primary step-down (every connection cut mid-checkout)", () => {
  let relay: Relay | undefined;
  let shop: Shop | undefined;
  const sharedMongo = process.env.MONGO_URI;

  beforeAll(async () => {
    if (!sharedMongo) throw new Error("stack tests need MONGO_URI");
    const target = new URL(sharedMongo);
    relay = new Relay(await freePort(), {
      host: target.hostname,
      port: Number(target.port || 27017),
    });
    await relay.open();
    const viaRelay = new URL(sharedMongo);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    // Every node, and the test's own probe, reaches the database through the relay only.
    process.env.MONGO_URI = viaRelay.toString();
    shop = await startShop({ orders: ["orders"], pay: ["payments"] }, 4);
  });

  afterAll(async () => {
    await shop?.stop();
    await relay?.close();
    process.env.MONGO_URI = sharedMongo;
  });

  it("loses no accepted order and charges each once while the connections keep dropping", async () => {
    const [product] = await makeProducts(shop!, 1, 1000);
    const planned: PlannedOrder[] = Array.from({ length: 40 }, (_, i) => ({
      key: `mongo-step-down-${i}`,
      token: shop!.customers[i % shop!.customers.length].token,
      productId: product.id,
      quantity: 1,
      paymentToken: "tok_visa",
    }));
    // From the 10th order to the 30th, every connection is cut every 300 ms: each cut lands
    // in the middle of some checkout's reads and writes (orders, reservations, payments).
    let cutter: NodeJS.Timeout | undefined;
    const { accepted } = await placeOrders(shop!.http, planned, 4, async (n) => {
      if (n === 10) cutter = setInterval(() => relay!.cut(), 300);
      if (n === 30) clearInterval(cutter);
    });
    clearInterval(cutter);
    expect(relay!.cutConnections).toBeGreaterThan(0);

    // A client whose request failed retries with the same Idempotency-Key and finds its order.
    await expectEveryOrderConfirmedOnce(shop!, planned, accepted);
    // ~80 s on two shared cores: 40 checkouts under cuts, the retries, the sweeper's re-drives.
  }, 240_000);
});
