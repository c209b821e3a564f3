/**
 * Per-process caches across nodes (mixins/db.mixin.ts): two products nodes, each with its own
 * memory cacher, joined over the real NATS server and sharing one database. A write on one node
 * broadcasts `cache.clean.products`; the other node drops its cached entry and its next reads
 * show the write.
 */
import type { Product } from "../../contracts/products";
import { openProbe, type DbProbe } from "../helpers/db-probe";
import { startSystem, type TestSystem } from "../helpers/system";
import { waitFor } from "../helpers/wait";

describe("memory caches on two nodes over NATS", () => {
  let writer: TestSystem;
  let reader: TestSystem;
  let probe: DbProbe;
  /** `cache.clean.products` broadcasts the reader node has received. */
  let cleansSeen = 0;

  beforeAll(async () => {
    expect(process.env.TRANSPORTER).toMatch(/^nats:/);
    // CACHER unset: each node keeps its own memory cacher instead of the shared Redis.
    writer = await startSystem(["products"], { CACHER: undefined });
    reader = await startSystem(["products"], { CACHER: undefined });
    probe = await openProbe(["products"]);
    await reader.broker.createService({
      name: "clean-watch",
      events: {
        "cache.clean.products"() {
          cleansSeen++;
        },
      },
    });
    // The writer's broadcast reaches only the nodes it knows of.
    await waitFor(
      async () =>
        (await writer.broker.call<Array<{ id: string; available: boolean }>>("$node.list")).some(
          (n) => n.id === reader.broker.nodeID && n.available,
        ),
      (known) => known,
      15_000,
      100,
    );
  });
  afterAll(async () => {
    await probe?.close();
    await reader?.stop();
    await writer?.stop();
  });

  const readOn = (sys: TestSystem, id: string) =>
    sys.broker.call<Product, { id: string }>("products.get", { id });

  it("shows a write made on one node to the next reads on the other", async () => {
    for (const sys of [writer, reader]) {
      expect(sys.broker.cacher?.constructor.name).toBe("MemoryLRUCacher");
    }
    const created = await writer.broker.call<Product, Record<string, unknown>>("products.create", {
      sku: `MEM-${Date.now()}`,
      name: "Cached on two nodes",
      price: 100,
      stock: 5,
    });
    // The create's own clean reaches the reader asynchronously; read once it has arrived.
    await waitFor(
      async () => cleansSeen,
      (n) => n >= 1,
      5_000,
      20,
    );
    expect((await readOn(reader, created.id)).price).toBe(100);

    // The reader really answers from its own cache: a change made behind every node's back
    // (straight in the database) does not show there.
    await probe.store("products").updateWhere({ _id: created.id }, { $set: { price: 50 } });
    for (let i = 0; i < 3; i++) expect((await readOn(reader, created.id)).price).toBe(100);

    // A write through the service on the other node cleans the reader's cache.
    const updated = await writer.broker.call<Product, Record<string, unknown>>("products.update", {
      id: created.id,
      price: 90,
    });
    expect(updated.price).toBe(90);
    await waitFor(
      async () => (await readOn(reader, created.id)).price,
      (price) => price === 90,
      5_000,
      20,
    );
    for (let i = 0; i < 3; i++) expect((await readOn(reader, created.id)).price).toBe(90);
  });
});
