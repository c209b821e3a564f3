/**
 * `npm run dev` (dist/dev.js) in a temporary copy of the project: the node comes up, and a
 * change saved to a service's source is rebuilt and served by the reloaded node.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../helpers/cluster";
import { waitFor } from "../helpers/wait";

const ROOT = path.resolve(__dirname, "../..");
const SOURCES = ["contracts", "lib", "mixins", "services", "middlewares", "bench", "dist"];

function copyProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-dev-"));
  for (const file of fs.readdirSync(ROOT)) {
    if (file.endsWith(".ts") || /^(tsconfig.*\.json|package\.json)$/.test(file)) {
      fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    }
  }
  for (const sub of SOURCES) {
    fs.cpSync(path.join(ROOT, sub), path.join(dir, sub), {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}results${path.sep}`),
    });
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

describe("npm run dev", () => {
  const dir = copyProject();
  let output = "";

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reloads the node with a changed service file", async () => {
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), DATA_DIR: ":memory:", LOGLEVEL: "info" };
    const proc = spawn(process.execPath, [path.join(dir, "dist", "dev.js")], { cwd: dir, env });
    const take = (chunk: Buffer) => (output += chunk.toString());
    proc.stdout.on("data", take);
    proc.stderr.on("data", take);
    try {
      const live = () =>
        fetch(`http://127.0.0.1:${port}/health/live`)
          .then((res) => res.text())
          .catch(() => "");
      await waitFor(live, (body) => body === '{"status":"ok"}', 120_000, 250);

      const gateway = path.join(dir, "services", "api.service.ts");
      const source = fs.readFileSync(gateway, "utf8");
      const answer = 'this.sendJson(res, 200, { status: "ok" });';
      expect(source).toContain(answer);
      fs.writeFileSync(
        gateway,
        source.replace(answer, 'this.sendJson(res, 200, { status: "ok, changed" });'),
      );
      await waitFor(live, (body) => body.includes("ok, changed"), 120_000, 250);
      expect(output).toContain("[dev] reloading the node (build succeeded)");
    } finally {
      const exited = new Promise((resolve) => proc.once("exit", resolve));
      proc.kill("SIGTERM");
      await exited;
    }
  }, 300_000);
});
