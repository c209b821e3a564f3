/**
 * Gateway and products in separate processes over NATS. A SIGKILLed products process turns
 * requests into prompt 503s (never a hang), and a restarted one is used again without
 * restarting the gateway.
 */
import { Cluster } from "../helpers/cluster";
import { client } from "../helpers/http";
import { waitFor } from "../helpers/wait";

// A request that reached the dead node waits for its 10 s timeout; its retry may reach the
// dead node again until the registry drops it (9 s without heartbeat, checked every 3 s),
// which rejects the pending call at once. So ~22 s at worst, plus slack for a loaded CI box.
const REQUEST_BOUND_MS = 25_000;
const DETECT_BOUND_MS = 40_000;

describe("a products process that dies and comes back", () => {
  const cluster = new Cluster({ SEED_DEMO_DATA: "true" });

  beforeAll(async () => {
    await cluster.start("gateway", ["api"]);
    await cluster.start("products", ["products"]);
  });
  afterAll(() => cluster.stopAll());

  it("serves the catalog across processes", async () => {
    const http = client(cluster.baseUrl("gateway"));
    await waitFor(
      () => http.get("/api/products"),
      (r) => r.status === 200,
      15_000,
      250,
    );
    const res = await http.get<{ rows: unknown[]; total: number }>("/api/products");
    expect(res.body.total).toBeGreaterThan(0);
  });

  it("answers 503 within a bounded time after SIGKILL, then recovers after a restart", async () => {
    const http = client(cluster.baseUrl("gateway"));
    const page = await http.get<{ rows: Array<{ id: string }> }>("/api/products?pageSize=50");
    const unreadId = page.body.rows[page.body.rows.length - 1].id;
    await cluster.kill("products");
    const killedAt = Date.now();

    let status = 0;
    while (Date.now() - killedAt < DETECT_BOUND_MS) {
      const started = Date.now();
      const res = await http.get("/api/products/any-id", { timeoutMs: REQUEST_BOUND_MS + 5_000 });
      expect(Date.now() - started).toBeLessThan(REQUEST_BOUND_MS);
      status = res.status;
      if (status === 503) {
        expect(res.body).toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE" });
        break;
      }
    }
    expect(status).toBe(503);

    // The gateway stays ready (it can serve every other route) and names the missing service.
    const ready = await http.get<{ unavailableServices: string[] }>("/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.unavailableServices).toContain("products");

    await cluster.restart("products");
    // Calls the cache cannot answer: an unknown id (errors are never cached) and a product not
    // read before (its id comes from a page, its own entry was never cached). Only the
    // restarted process can answer them: before it registers they are 503s.
    const unknown = await waitFor(
      () => http.get<{ type: string }>(`/api/products/${"f".repeat(24)}`),
      (r) => r.status !== 503,
      20_000,
      250,
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe("NOT_FOUND");
    const product = await http.get<{ id: string }>(`/api/products/${unreadId}`);
    expect(product.status).toBe(200);
    expect(product.body.id).toBe(unreadId);
  });
});
