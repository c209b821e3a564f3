/**
 * A users replica that stops answering does not stall the requests whose token check it was
 * sent (services/api.service.ts, RESOLVE_TOKEN_HEDGE_MS): after 1 s without an answer the
 * gateway asks the other replica too, by its node id, and takes the first answer
 * (lib/failover-call.ts). Without the bound
 * a check waits the broker's 10 s request timeout, or until the frozen node misses its
 * heartbeats (9 s), longer than the chaos run's client waits for a whole checkout.
 *
 * The replica is frozen with SIGSTOP rather than killed: its NATS connection stays open, as a
 * killed process's does until the server notices, and nothing restarts it mid-test.
 */
import { Cluster } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { waitFor } from "../helpers/wait";

/** Well above a healthy check on a busy box, well below the 9 s before a silent node is dropped. */
const ANSWER_WITHIN_MS = 7_000;

describe("token checks while a users replica is frozen (stack)", () => {
  const cluster = new Cluster();
  let gw: Client;

  beforeAll(async () => {
    await Promise.all([
      cluster.start("gw", ["api", "notifications"]),
      cluster.start("users1", ["users"]),
      cluster.start("users2", ["users"]),
    ]);
    gw = client(cluster.baseUrl("gw"));
    // Only the services this test runs: the others' routes stay unavailable.
    await waitFor(
      () => gw.get<{ unavailableServices?: string[] }>("/health/ready").catch(() => null),
      (res) =>
        res?.status === 200 &&
        !["users", "notifications"].some((s) => res.body.unavailableServices?.includes(s)),
      30_000,
      200,
    );
    // Both replicas known to the gateway: with one, there is nothing to fail over to.
    await waitFor(
      async () => cluster.output("gw"),
      (log) =>
        ["users1", "users2"].every((n) => log.includes(`'${cluster.namespace}-${n}' connected`)),
      30_000,
      100,
    );
  });
  afterAll(async () => {
    const pid = cluster.pid("users1");
    if (pid && cluster.running("users1")) process.kill(pid, "SIGCONT");
    await cluster.stopAll();
  });

  it("answers every authenticated request through the live replica within seconds", async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await gw.post<{ token: string }>("/api/auth/register", {
        json: {
          email: `frozen-${cluster.namespace}-${i}@example.com`,
          password: "password-123",
          name: `Frozen ${i}`,
        },
      });
      expect(res.status).toBe(201);
      tokens.push(res.body.token);
    }
    // Tokens the gateway has never checked (registration does not), so each request asks users.
    process.kill(cluster.pid("users1")!, "SIGSTOP");
    // Together: round robin sends some of the checks to the frozen replica.
    const answers = await Promise.all(
      tokens.map(async (token) => {
        const started = Date.now();
        const res = await gw.get("/api/notifications", { token, timeoutMs: 30_000 });
        return { status: res.status, ms: Date.now() - started };
      }),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
  });
});
