/**
 * `GET /api/docs`: an API reference page for the OpenAPI document, Swagger UI served from the
 * `swagger-ui-dist` package files (no CDN: it works offline and behind a firewall). The page
 * loads only this gateway's files, so its CSP allows scripts and styles from 'self' alone, plus
 * the inline style attributes Swagger UI sets and `data:` images of its stylesheet.
 */
import fs from "node:fs";
import path from "node:path";

export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>commerce-mesh API reference</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

/** Our initializer, as a file: an inline script would need 'unsafe-inline'. */
const INIT = `window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
});
`;

export interface DocsFile {
  type: string;
  body: string | Buffer;
}

const DIST = path.dirname(require.resolve("swagger-ui-dist/package.json"));

/** The package files the page needs; nothing else of the package is served. */
const PACKAGE_FILES: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const cache = new Map<string, DocsFile>();

/** The page (`name` undefined) or one of its files; `null` for any other name. */
export function docsFile(name?: string): DocsFile | null {
  if (name === undefined) return { type: "text/html; charset=utf-8", body: PAGE };
  if (name === "init.js") return { type: "text/javascript; charset=utf-8", body: INIT };
  const type = PACKAGE_FILES[name];
  if (!type) return null;
  let file = cache.get(name);
  if (!file) {
    file = { type, body: fs.readFileSync(path.join(DIST, name)) };
    cache.set(name, file);
  }
  return file;
}
