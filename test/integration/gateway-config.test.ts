/**
 * The gateway's configurable limits and CORS. The api service reads its configuration when it
 * is loaded, so the environment is set first and the system is imported afterwards.
 */
import type { TestSystem } from "../helpers/system";

process.env.RATE_LIMIT_MAX = "5";
process.env.RATE_LIMIT_AUTH_MAX = "2";
process.env.RATE_LIMIT_WINDOW_MS = "60000";
process.env.CORS_ORIGINS = "https://shop.example.com";

describe("gateway limits and CORS from the configuration", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    const { startSystem } = await import("../helpers/system");
    sys = await startSystem();
  });
  afterAll(() => sys.stop());

  it("limits /api/auth/* to RATE_LIMIT_AUTH_MAX per window with a 429 the contract describes", async () => {
    const login = () =>
      sys.http.post("/api/auth/login", {
        json: { email: "nobody@example.com", password: "wrong-password" },
      });
    const first = await login();
    expect(first.status).toBe(401);
    expect(first.headers.get("x-rate-limit-limit")).toBe("2");
    expect(first.headers.get("x-rate-limit-remaining")).toBe("1");
    expect((await login()).status).toBe(401);

    const limited = await login();
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      name: "RateLimitedError",
      message: "Too many requests",
      code: 429,
      type: "RATE_LIMITED",
    });
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get("x-rate-limit-remaining")).toBe("0");
    const reset = Number(limited.headers.get("x-rate-limit-reset"));
    expect(reset).toBeGreaterThan(Date.now() / 1000);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
  });

  it("counts the other routes separately, up to RATE_LIMIT_MAX", async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await sys.http.get("/api/products");
      expect([res.status, res.headers.get("x-rate-limit-remaining")]).toEqual([200, String(5 - i)]);
    }
    const limited = await sys.http.get("/api/products");
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 429, type: "RATE_LIMITED" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("ignores X-Forwarded-For when no proxy is trusted: a forged address gets no new quota", async () => {
    const res = await sys.http.get("/api/products", {
      headers: { "x-forwarded-for": "198.51.100.23" },
    });
    expect(res.status).toBe(429);
  });

  it("never limits the health probes", async () => {
    expect((await sys.http.get("/health/live")).status).toBe(200);
    expect((await sys.http.get("/health/ready")).status).toBe(200);
  });

  it("allows the configured origin, exactly", async () => {
    const allowed = await sys.http.get("/health/live", {
      headers: { origin: "https://shop.example.com" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
    expect(allowed.headers.get("access-control-expose-headers")).toContain("Retry-After");

    // moleculer-web's own origin check is a substring test; this one would pass it.
    const lookalike = await sys.http.get("/health/live", {
      headers: { origin: "https://shop.example.co" },
    });
    expect(lookalike.status).toBe(403);
    expect(lookalike.headers.get("access-control-allow-origin")).toBeNull();
    expect(lookalike.body).toMatchObject({ code: 403, type: "FORBIDDEN" });
  });

  it("answers a preflight for an API route with the allowed methods and headers", async () => {
    const res = await sys.http.request("OPTIONS", "/api/products", {
      headers: {
        origin: "https://shop.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(
      "authorization",
    );
  });
});
