/**
 * A password change ends the user's earlier tokens on every gateway replica, within one
 * second (API.md, "Hardening"): two gateway processes over NATS, both holding the token in
 * their memory (services/api/token-cache.ts), and a users service in a third process.
 */
import { Cluster } from "../helpers/cluster";
import { client, type Client } from "../helpers/http";
import { SERVICE_SCHEMAS } from "../../services";
import { waitReady } from "../../bench/shop";

const BOUND_MS = 1000;

describe("token revocation across gateway processes (stack)", () => {
  const cluster = new Cluster();
  let gw1: Client;
  let gw2: Client;

  beforeAll(async () => {
    const services = Object.keys(SERVICE_SCHEMAS).filter((name) => name !== "api");
    await Promise.all([
      cluster.start("services", services),
      cluster.start("gw1", ["api"]),
      cluster.start("gw2", ["api"]),
    ]);
    await Promise.all(["gw1", "gw2"].map((n) => waitReady(cluster.baseUrl(n), 30_000)));
    gw1 = client(cluster.baseUrl("gw1"));
    gw2 = client(cluster.baseUrl("gw2"));
  });
  afterAll(() => cluster.stopAll());

  /** Polls `GET /api/users/me` until it is 401; the time it took, from `since`. */
  async function endedAfter(http: Client, token: string, since: number): Promise<number> {
    for (;;) {
      const status = (await http.get("/api/users/me", { token })).status;
      if (status === 401) return Date.now() - since;
      expect(status).toBe(200);
      if (Date.now() - since > 5 * BOUND_MS) return Date.now() - since;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("a password change through one gateway ends the old token on both within one second", async () => {
    const email = `revoke-${process.pid}-${Date.now()}@example.com`;
    const reg = await gw1.post<{ token: string }>("/api/auth/register", {
      json: { email, password: "password-123", name: "Revoked" },
    });
    expect(reg.status).toBe(201);
    const token = reg.body.token;
    // Both gateways verify it and remember it; their memory is what must let go.
    for (const http of [gw1, gw2, gw1, gw2]) {
      expect((await http.get("/api/users/me", { token })).status).toBe(200);
    }

    const changed = await gw1.patch("/api/users/me", {
      token,
      json: { password: "new-password-456", currentPassword: "password-123" },
    });
    expect(changed.status).toBe(200);
    const at = Date.now();
    const [on1, on2] = await Promise.all([endedAfter(gw1, token, at), endedAfter(gw2, token, at)]);
    expect(on1).toBeLessThan(BOUND_MS);
    expect(on2).toBeLessThan(BOUND_MS);

    // The new password's token works on both.
    const login = await gw2.post<{ token: string }>("/api/auth/login", {
      json: { email, password: "new-password-456" },
    });
    expect(login.status).toBe(200);
    for (const http of [gw1, gw2]) {
      expect((await http.get("/api/users/me", { token: login.body.token })).status).toBe(200);
    }
  });
});
