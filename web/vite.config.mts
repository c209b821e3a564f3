/**
 * The web pages (issue 13): every `web/*.html` is one page (index.html → the storefront at `/`,
 * console.html → the operator console at `/console`), built into dist/web, which the gateway
 * serves (services/api/web-pages.ts). Preact through its preset: JSX, hooks, a small runtime.
 * Nothing is loaded from elsewhere at run time: every script and style is a file of this build.
 */
import fs from "node:fs";
import path from "node:path";
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

const root = import.meta.dirname;

/** Each HTML file beside this config is a page; a page added later needs no change here. */
const pages = Object.fromEntries(
  fs
    .readdirSync(root)
    .filter((file) => file.endsWith(".html"))
    .map((file) => [path.basename(file, ".html"), path.join(root, file)]),
);

export default defineConfig({
  root,
  base: "/",
  plugins: [preact()],
  // The build has no public/ folder: every file it writes is a page or a hashed asset.
  publicDir: false,
  build: {
    outDir: path.join(root, "../dist/web"),
    emptyOutDir: true,
    // An inlined asset would be a data: URL the pages' CSP (self only) refuses.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: { input: pages },
  },
});
