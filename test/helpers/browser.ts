/**
 * The browser tests' tools (test/browser/): headless Chromium from the machine (Debian's
 * `chromium` package, or CHROMIUM_PATH; puppeteer-core never downloads one), the shop started
 * as in the other e2e tests, screenshots kept by CI in .ci/state/screenshots/, axe-core run in
 * the page from node_modules, and the pages' JavaScript weighed as the browser receives it.
 * jest.config.js selects test/browser only with BROWSER_TESTS=1 (the CI step sets it).
 */
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startSystem, type TestSystem } from "./system";

const ROOT = path.resolve(__dirname, "../..");
export const WEB_SOURCES = path.join(ROOT, "web");
export const WEB_BUILD = path.join(ROOT, "dist", "web");
export const SCREENSHOTS = path.join(ROOT, ".ci", "state", "screenshots");

export function chromiumPath(): string {
  const file = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (!fs.existsSync(file))
    throw new Error(`no Chromium at ${file}: apt-get install chromium, or set CHROMIUM_PATH`);
  return file;
}

export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI has no user namespace for Chromium's sandbox; /dev/shm is small in containers.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    defaultViewport: { width: 1280, height: 900 },
  });
}

/**
 * The whole shop on the embedded default in this process (every service, NeDB in memory, even
 * when the stack variables are set), its gateway serving the built pages (dist/web: `npm run
 * build` first).
 */
export function startShop(env: Record<string, string | undefined> = {}): Promise<TestSystem> {
  if (!fs.existsSync(path.join(WEB_BUILD, "index.html")))
    throw new Error("dist/web is missing: run npm run build first");
  const embedded = { TRANSPORTER: undefined, CACHER: undefined, MONGO_URI: undefined };
  return startSystem(null, { ...embedded, DATA_DIR: ":memory:", ...env });
}

/** The page's view, kept by CI as .ci/state/screenshots/<name>.png; returns the file. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules).
 * Evaluated through the DevTools protocol, which the pages' CSP (scripts from 'self') allows.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: unknown[] }>;
      }>;
    }
    const results = await axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The pages the build must produce: one per web/*.html (index → `/`, name → `/name`). */
export function webPages(): Array<{ name: string; file: string; route: string }> {
  return fs
    .readdirSync(WEB_SOURCES)
    .filter((file) => file.endsWith(".html"))
    .map((file) => {
      const name = path.basename(file, ".html");
      return { name, file, route: name === "index" ? "/" : `/${name}` };
    });
}

/**
 * The JavaScript a built page loads before it runs: its module scripts and modulepreloads,
 * and every module they import statically, each counted once. Sizes as gzip sends them.
 */
export function pageScripts(htmlFile: string): Array<{ file: string; gzipBytes: number }> {
  const html = fs.readFileSync(path.join(WEB_BUILD, htmlFile), "utf8");
  const queue = [
    ...html.matchAll(/<script[^>]*\bsrc="\/([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/([^"]+\.js)"/g),
  ].map((m) => m[1]);
  const seen = new Map<string, number>();
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    const source = fs.readFileSync(path.join(WEB_BUILD, file));
    seen.set(file, gzipSync(source, { level: 9 }).length);
    for (const m of source
      .toString("utf8")
      .matchAll(/\bimport\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g))
      queue.push(path.posix.join(path.posix.dirname(file), m[1]));
  }
  return [...seen].map(([file, gzipBytes]) => ({ file, gzipBytes }));
}

/** Waits until the page's script has rendered text into the body (the app mounted). */
export async function rendered(page: Page, timeoutMs = 10_000): Promise<void> {
  await page.waitForFunction("document.body.innerText.trim().length > 0", {
    timeout: timeoutMs,
  });
}
