/**
 * `.env` in the working directory is read by `node dist/main.js` (so by `npm start`), and a
 * variable of the real environment wins over the file's. Not under NODE_ENV=test (the test
 * suites' own processes), so these nodes run as development ones.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MainProcess } from "../helpers/main-process";

const DEV = { NODE_ENV: "development" };

describe(".env", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-dotenv-"));
  const nodes: MainProcess[] = [];
  fs.writeFileSync(path.join(dir, ".env"), "LOG_FORMAT=yaml\nNODE_ID=from-dotenv\n");

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is read at start: its mistake is reported like the environment's", async () => {
    const node = new MainProcess({ ...DEV, PORT: "0" }, { cwd: dir });
    nodes.push(node);
    expect(await node.exitWithin(5_000)).not.toBe(0);
    expect(node.output.trim()).toBe(
      "commerce-mesh cannot run: LOG_FORMAT=yaml is not valid: LOG_FORMAT must be one of text, json",
    );
  });

  it("is not read by the test suites' processes (NODE_ENV=test)", async () => {
    const node = new MainProcess({ NODE_ENV: "test", PORT: "0" }, { cwd: dir });
    nodes.push(node);
    expect(await node.says(/commerce-mesh node \S+ ready/)).not.toContain("from-dotenv");
  });

  it("gives way to the real environment, and its other variables still apply", async () => {
    const node = new MainProcess({ ...DEV, PORT: "0", LOG_FORMAT: "json" }, { cwd: dir });
    nodes.push(node);
    const output = await node.says(/commerce-mesh node \S+ ready/);
    const ready = output.split("\n").find((l) => l.includes("commerce-mesh node"))!;
    expect(JSON.parse(ready)).toMatchObject({
      msg: expect.stringContaining("commerce-mesh node from-dotenv ready"),
    });
  });
});
