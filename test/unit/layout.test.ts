/**
 * The layout the design asks for: contracts/ is the bottom (it imports nothing outside itself),
 * and a service's own folder is private to it: `services/<a>/` (and `services/<a>.service.ts`)
 * are never imported from another service's files. Services talk through contracts/ and the
 * broker.
 */
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** Every module specifier a file names: static and dynamic imports, re-exports, require. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** The service a repo-relative file belongs to: `services/orders/x.ts` → `orders`. */
function serviceOf(file: string): string | null {
  const m = /^services\/([^/]+?)(?:\.service\.ts$|\/)/.exec(file);
  return m ? m[1] : null;
}

/** What breaks the layout in `files` (repo-relative path → source). */
function layoutViolations(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    for (const spec of specifiers(source)) {
      const relative = spec.startsWith(".");
      const target = relative
        ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec))
        : null;
      if (file.startsWith("contracts/") && (target === null || !target.startsWith("contracts/")))
        problems.push(`${file} imports ${spec}: contracts/ imports nothing outside itself`);
      const from = serviceOf(file);
      const to =
        target === null ? null : serviceOf(`${target}${target.endsWith(".ts") ? "" : ".ts"}`);
      if (from !== null && to !== null && from !== to)
        problems.push(`${file} imports ${spec}: services/${to} is private to ${to}`);
    }
  }
  return problems;
}

function sources(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { recursive: true })) {
    const rel = path.posix.join(dir, String(entry).split(path.sep).join("/"));
    if (rel.endsWith(".ts")) files.set(rel, fs.readFileSync(path.join(ROOT, rel), "utf8"));
  }
  return files;
}

describe("the layout", () => {
  it("keeps each service's folder private and contracts/ at the bottom", () => {
    const files = new Map([...sources("services"), ...sources("contracts")]);
    expect(files.size).toBeGreaterThan(20);
    expect(layoutViolations(files)).toEqual([]);
  });

  it("reports a service importing another service's folder or schema", () => {
    const files = new Map([
      ["services/orders.service.ts", 'import type { X } from "./products/reservations";'],
      ["services/orders/checkout.ts", 'import y from "../payments.service";'],
      ["services/api.service.ts", 'import { z } from "./api/openapi";'],
      ["services/orders/sweep.ts", 'const m = await import("../products/catalog");'],
    ]);
    expect(layoutViolations(files)).toEqual([
      "services/orders.service.ts imports ./products/reservations: services/products is private to products",
      "services/orders/checkout.ts imports ../payments.service: services/payments is private to payments",
      "services/orders/sweep.ts imports ../products/catalog: services/products is private to products",
    ]);
  });

  it("reports contracts/ importing a service, lib/ or a package", () => {
    const files = new Map([
      ["contracts/orders.ts", 'import { s } from "./schema";\nimport { x } from "../lib/text";'],
      ["contracts/users.ts", 'import { Service } from "moleculer";'],
    ]);
    expect(layoutViolations(files)).toEqual([
      "contracts/orders.ts imports ../lib/text: contracts/ imports nothing outside itself",
      "contracts/users.ts imports moleculer: contracts/ imports nothing outside itself",
    ]);
  });
});
