import type { TestSystem } from "../helpers/system";

// The gateway reads its limits when its module loads: set them before importing the system.
process.env.RATE_LIMIT_AUTH_MAX = "2";
process.env.METRICS = "true";

describe("the gateway's Prometheus metrics", () => {
  let sys: TestSystem;
  let port: number;

  beforeAll(async () => {
    const { freePort } = await import("../helpers/cluster");
    const { startSystem } = await import("../helpers/system");
    port = await freePort();
    sys = await startSystem(null, { METRICS_PORT: String(port) });
  });
  afterAll(() => sys.stop());

  const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  it("counts requests refused with 429, and the broker's request metrics", async () => {
    const login = { json: { email: "nobody@example.com", password: "wrong-password" } };
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await sys.http.post("/api/auth/login", login)).status);
    expect(statuses).toEqual([401, 401, 429]);

    const text = await scrape();
    expect(text).toMatch(/^commerce_gateway_rate_limited_total\{route="auth"[^}]*\} 1$/m);
    expect(text).toMatch(/^moleculer_request_total\{[^}]*action="users\.login"[^}]*\} 2$/m);
  });
});
