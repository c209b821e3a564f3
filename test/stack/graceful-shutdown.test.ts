/**
 * SIGTERM to a service process under load: the broker first tells the cluster it takes no more
 * requests, lets in-flight ones finish (context tracking), then stops; the gateway's retries
 * move anything refused to the other replica. Zero requests fail, none in flight is cut off
 * (only refused ones are retried elsewhere), and the process exits within its grace period.
 */
import { Cluster } from "../helpers/cluster";
import { client } from "../helpers/http";
import { waitFor } from "../helpers/wait";

const GRACE_MS = 15_000; // tracking's shutdownTimeout (10 s) + margin; k8s gives 30 s

// Each list call spends this long in the products process, so a SIGTERM always lands while
// some calls are in flight there.
const IN_FLIGHT_MS = 300;

/** Request ids of the log lines of `node` that match `pattern` (Moleculer logs them). */
function requestIds(cluster: Cluster, node: string, pattern: RegExp): Set<string> {
  const lines = cluster.nodes.get(node)!.output.join("").split("\n");
  const ids = lines
    .filter((line) => pattern.test(line))
    .map((line) => /requestID:? '([^']+)'/.exec(line)?.[1]);
  return new Set(ids.filter((id): id is string => id !== undefined));
}

describe("graceful shutdown of a service process", () => {
  const cluster = new Cluster({
    SEED_DEMO_DATA: "true",
    FAULTS: `products.list latency=${IN_FLIGHT_MS}ms`,
  });

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
    const run = Date.now().toString(36);
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 5_000; i++) {
        // A search text never asked before is a cache miss (q is part of the cache key), so
        // every call reaches a products process: no cached answer can hide a cut-off call.
        const res = await http.get(`/api/products?q=${run}-${w}-${i}`);
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

    // A call cut off by the stop would be retried by the gateway on products-b and still end
    // in a 200, so look at the retries: each must be of a call products-a refused, never of
    // one it had accepted and dropped.
    const retried = requestIds(cluster, "gateway", /Retry to call 'products\.list'/);
    const refused = requestIds(cluster, "products-a", /dropped because broker is stopped/);
    expect([...retried].filter((id) => !refused.has(id))).toEqual([]);
    // Calls were in flight in products-a when it was told to stop, and it waited for them.
    expect(cluster.nodes.get("products-a")!.output.join("")).toMatch(
      /Waiting for \d+ running context/,
    );
  });
});
