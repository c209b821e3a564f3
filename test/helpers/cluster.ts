/**
 * Real separate Node processes over NATS: each node runs `dist/main.js` (built by `npm test`)
 * with its own `SERVICES`, exactly as a container would. A node can be stopped (SIGTERM),
 * killed (SIGKILL) and started again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";

const ROOT = path.resolve(__dirname, "../..");
const MAIN = path.join(ROOT, "dist", "main.js");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface NodeHandle {
  name: string;
  services: string[];
  env: Record<string, string>;
  process: ChildProcess | null;
  output: string[];
  port?: number;
}

export class Cluster {
  readonly namespace = `c${randomBytes(4).toString("hex")}`;
  readonly nodes = new Map<string, NodeHandle>();

  /** Nodes talk over the TRANSPORTER of the environment; without one, each node is alone. */
  constructor(private readonly baseEnv: Record<string, string> = {}) {}

  /** Starts a node (all services when `services` is empty) once its broker logged that it is ready. */
  async start(
    name: string,
    services: string[],
    env: Record<string, string> = {},
  ): Promise<NodeHandle> {
    const existing = this.nodes.get(name);
    const handle: NodeHandle = existing ?? { name, services, env, process: null, output: [] };
    const runsGateway = services.length === 0 || services.includes("api");
    if (!existing && runsGateway) handle.port = await freePort();
    this.nodes.set(name, handle);

    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...this.baseEnv,
        ...handle.env,
        NAMESPACE: this.namespace,
        NODE_ID: `${this.namespace}-${name}`,
        SERVICES: services.join(","),
        PORT: String(handle.port ?? 0),
        LOGLEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    handle.process = child;
    const collect = (chunk: Buffer) => {
      handle.output.push(chunk.toString());
      if (handle.output.length > 2000) handle.output.splice(0, 1000);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`node ${name} did not start within 30 s:\n${handle.output.join("")}`));
      }, 30_000);
      const onData = (chunk: Buffer) => {
        if (chunk.toString().includes("commerce-mesh node")) {
          clearTimeout(timer);
          child.stdout!.off("data", onData);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(
          new Error(`node ${name} exited with ${code} during start:\n${handle.output.join("")}`),
        );
      });
    });
    return handle;
  }

  baseUrl(name: string): string {
    const port = this.nodes.get(name)?.port;
    if (!port) throw new Error(`node ${name} has no gateway`);
    return `http://127.0.0.1:${port}`;
  }

  /** SIGKILL: the process dies at once, mid-request, with nothing flushed. */
  async kill(name: string): Promise<void> {
    await this.signal(name, "SIGKILL");
  }

  /** SIGTERM: the broker's graceful shutdown. Resolves with the exit code. */
  async stop(name: string): Promise<number | null> {
    return this.signal(name, "SIGTERM");
  }

  async restart(name: string): Promise<NodeHandle> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`unknown node ${name}`);
    return this.start(name, node.services);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((n) => this.signal(n, "SIGKILL")));
  }

  private async signal(name: string, sig: NodeJS.Signals): Promise<number | null> {
    const child = this.nodes.get(name)?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return child?.exitCode ?? null;
    return new Promise((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.kill(sig);
    });
  }
}
