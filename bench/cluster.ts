/**
 * Real separate Node processes over NATS: each node runs `dist/main.js` (built by `npm test` /
 * `npm run bench`) with its own `SERVICES`, exactly as a container would. A node can be stopped
 * (SIGTERM), killed (SIGKILL) and started again. Used by the stack tests, the benchmark and the
 * chaos run (which is why it lives in bench/, compiled into dist/bench).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { ASYNC_CONTEXT_FRAME_FLAG } from "../middlewares/log-context";
import { loadToolConfig } from "../lib/config";

/**
 * The project root: the nearest directory with a package.json. This file runs from bench/
 * (ts-jest), test/helpers/ (through the re-export) and dist/bench/ (compiled), at different depths.
 */
function projectRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export const ROOT = projectRoot(__dirname);
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
  /** How many times the node was started (restarts + 1). */
  starts: number;
}

export interface StartOptions {
  /** The script to run instead of dist/main.js (the benchmark's baselines). */
  script?: string;
  /** Extra arguments of the script. */
  args?: string[];
  /** Give the node a gateway port even though `services` does not name `api`. */
  gateway?: boolean;
  /** The text of the log line that says the node is ready. */
  readyText?: string;
  /** An executable to run instead of Node (a service in another language), with `args`. */
  command?: string;
  /** Its working directory (default: the project root). */
  cwd?: string;
}

/** Peak resident set size (VmHWM) of a process in bytes, from /proc; `null` elsewhere or when gone. */
export function peakRss(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used, in seconds, from /proc; `null` elsewhere or when gone. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export class Cluster {
  readonly namespace: string;
  readonly nodes = new Map<string, NodeHandle>();
  private readonly options = new Map<string, StartOptions>();

  /**
   * Nodes talk over the TRANSPORTER of the environment; without one, each node is alone.
   * `baseEnv` goes to every node (a node's own `env` wins over it).
   */
  constructor(
    private readonly baseEnv: Record<string, string> = {},
    namespace = `c${randomBytes(4).toString("hex")}`,
  ) {
    this.namespace = namespace;
  }

  /** Starts a node (all services when `services` is empty) once its broker logged that it is ready. */
  async start(
    name: string,
    services: string[],
    env: Record<string, string> = {},
    opts: StartOptions = {},
  ): Promise<NodeHandle> {
    const existing = this.nodes.get(name);
    const handle: NodeHandle = existing ?? {
      name,
      services,
      env,
      process: null,
      output: [],
      starts: 0,
    };
    const runsGateway = opts.gateway || services.length === 0 || services.includes("api");
    if (!existing && runsGateway) handle.port = await freePort();
    if (!existing) this.options.set(name, opts);
    this.nodes.set(name, handle);
    const {
      script = MAIN,
      args = [],
      readyText = "commerce-mesh node",
      command,
      cwd = ROOT,
    } = this.options.get(name)!;

    // Our nodes run as `npm start` and the Dockerfile run them (middlewares/log-context.ts).
    const nodeFlags = script === MAIN ? [ASYNC_CONTEXT_FRAME_FLAG] : [];
    const argv = command ? args : [...nodeFlags, script, ...args];
    const child = spawn(command ?? process.execPath, argv, {
      cwd,
      env: {
        ...process.env,
        // Info level: the ready line and the sweeper's re-drives are logged at info.
        LOGLEVEL: "info",
        ...this.baseEnv,
        ...handle.env,
        NAMESPACE: this.namespace,
        NODE_ID: `${this.namespace}-${name}`,
        SERVICES: services.join(","),
        PORT: String(handle.port ?? 0),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    handle.process = child;
    handle.starts++;
    const collect = (chunk: Buffer) => {
      handle.output.push(chunk.toString());
      if (handle.output.length > 20000) handle.output.splice(0, 10000);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`node ${name} did not start within 30 s:\n${handle.output.join("")}`));
      }, 30_000);
      const onData = (chunk: Buffer) => {
        if (chunk.toString().includes(readyText)) {
          clearTimeout(timer);
          child.stdout!.off("data", onData);
          child.off("exit", onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(
          new Error(`node ${name} exited with ${code} during start:\n${handle.output.join("")}`),
        );
      };
      child.stdout!.on("data", onData);
      child.once("exit", onExit);
    });
    return handle;
  }

  baseUrl(name: string): string {
    const port = this.nodes.get(name)?.port;
    if (!port) throw new Error(`node ${name} has no gateway`);
    return `http://127.0.0.1:${port}`;
  }

  /** What the node has printed (the newest part of it: see `collect`). */
  output(name: string): string {
    return this.nodes.get(name)?.output.join("") ?? "";
  }

  pid(name: string): number | undefined {
    return this.nodes.get(name)?.process?.pid;
  }

  /** Whether the node's process is running (started and not exited). */
  running(name: string): boolean {
    const child = this.nodes.get(name)?.process;
    return Boolean(child && child.exitCode === null && child.signalCode === null);
  }

  /** CPU seconds used by the current processes of every node (see `cpuSeconds`). */
  cpuSeconds(): number {
    return [...this.nodes.keys()].reduce((sum, n) => sum + (cpuSeconds(this.pid(n)) ?? 0), 0);
  }

  /** Peak RSS of the node's current process in bytes (see `peakRss`). */
  peakRss(name: string): number | null {
    return peakRss(this.pid(name));
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

  /** Kills every node; with CLUSTER_LOG_DIR set, keeps their logs under it (see saveLogs). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((n) => this.signal(n, "SIGKILL")));
    const dir = loadToolConfig().clusterLogDir;
    if (dir) this.saveLogs(path.join(dir, this.namespace));
  }

  /** Writes each node's output (what is kept of it) to `<dir>/<node>.log`. */
  saveLogs(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, node] of this.nodes) {
      fs.writeFileSync(path.join(dir, `${name}.log`), node.output.join(""));
    }
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
