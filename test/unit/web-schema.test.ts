/**
 * The web pages' typed client reads web/src/shared/schema.d.ts: openapi-typescript's types of
 * the contracts' OpenAPI document (tools/web-schema.mjs writes it during `npm run build`). The
 * committed file must be what the contracts generate now, or the pages compile against routes
 * the gateway no longer has.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildOpenApi } from "../../contracts/openapi";

const ROOT = path.resolve(__dirname, "../..");

describe("web/src/shared/schema.d.ts", () => {
  it("is the types openapi-typescript generates from the contracts' document", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-schema-test-"));
    try {
      const doc = path.join(dir, "openapi.json");
      const out = path.join(dir, "schema.d.ts");
      const document = buildOpenApi({ version: "1.0.0", serverUrl: "http://localhost" });
      fs.writeFileSync(doc, JSON.stringify(document));
      execFileSync(path.join(ROOT, "node_modules/.bin/openapi-typescript"), [doc, "-o", out], {
        stdio: "ignore",
      });
      const committed = fs.readFileSync(path.join(ROOT, "web/src/shared/schema.d.ts"), "utf8");
      // Not a diff of 2,000 lines: the message says what to do.
      const state =
        committed === fs.readFileSync(out, "utf8") ? "current" : "stale: npm run build, commit it";
      expect(state).toBe("current");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
