/**
 * The web pages (web/, built by `npm run build` into dist/web): the storefront at `/`, the
 * operator console at `/console`, and their files under `/assets/`. Vite names every asset by
 * its content hash, so an asset never changes under its name and is cached for a year; a page
 * is revalidated on every visit (`no-cache`), so a new build reaches the browser at once.
 * Only the files of the build are served, read once into memory: no path from the request
 * reaches the filesystem.
 */
import fs from "node:fs";
import path from "node:path";

/** The pages load this gateway's files and call its API, and nothing else. */
export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

const PAGE_CACHE = "no-cache";
const ASSET_CACHE = "public, max-age=31536000, immutable";

/** Where the metrics link of the storefront's footer gets its port (the build leaves it empty). */
const METRICS_PORT_META = /<meta name="metrics-port" content=""\s*\/?>/;

export interface WebFile {
  type: string;
  cacheControl: string;
  body: Buffer;
}

/** The folder holding package.json, from here or from dist/ (compiled). */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

export const WEB_DIR = path.join(projectRoot(__dirname), "dist", "web");

export class WebPages {
  private files: Map<string, WebFile> | null = null;

  constructor(private readonly dir = WEB_DIR) {}

  /** `name` is a page (`index`, `console`); null when the build has no such page. */
  page(name: string, metricsPort: number | null): WebFile | null {
    const file = this.read().get(`${name}.html`);
    if (!file) return null;
    const port = metricsPort === null ? "" : String(metricsPort);
    const html = file.body.toString("utf8").replace(METRICS_PORT_META, () => {
      return `<meta name="metrics-port" content="${port}">`;
    });
    return { ...file, body: Buffer.from(html) };
  }

  /** A file of `assets/`; null for any name the build did not write. */
  asset(name: string): WebFile | null {
    return this.read().get(`assets/${name}`) ?? null;
  }

  /** Whether `npm run build` wrote the pages (tsc alone does not). */
  built(): boolean {
    return this.read().size > 0;
  }

  private read(): Map<string, WebFile> {
    if (this.files) return this.files;
    const files = new Map<string, WebFile>();
    const add = (relative: string, cacheControl: string) => {
      const type = TYPES[path.extname(relative)];
      if (!type) return;
      files.set(relative, {
        type,
        cacheControl,
        body: fs.readFileSync(path.join(this.dir, relative)),
      });
    };
    if (fs.existsSync(this.dir)) {
      for (const name of fs.readdirSync(this.dir))
        if (name.endsWith(".html")) add(name, PAGE_CACHE);
      const assets = path.join(this.dir, "assets");
      if (fs.existsSync(assets))
        for (const name of fs.readdirSync(assets)) add(`assets/${name}`, ASSET_CACHE);
      // Only a complete build is kept: a gateway started before `npm run build` finished reads
      // the folder again on the next request.
      if (files.size > 0) this.files = files;
    }
    return files;
  }
}
