/**
 * The page at `/`: HTML that links the API reference, health and this node's metrics, under
 * the gateway's Content-Security-Policy and with nothing it would block (no style, script or
 * resource from elsewhere).
 */
import { startSystem, type TestSystem } from "../helpers/system";

describe("the landing page", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem(["api"], { METRICS: "true", METRICS_PORT: "0" });
  });
  afterAll(() => sys.broker.stop());

  it("links the API reference, health and the node's metrics endpoint", async () => {
    const res = await sys.http.get<string>("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    const hrefs = [...res.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(hrefs).toEqual(
      expect.arrayContaining(["/api/docs", "/api/openapi.json", "/health/ready", "/health/live"]),
    );
    for (const href of hrefs.filter((h) => h.startsWith("/"))) {
      expect((await sys.http.get(href)).status).not.toBe(404);
    }
    const metrics = hrefs.find((h) => h.endsWith("/metrics"));
    expect(metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scraped = await fetch(metrics!);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("moleculer_");
    expect(res.body).toContain("docs/OPERATIONS.md");
    // Nothing the policy would block: no style, script, image or stylesheet.
    expect(res.body).not.toMatch(/<(script|style|img|link|iframe)\b|style=|src=/i);
  });
});
