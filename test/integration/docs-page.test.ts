/**
 * `GET /api/docs`: the API reference page, Swagger UI from the package files the gateway
 * serves itself (nothing from a CDN), under a CSP that allows exactly those files.
 */
import { startSystem, type TestSystem } from "../helpers/system";

describe("the API reference page", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem(["api"]);
  });
  afterAll(() => sys.broker.stop());

  it("is HTML that loads only the gateway's own files, allowed by its CSP", async () => {
    const res = await sys.http.get<string>("/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    // Offline: nothing from another origin, no inline script.
    expect(res.body).not.toMatch(/https?:\/\//);
    expect(res.body).not.toMatch(/<script>/);
    const refs = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual([
      "/api/docs/init.js",
      "/api/docs/swagger-ui-bundle.js",
      "/api/docs/swagger-ui.css",
    ]);
  });

  it("serves Swagger UI's bundle and stylesheet from the package, and an initializer for the document", async () => {
    const bundle = await sys.http.get<string>("/api/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(bundle.body.length).toBeGreaterThan(100_000);
    expect(bundle.body).toContain("SwaggerUIBundle");
    const css = await sys.http.get<string>("/api/docs/swagger-ui.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    const init = await sys.http.get<string>("/api/docs/init.js");
    expect(init.body).toContain('url: "/api/openapi.json"');
  });

  it("serves no other file of the package, and keeps the strict CSP elsewhere", async () => {
    for (const name of ["package.json", "index.html", "..%2Fpackage.json", "swagger-ui.js.map"]) {
      const res = await sys.http.get(`/api/docs/${name}`);
      expect([name, res.status]).toEqual([name, 404]);
    }
    const doc = await sys.http.get("/api/openapi.json");
    expect(doc.headers.get("content-security-policy")).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
  });
});
