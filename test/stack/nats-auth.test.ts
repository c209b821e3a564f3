/**
 * NATS with a login is the mesh's door (docs/DEPLOY.md, "Trust boundary"): a node started
 * without the login is refused by NATS and never seen by the mesh; with it, a node joins and
 * calls cross. A nats-server of its own with authorization, on a free port; real `node
 * dist/main.js` processes (build first). The password has reserved characters, so TRANSPORTER
 * carries it percent-encoded, and no node may print it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { config } from "../../lib/config";
import { Cluster, freePort, ROOT } from "../helpers/cluster";
import { STACK_LINE } from "../helpers/main-process";
import { waitFor } from "../helpers/wait";

const USER = "mesh";
const PASSWORD = "s3cret/with:reserved@chars";

/** Waits until `text` matches the output collected so far. */
function outputMatches(output: string[], text: RegExp, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    async () => output.join(""),
    (all) => text.test(all),
    timeoutMs,
  );
}

function collect(child: ChildProcess): string[] {
  const output: string[] = [];
  child.stdout!.on("data", (c: Buffer) => output.push(c.toString()));
  child.stderr!.on("data", (c: Buffer) => output.push(c.toString()));
  return output;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGKILL");
  });
}

describe("NATS with a login", () => {
  const namespace = process.env.NAMESPACE!;
  let natsServer: ChildProcess;
  let dir: string;
  let port: number;
  let intruder: ChildProcess | undefined;
  let member: ServiceBroker | undefined;
  const cluster = new Cluster(
    // Light nodes: NeDB in memory, no Redis; only the transporter is under test.
    { DATA_DIR: ":memory:", MONGO_URI: "", CACHER: "", METRICS: "false" },
    namespace,
  );

  const url = (login?: string) => `nats://${login ? `${login}@` : ""}127.0.0.1:${port}`;
  const login = `${USER}:${encodeURIComponent(PASSWORD)}`;

  beforeAll(async () => {
    port = await freePort();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nats-auth-"));
    const conf = path.join(dir, "nats.conf");
    fs.writeFileSync(
      conf,
      `port: ${port}\nhost: "127.0.0.1"\nauthorization {\n  user: ${USER}\n  password: "${PASSWORD}"\n}\n`,
    );
    natsServer = spawn("nats-server", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    await outputMatches(collect(natsServer), /Server is ready/);
  });

  afterAll(async () => {
    await member?.stop();
    await stopProcess(intruder);
    await cluster.stopAll();
    await stopProcess(natsServer);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a node without the login, which the mesh never sees, and lets one with it join", async () => {
    // The mesh: a broker in this process with the login.
    member = new ServiceBroker({
      ...brokerOptions({ ...config(), transporter: url(login), cacher: undefined, namespace }),
      nodeID: `${namespace}-member`,
      logger: false,
      metrics: { enabled: false },
    });
    await member.start();

    // A real node without the login: NATS refuses it, and it keeps trying.
    intruder = spawn(process.execPath, [path.join(ROOT, "dist", "main.js")], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOGLEVEL: "info",
        DATA_DIR: ":memory:",
        MONGO_URI: "",
        CACHER: "",
        METRICS: "false",
        TRANSPORTER: url(),
        NAMESPACE: namespace,
        NODE_ID: `${namespace}-intruder`,
        SERVICES: "products",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const intruderOutput = collect(intruder);
    // Each refusal is one line naming the server, retried with backoff (lib/nats-transporter.ts).
    await outputMatches(intruderOutput, /Authorization Violation'?; attempt 2,/);
    const refusals = intruderOutput
      .join("")
      .split("\n")
      .filter((line) => /Authorization Violation/.test(line));
    for (const line of refusals)
      expect(line).toContain(`NATS ${url()} (TRANSPORTER) refused the connection`);
    expect(intruderOutput.join("")).not.toMatch(STACK_LINE);
    expect(intruderOutput.join("")).not.toMatch(/commerce-mesh node .* ready/);

    // A real node with the login joins; by the time the mesh sees it, the intruder has had
    // longer than it needed to be seen, and never was.
    const joined = await cluster.start("products", ["products"], { TRANSPORTER: url(login) });
    await member.waitForServices(["products"], 20_000);
    const nodeIds = member.registry.nodes.toArray().map((n) => n.id);
    expect(nodeIds).toContain(`${namespace}-products`);
    expect(nodeIds).not.toContain(`${namespace}-intruder`);

    // A call crosses NATS to it.
    const page = await member.call<{ page: number; rows: unknown[] }, Record<string, never>>(
      "products.list",
      {},
    );
    expect(page.page).toBe(1);
    expect(Array.isArray(page.rows)).toBe(true);

    // Its log names the transporter without the password.
    const log = joined.output.join("");
    expect(log).toMatch(/ready: .*transporter nats:\/\/mesh:\*\*\*@127\.0\.0\.1/);
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(encodeURIComponent(PASSWORD));
  });
});
