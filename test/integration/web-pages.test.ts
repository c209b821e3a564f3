/**
 * The gateway serves the built web pages (dist/web, `npm run build` first): the storefront at
 * `/` under a CSP that allows this origin only, revalidated on each visit, with this node's
 * metrics port for the footer's link (the landing page's links moved there); the hashed assets
 * cached for a year; nothing outside the build.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { WEB_CSP, WebPages } from "../../services/api/web-pages";
import { startSystem, type TestSystem } from "../helpers/system";

const BUILD = path.resolve(__dirname, "../../dist/web");

describe("the web pages", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem(["api"], { METRICS: "true", METRICS_PORT: "0" });
  });
  afterAll(() => sys.broker.stop());

  it("serves the storefront at / with its assets, under the pages' CSP", async () => {
    const res = await fetch(`${sys.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(WEB_CSP);
    expect(WEB_CSP).toMatch(/default-src 'self'/);
    expect(WEB_CSP).not.toMatch(/unsafe|\*|https?:/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const html = await res.text();

    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
    for (const asset of assets) {
      const file = await fetch(`${sys.baseUrl}${asset}`);
      expect(file.status).toBe(200);
      expect(file.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(file.headers.get("content-type")).toMatch(
        /^(text\/(javascript|css); charset=utf-8|image\/svg\+xml)$/,
      );
      expect(Buffer.from(await file.arrayBuffer())).toEqual(
        fs.readFileSync(path.join(BUILD, asset)),
      );
    }
  });

  it("writes this node's metrics port into the page, for the footer's metrics link", async () => {
    const html = await (await fetch(`${sys.baseUrl}/`)).text();
    const port = /<meta name="metrics-port" content="(\d+)">/.exec(html)?.[1];
    expect(port).toBeDefined();
    const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("moleculer_");
  });

  it("answers 404 for any file the build did not write", async () => {
    for (const url of ["/assets/missing.js", "/assets/..%2F..%2Fpackage.json", "/index.html"]) {
      const res = await fetch(`${sys.baseUrl}${url}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { type: string }).type).toBe("NOT_FOUND");
    }
  });

  it("has no pages where the build wrote none (tsc alone): the gateway then answers 503", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "web-empty-"));
    try {
      const pages = new WebPages(empty);
      expect(pages.built()).toBe(false);
      expect(pages.page("index", null)).toBeNull();
      expect(new WebPages(BUILD).built()).toBe(true);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });
});
