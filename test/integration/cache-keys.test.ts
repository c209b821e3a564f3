/**
 * The read cache cannot be grown from outside: one query is one entry however its params are
 * spelt (lib/cache-keys.ts), and the in-process cacher holds at most MEMORY_CACHE_MAX entries,
 * each for at most CACHE_TTL_S (moleculer.config.ts). Entries are counted through the cacher.
 */
import { Cachers, ServiceBroker } from "moleculer";
import { brokerOptions, CACHE_TTL_S, MEMORY_CACHE_MAX } from "../../moleculer.config";
import { config } from "../../lib/config";
import { selectServices } from "../../services";
import { startSystem, type TestSystem } from "../helpers/system";
import { waitFor } from "../helpers/wait";

async function listKeys(broker: ServiceBroker): Promise<string[]> {
  const keys = (await broker.cacher!.getCacheKeys()) as Array<{ key: string }>;
  return keys.map((k) => k.key).filter((k) => k.includes("products.list:"));
}

describe("cache keys from validated params", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem();
    // Redis (the stack run) connects after the start; until then calls go uncached.
    await waitFor(
      async () => (sys.broker.cacher as unknown as { connected: boolean | null }).connected,
      (connected) => connected !== false,
    );
  });
  afterAll(() => sys.stop());

  it("stores one entry for every spelling of one query: ?page=01, ?page=001, ?page=1, none", async () => {
    await sys.broker.cacher!.clean("products.**");
    const spellings = [
      "/api/products?page=01",
      "/api/products?page=001",
      "/api/products?page=1",
      "/api/products",
      "/api/products?pageSize=20&page=1",
      "/api/products?page=1&unknown=x",
    ];
    for (const path of spellings) {
      const res = await sys.http.get<{ page: number }>(path);
      expect(res.status).toBe(200);
      expect(res.body.page).toBe(1);
    }
    // Stores land after the answer.
    const one = await waitFor(
      () => listKeys(sys.broker),
      (keys) => keys.length > 0,
    );
    expect(one).toHaveLength(1);

    for (const path of [
      "/api/products?q=mug",
      "/api/products?q=%20mug%20",
      "/api/products?page=2",
    ]) {
      expect((await sys.http.get(path)).status).toBe(200);
    }
    const three = await waitFor(
      () => listKeys(sys.broker),
      (keys) => keys.length >= 3,
    );
    expect(three).toHaveLength(3);
  });
});

describe("the in-process cacher", () => {
  let broker: ServiceBroker;

  beforeAll(async () => {
    // The embedded default's cacher whatever this run's CACHER says.
    broker = new ServiceBroker({
      ...brokerOptions({ ...config(), cacher: undefined }),
      transporter: null,
      nodeID: `cache-bounds-${process.pid}`,
      logger: false,
    });
    for (const schema of selectServices(["products"])) broker.createService(schema);
    await broker.start();
  });
  afterAll(() => broker.stop());

  it(`keeps at most ${MEMORY_CACHE_MAX} entries after 2,000 distinct queries, each with a TTL`, async () => {
    expect(broker.cacher).toBeInstanceOf(Cachers.MemoryLRU);
    for (let i = 0; i < 2_000; i++) {
      await broker.call("products.list", { q: `query-${i}` });
    }
    const keys = await listKeys(broker);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThanOrEqual(MEMORY_CACHE_MAX);
    // The newest query is still cached and will expire.
    const lru = (broker.cacher as unknown as { cache: { getRemainingTTL(key: string): number } })
      .cache;
    const newest = keys.find((k) => k.includes("query-1999"));
    expect(newest).toBeDefined();
    const ttl = lru.getRemainingTTL(newest!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(CACHE_TTL_S * 1000);
  });
});
