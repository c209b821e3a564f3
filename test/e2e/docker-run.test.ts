/**
 * docs/DEPLOY.md's `docker run` as written, without Docker: the final stage of the Dockerfile
 * read for its ENV, WORKDIR, USER and CMD, the command's `-e` flags read from the page, and the
 * CMD run as a process with exactly that environment, as the image's user (uid 1000 when the
 * test runs as root; else the work dir is made read-only), in a work dir that user cannot write
 * to, as /app is in the image. The one liberty: Docker's `-p 3000:3000` maps a port, here the
 * process listens on a free one (PORT), since the test machine's 3000 may be taken.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../helpers/cluster";
import { client } from "../helpers/http";
import { STACK_LINE } from "../helpers/main-process";
import { waitFor } from "../helpers/wait";

const ROOT = path.resolve(__dirname, "../..");

interface Image {
  env: Record<string, string>;
  user: { uid: number; gid: number };
  cmd: string[];
}

/** The final stage of the Dockerfile: its ENV (one or several with `\` continuations), USER, CMD. */
function finalStage(): Image {
  const text = fs.readFileSync(path.join(ROOT, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
  const stage = text.slice(text.lastIndexOf("\nFROM "));
  const env: Record<string, string> = {};
  for (const line of stage.matchAll(/^ENV (.+)$/gm)) {
    for (const pair of line[1].matchAll(/(\w+)=(\S+)/g)) env[pair[1]] = pair[2];
  }
  const [uid, gid] = /^USER (\d+):(\d+)$/m.exec(stage)!.slice(1).map(Number);
  const cmd = JSON.parse(/^CMD (.+)$/m.exec(stage)![1]) as string[];
  return { env, user: { uid, gid }, cmd };
}

/** The `-e NAME=VALUE` flags of DEPLOY.md's `docker run` line, each value as a shell gives it. */
function documentedEnv(): Record<string, string> {
  const doc = fs.readFileSync(path.join(ROOT, "docs/DEPLOY.md"), "utf8");
  const line = /^docker run .*commerce-mesh:local$/m.exec(doc)![0];
  const env: Record<string, string> = {};
  for (const flag of line.matchAll(/-e (\w+)=("[^"]*"|\S+)/g)) {
    const shell = spawnSync("bash", ["-c", `printf '%s' ${flag[2]}`], { encoding: "utf8" });
    env[flag[1]] = shell.stdout;
  }
  return env;
}

describe("DEPLOY.md's docker run, as the image runs it", () => {
  const image = finalStage();
  // What /app holds in the image, owned by root and not writable by the image's user.
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-image-app-"));
  for (const entry of ["dist", "node_modules", "package.json"]) {
    fs.symlinkSync(path.join(ROOT, entry), path.join(workDir, entry));
  }
  const asRoot = process.getuid?.() === 0;
  // Readable by all, writable by its owner only (root, or nobody when the test is not root).
  fs.chmodSync(workDir, asRoot ? 0o755 : 0o555);
  let child: ChildProcess | null = null;

  afterAll(() => {
    child?.kill("SIGKILL");
    fs.chmodSync(workDir, 0o755);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  function run(extra: Record<string, string>): { output: () => string; exited: Promise<number> } {
    const [command, ...args] = image.cmd;
    expect(command).toBe("node");
    let output = "";
    child = spawn(process.execPath, args, {
      cwd: workDir,
      env: { PATH: process.env.PATH!, HOME: "/tmp", ...image.env, ...extra },
      stdio: ["ignore", "pipe", "pipe"],
      ...(asRoot ? image.user : {}),
    });
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number>((resolve) => child!.once("exit", (code) => resolve(code!)));
    return { output: () => output, exited };
  }

  it("reads a production image with a data dir its user can write and a JWT_SECRET from the page", () => {
    expect(image.env.NODE_ENV).toBe("production");
    expect(image.env.DATA_DIR).toBeDefined();
    expect(documentedEnv().JWT_SECRET).toMatch(/^[0-9a-f]{64}$/);
  });

  it("serves the shop: ready, a customer registers and reads their profile", async () => {
    const port = await freePort();
    const node = run({ ...documentedEnv(), PORT: String(port) });
    const http = client(`http://127.0.0.1:${port}`);
    const ready = await waitFor(
      () => http.get("/health/ready").catch(() => null),
      (r) => r?.status === 200 || /cannot run|failed to start/.test(node.output()),
      60_000,
      200,
    );
    expect({ status: ready?.status, output: ready?.status === 200 ? "" : node.output() }).toEqual({
      status: 200,
      output: "",
    });
    const email = `docker-run-${process.pid}-${Date.now()}@example.com`;
    const registered = await http.post<{ token: string }>("/api/auth/register", {
      json: { email, password: "correct-horse-battery", name: "Docker Run" },
    });
    expect(registered.status).toBe(201);
    const me = await http.get<{ email: string }>("/api/users/me", {
      token: registered.body.token,
    });
    expect(me.body.email).toBe(email);
    expect(node.output()).not.toMatch(/EACCES/);
    child!.kill("SIGTERM");
    expect(await node.exited).toBe(0);
  }, 90_000);

  it("refuses to start without the page's JWT_SECRET, in one line", async () => {
    const node = run({ PORT: String(await freePort()) });
    expect(await node.exited).toBe(1);
    expect(node.output()).toMatch(/^commerce-mesh cannot run: JWT_SECRET must be set/m);
    expect(node.output()).not.toMatch(STACK_LINE);
  });
});
