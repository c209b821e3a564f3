/**
 * SIGTERM to a service process under load: the broker first tells the cluster it takes no more
 * requests, lets in-flight ones finish (context tracking), then stops; the gateway's retries
 * move anything refused to the other replica. Zero requests fail, and the process exits
 * within its grace period.
 */
import { Cluster } from "../helpers/cluster";
import { client } from "../helpers/http";
import { waitFor } from "../helpers/wait";

const GRACE_MS = 15_000; // tracking's shutdownTimeout (10 s) + margin; k8s gives 30 s

describe("graceful shutdown of a service process", () => {
  const cluster = new Cluster({ SEED_DEMO_DATA: "true" });

  beforeAll(async () => {
    await cluster.start("gateway", ["api"]);
    await cluster.start("products-a", ["products"]);
    await cluster.start("products-b", ["products"]);
  });
  afterAll(() => cluster.stopAll());

  it("finishes every request under load while one replica stops", async () => {
    const http = client(cluster.baseUrl("gateway"));
    await waitFor(
      () => http.get("/api/products"),
      (r) => r.status === 200,
      15_000,
      250,
    );
    const ids = (
      await http.get<{ rows: Array<{ id: string }> }>("/api/products?pageSize=12")
    ).body.rows.map((p) => p.id);
    expect(ids.length).toBeGreaterThan(0);

    const statuses = new Map<number, number>();
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 5_000; i++) {
        // Varying query strings defeat the cache, so each request reaches a products process.
        const res = await http.get(
          `/api/products?pageSize=${1 + ((w * 31 + i) % 50)}&page=${1 + (i % 3)}`,
        );
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));

    await new Promise((r) => setTimeout(r, 1500));
    const stoppedAt = Date.now();
    const exitCode = await cluster.stop("products-a");
    const stopMs = Date.now() - stoppedAt;
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await load;

    expect(exitCode).toBe(0);
    expect(stopMs).toBeLessThan(GRACE_MS);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(50);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
  });
});
