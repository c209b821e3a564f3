/**
 * Readiness that tells the truth (lib/health.ts), on real `node dist/main.js` processes: a node
 * whose NATS or Mongo is unreachable is not ready, and becomes ready when they come up, on its
 * own HEALTH_PORT (most nodes have no gateway). The NATS server here is this file's own
 * nats-server on a free port, Mongo is reached through this file's TCP relay to the shared
 * server: the shared servers are never stopped. And a gateway keeps serving the routes whose
 * services run while another service is missing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { freePort } from "../helpers/cluster";
import { Relay } from "../helpers/relay";
import { client } from "../helpers/http";
import { MainProcess, STACK_LINE } from "../helpers/main-process";
import { waitFor } from "../helpers/wait";

interface Ready {
  status: string;
  missing?: string[];
  unavailableServices?: string[];
}

const nodes: MainProcess[] = [];
afterAll(() => Promise.all(nodes.map((node) => node.stop())));

function start(env: Record<string, string>): MainProcess {
  const node = new MainProcess({ NAMESPACE: process.env.NAMESPACE!, ...env });
  nodes.push(node);
  return node;
}

/** GET /health/ready on `port` until `accept` takes the answer (a closed port is `null`). */
function readyUntil(port: number, accept: (r: { status: number; body: Ready } | null) => boolean) {
  const http = client(`http://127.0.0.1:${port}`);
  return waitFor(
    () => http.get<Ready>("/health/ready", { timeoutMs: 5_000 }).catch(() => null),
    accept,
    40_000,
    200,
  );
}

class NatsServer {
  private child: ChildProcess | null = null;
  /** `args`: more nats-server flags (a login: `--user`, `--pass`). */
  constructor(
    readonly port: number,
    private readonly args: string[] = [],
  ) {}

  async start(): Promise<void> {
    this.child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(this.port), ...this.args], {
      stdio: "ignore",
    });
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(this.port, "127.0.0.1");
          socket.once("connect", () => resolve(socket.destroy() === socket));
          socket.once("error", () => resolve(false));
        }),
      (up) => up,
      10_000,
      50,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}

