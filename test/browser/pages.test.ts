/**
 * Every page of the build (one per web/*.html: the storefront at `/`, the console at
 * `/console`): built into dist/web, served by the gateway at its route, within the JavaScript
 * budget (100 KB gzipped, all it loads before running), and with no serious or critical axe-core
 * violation as a visitor without an account first sees it. A page missing from the build fails.
 */
import fs from "node:fs";
import path from "node:path";
import type { Browser } from "puppeteer-core";
import type { TestSystem } from "../helpers/system";
import {
  WEB_BUILD,
  axeViolations,
  launchBrowser,
  pageScripts,
  rendered,
  screenshot,
  startShop,
  webPages,
} from "../helpers/browser";

const JS_BUDGET_BYTES = 100 * 1024;
const pages = webPages();

describe("the web pages", () => {
  let sys: TestSystem;
  let browser: Browser;

  beforeAll(async () => {
    sys = await startShop();
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  it("include the storefront and the operator console", () => {
    expect(pages.map((p) => p.name)).toEqual(expect.arrayContaining(["index", "console"]));
  });

  describe.each(pages)("$route ($file)", ({ name, file, route }) => {
    it("is built, and its JavaScript is within 100 KB gzipped", () => {
      expect(fs.existsSync(path.join(WEB_BUILD, file))).toBe(true);
      const scripts = pageScripts(file);
      expect(scripts.length).toBeGreaterThan(0);
      const total = scripts.reduce((sum, s) => sum + s.gzipBytes, 0);
      process.stdout.write(
        `${route}: ${(total / 1024).toFixed(1)} KB of JavaScript gzipped (${scripts.length} file(s))\n`,
      );
      expect(total).toBeLessThanOrEqual(JS_BUDGET_BYTES);
    });

    it("is served at its route and has no serious or critical axe-core violation", async () => {
      const page = await browser.newPage();
      try {
        const errors: string[] = [];
        page.on("pageerror", (err) => errors.push(String(err)));
        const res = await page.goto(`${sys.baseUrl}${route}`);
        expect(res?.status()).toBe(200);
        await rendered(page);
        await screenshot(page, `page-${name}`);
        expect(await axeViolations(page)).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 30_000);
  });
});
