/**
 * What a node does before its broker starts, so that a wrong or missing dependency reads as one
 * line an attempt instead of a driver's stack traces, and a gateway can say why it is not ready:
 *
 * - each server the environment names (TRANSPORTER, CACHER, MONGO_URI) is reached over TCP
 *   first, retried with backoff (0.5 s doubling to 10 s), one warning per attempt naming the
 *   variable and the URL (password masked); the broker starts once all of them answer;
 * - meanwhile a node with the gateway already holds PORT and answers `/health/live` (200) and
 *   `/health/ready` (503, `waiting for transporter nats://…`), so probes and people see why.
 */
import http from "node:http";
import net from "node:net";
import { ConfigError, type AppConfig } from "./config";
import { redactUrl } from "./redact";

export interface Dependency {
  /** What readiness calls it: `waiting for database mongodb://…`. */
  role: "transporter" | "cache" | "database";
  variable: string;
  url: string;
  host: string;
  port: number;
}

/** One log line in the node's format, before the broker (and its logger) exists. */
export function logLine(cfg: AppConfig, level: "info" | "warn", text: string): void {
  const line =
    cfg.logFormat === "json"
      ? JSON.stringify({ time: new Date().toISOString(), level, msg: text, mod: "startup" })
      : `[${new Date().toISOString().slice(11)}] ${level.toUpperCase().padEnd(5)} STARTUP: ${text}`;
  process.stdout.write(`${line}\n`);
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || "127.0.0.1", port: Number(u.port || defaultPort) };
}

/** The first `host:port` of a connection string (`mongodb://u:p@a:1,b:2/db`). */
function mongoHostPort(uri: string): { host: string; port: number } {
  const hosts = uri
    .replace(/^mongodb:\/\//, "")
    .replace(/^[^@/]*@/, "")
    .split(/[/?]/)[0];
  return hostPort(`tcp://${hosts.split(",")[0]}`, 27017);
}

/** The servers this node needs before it can start, in the order they are waited for. */
export function dependencies(cfg: AppConfig): Dependency[] {
  const deps: Dependency[] = [];
  if (cfg.transporter) {
    const at = hostPort(cfg.transporter, 4222);
    deps.push({ role: "transporter", variable: "TRANSPORTER", url: cfg.transporter, ...at });
  }
  if (cfg.cacher) {
    const at = hostPort(cfg.cacher, 6379);
    deps.push({ role: "cache", variable: "CACHER", url: cfg.cacher, ...at });
  }
  // mongodb+srv:// names a DNS record, not a host: the driver resolves and waits for it.
  if (cfg.mongoUri?.startsWith("mongodb://")) {
    const at = mongoHostPort(cfg.mongoUri);
    deps.push({ role: "database", variable: "MONGO_URI", url: cfg.mongoUri, ...at });
  }
  return deps;
}

export function dependencyName(dep: Dependency): string {
  return `${dep.role} ${redactUrl(dep.url)}`;
}

/** Resolves `null` when `host:port` accepts a connection, else the reason it did not. */
function reach(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer in ${timeoutMs / 1000} s`));
    socket.once("connect", () => done(null));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * Waits until every dependency answers. `waiting` holds what is still awaited (readiness shows
 * it); each failed attempt logs one line.
 */
export async function waitForDependencies(
  cfg: AppConfig,
  waiting: Set<string>,
  deps: Dependency[] = dependencies(cfg),
): Promise<void> {
  for (const dep of deps) waiting.add(dependencyName(dep));
  for (const dep of deps) {
    let delay = FIRST_DELAY_MS;
    for (let attempt = 1; ; attempt++) {
      const reason = await reach(dep.host, dep.port, 2_000);
      if (reason === null) break;
      logLine(
        cfg,
        "warn",
        `waiting for ${dependencyName(dep)} (${dep.variable}): ${reason}; attempt ${attempt}, next in ${delay / 1000} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
    waiting.delete(dependencyName(dep));
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(JSON.stringify(body));
}

/**
 * Holds PORT while the node waits: health answers, every other path is a 503. A taken port is a
 * ConfigError naming PORT. Close it (`release`) just before the broker starts the gateway.
 */
export function holdPort(
  port: number,
  waiting: Set<string>,
): Promise<{ release(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const missing = [...waiting].map((what) => `waiting for ${what}`);
    if (req.url === "/health/live") send(res, 200, { status: "ok" });
    else if (req.url === "/health/ready") send(res, 503, { status: "unavailable", missing });
    else {
      res.setHeader("Retry-After", "5");
      send(res, 503, {
        code: 503,
        type: "SERVICE_UNAVAILABLE",
        message: `Starting: ${missing.join(", ") || "starting services"}`,
      });
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new ConfigError(
              "PORT",
              `PORT=${port} is taken by another process: set PORT to a free port`,
            )
          : err,
      ),
    );
    server.listen(port, "0.0.0.0", () =>
      resolve({
        release: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      }),
    );
  });
}