describe("a node's readiness", () => {
  it("is 503 while its NATS is unreachable or down, 200 while it is connected", async () => {
    const nats = new NatsServer(await freePort());
    const healthPort = await freePort();
    const url = `nats://127.0.0.1:${nats.port}`;
    try {
      start({
        SERVICES: "products",
        TRANSPORTER: url,
        MONGO_URI: process.env.MONGO_URI!,
        HEALTH_PORT: String(healthPort),
      });
      const waiting = await readyUntil(healthPort, (r) => r !== null);
      expect(waiting!.status).toBe(503);
      expect(waiting!.body.missing).toContain(`waiting for transporter ${url}`);

      await nats.start();
      await readyUntil(healthPort, (r) => r?.status === 200);

      // Down after the node was in: moleculer's transit still says connected, readiness must not.
      await nats.stop();
      const down = await readyUntil(healthPort, (r) => r?.status === 503);
      expect(down!.body.missing).toEqual([`transporter ${url} (disconnected)`]);

      await nats.start();
      await readyUntil(healthPort, (r) => r?.status === 200);
    } finally {
      await nats.stop();
    }
  });

  it("hears of NATS going away and back in one line per event, naming its URL with the password masked", async () => {
    const password = "s3cret/pa@ss";
    const nats = new NatsServer(await freePort(), ["--user", "mesh", "--pass", password]);
    const healthPort = await freePort();
    const shown = `nats://mesh:***@127.0.0.1:${nats.port}`;
    try {
      await nats.start();
      const node = start({
        SERVICES: "products",
        TRANSPORTER: `nats://mesh:${encodeURIComponent(password)}@127.0.0.1:${nats.port}`,
        MONGO_URI: process.env.MONGO_URI!,
        HEALTH_PORT: String(healthPort),
      });
      await readyUntil(healthPort, (r) => r?.status === 200);
      const from = node.output.length;

      await nats.stop();
      await node.says(/reconnecting to \S+, attempt 2\b/);
      await nats.start();
      await node.says(/reconnected to /, 40_000);
      await readyUntil(healthPort, (r) => r?.status === 200);

      const lines = node.output.slice(from).split("\n");
      const about = lines.filter((l) => /nats|transport|connect/i.test(l));
      expect(about.filter((l) => l.includes(`${shown} (TRANSPORTER): connection to`))).toHaveLength(
        1,
      );
      expect(about.filter((l) => / reconnected to /.test(l))).toHaveLength(1);
      expect(about.filter((l) => / reconnecting to /.test(l)).length).toBeGreaterThanOrEqual(2);
      for (const line of about) expect(line).toContain(shown);
      expect(node.output).not.toContain(password);
      expect(node.output).not.toContain(encodeURIComponent(password));
      expect(node.output.slice(from)).not.toMatch(STACK_LINE);
    } finally {
      await nats.stop();
    }
  });

  it("is 503 while its database does not answer, 200 once it does", async () => {
    const shared = new URL(process.env.MONGO_URI!);
    const relay = new Relay(await freePort(), {
      host: shared.hostname,
      port: Number(shared.port || 27017),
    });
    const viaRelay = new URL(process.env.MONGO_URI!);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    const healthPort = await freePort();
    try {
      start({
        SERVICES: "products",
        TRANSPORTER: process.env.TRANSPORTER!,
        MONGO_URI: viaRelay.toString(),
        HEALTH_PORT: String(healthPort),
      });
      const waiting = await readyUntil(healthPort, (r) => r !== null);
      expect(waiting!.status).toBe(503);
      expect(waiting!.body.missing).toEqual([
        `waiting for database mongodb://127.0.0.1:${relay.port}${viaRelay.pathname}`,
      ]);

      await relay.open();
      await readyUntil(healthPort, (r) => r?.status === 200);

      // Gone while the node runs: its ping gets no answer.
      await relay.close();
      const down = await readyUntil(healthPort, (r) => r?.status === 503);
      expect(down!.body.missing).toHaveLength(1);
      expect(down!.body.missing![0]).toMatch(
        new RegExp(`^database mongodb://127\\.0\\.0\\.1:${relay.port}/\\S+ \\(.+\\)$`),
      );

      await relay.open();
      await readyUntil(healthPort, (r) => r?.status === 200);
    } finally {
      await relay.close();
    }
  });
});

describe("a gateway while one service is missing", () => {
  it("stays ready and serves the routes whose services run; the missing one's routes are 503", async () => {
    const port = await freePort();
    const common = {
      TRANSPORTER: process.env.TRANSPORTER!,
      MONGO_URI: process.env.MONGO_URI!,
      SEED_DEMO_DATA: "true",
    };
    start({
      ...common,
      SERVICES: "api",
      PORT: String(port),
      HEALTH_PORT: String(await freePort()),
    });
    start({ ...common, SERVICES: "products", HEALTH_PORT: String(await freePort()) });
    const http = client(`http://127.0.0.1:${port}`);

    const products = await waitFor(
      () => http.get<{ rows: unknown[] }>("/api/products").catch(() => null),
      (r) => r?.status === 200,
      40_000,
      200,
    );
    expect(products!.body.rows.length).toBeGreaterThan(0);

    // users never runs here: its routes answer 503 on their own, the gateway stays in.
    const login = await http.post("/api/auth/login", {
      json: { email: "nobody@example.com", password: "whatever-password" },
    });
    expect(login.status).toBe(503);
    expect(login.body).toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE" });

    const ready = await http.get<Ready>("/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe("ok");
    expect(ready.body.unavailableServices).toContain("users");
    expect(ready.body.unavailableServices).not.toContain("products");
  });
});
