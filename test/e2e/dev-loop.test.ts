/**
 * `npm run dev` (dist/dev.js) in a temporary copy of the project: the node comes up, and a
 * change saved to a service's source is rebuilt and served by the reloaded node; with the REPL
 * (forced by DEV_REPL=1, stdin being a pipe here) the operator commands act on that node, before
 * and after a reload.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../helpers/cluster";
import { ReplProcess } from "../helpers/repl-process";
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

  it("offers the REPL with the operator commands in the running node, and again after a reload", async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      ...{ PORT: String(port), DATA_DIR: ":memory:", LOGLEVEL: "warn", DEV_REPL: "1" },
    };
    const dev = new ReplProcess(env, [process.execPath, [path.join(dir, "dist", "dev.js")]], dir);
    const live = () =>
      fetch(`http://127.0.0.1:${port}/health/live`)
        .then((res) => res.text())
        .catch(() => "");
    try {
      await dev.waitForOutput(/commerce-mesh \$/, 120_000);
      // orders.stuck answers only inside the node: a lone `npm run repl` has no orders service.
      await dev.run("stuck", /No stuck orders\./);
      const services = await dev.run("services", /notifications/);
      expect(services).toMatch(/orders/);

      const gateway = path.join(dir, "services", "api.service.ts");
      const source = fs.readFileSync(gateway, "utf8");
      // The first test may have changed this answer already (the copy is shared).
      const answer = /this\.sendJson\(res, 200, \{ status: "[^"]*" \}\);/;
      expect(source).toMatch(answer);
      fs.writeFileSync(
        gateway,
        source.replace(answer, 'this.sendJson(res, 200, { status: "again" });'),
      );
      await dev.waitForOutput(
        /reloading the node \(build succeeded\)[\s\S]*commerce-mesh \$/,
        120_000,
      );
      expect(await live()).toContain("again");
      await dev.run("stuck", /No stuck orders\./);

      expect(await dev.quit()).toBe(0);
      expect(dev.output).toContain("[dev] the REPL was closed: stopping");
    } finally {
      await dev.kill();
    }
  }, 300_000);

  it("refuses a DEV_REPL that is not 0 or 1 with one line", async () => {
    const proc = spawn(process.execPath, [path.join(dir, "dist", "dev.js")], {
      cwd: dir,
      env: { ...process.env, DEV_REPL: "yes" },
    });
    let out = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => proc.once("exit", resolve));
    expect(code).toBe(1);
    expect(out).toBe(
      "[dev] cannot run: DEV_REPL=yes must be 0 (no REPL) or 1 (a REPL even without a terminal)\n",
    );
  });
});
