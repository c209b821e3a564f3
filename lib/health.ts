/**
 * Whether a node can do its work, for probes (Kubernetes, compose) and people:
 *
 * - live: the process answers. Cheap on purpose: a liveness probe that checks dependencies
 *   restarts every pod when a shared server blinks.
 * - ready: the broker has started and is not stopping, the transporter is connected (when the
 *   node has one) and the database of each local service with a store answers a ping.
 *
 * Every node serves both on its own small HTTP server (HEALTH_PORT, 3100): most nodes have no
 * gateway, and `/metrics` answers 200 while NATS and Mongo are gone. Several nodes on one host
 * each get a port: a taken HEALTH_PORT moves to the next free one (as METRICS_PORT does) with one
 * warning line. A node with the gateway also answers the same on PORT (services/api.service.ts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import { config } from "./config";
import { redactUrl } from "./redact";

export interface Readiness {
  ready: boolean;
  /** What keeps the node from being ready, one phrase each (`transporter nats://… (disconnected)`). */
  missing: string[];
}

/** A database that does not answer a ping within this is not ready. */
export const PING_TIMEOUT_MS = 1_500;
/** How many ports from HEALTH_PORT on are tried before the node runs without a health server. */
export const HEALTH_PORT_TRIES = 10;

interface NatsStatus {
  type: string;
}
interface NatsClient {
  status(): AsyncIterable<NatsStatus>;
}
interface Pingable {
  store?: { ping(): Promise<void> };
}

/**
 * What readiness cannot read off the broker:
 * - moleculer's transit stays `connected` while the NATS client reconnects on its own; the
 *   client's status stream says when the connection is actually down and back;
 * - `broker.started` turns false as `stop()` begins, before `broker.stopping` turns true: a
 *   broker that has started once and is not started now is stopping.
 */
class BrokerWatch {
  private up = false;
  hasStarted = false;
  private readonly watched = new WeakSet<object>();

  constructor(private readonly broker: ServiceBroker) {
    broker.localBus.on("$broker.started", () => (this.hasStarted = true));
    if (broker.started) this.hasStarted = true;
    broker.localBus.on("$transporter.connected", () => this.follow());
    broker.localBus.on("$transporter.disconnected", () => (this.up = false));
    if (broker.transit?.connected) this.follow();
  }

  connected(): boolean {
    return this.up && this.broker.transit?.connected === true;
  }

  private follow(): void {
    this.up = true;
    const client = (this.broker.transit?.tx as { client?: NatsClient } | undefined)?.client;
    if (!client?.status || this.watched.has(client)) return;
    this.watched.add(client);
    void (async () => {
      for await (const status of client.status()) {
        if (status.type === "disconnect") this.up = false;
        else if (status.type === "reconnect") this.up = true;
      }
    })();
  }
}

const watches = new WeakMap<ServiceBroker, BrokerWatch>();

/** Starts following `broker` (idempotent): readiness needs it from before the broker starts. */
export function watchBroker(broker: ServiceBroker): BrokerWatch {
  let watch = watches.get(broker);
  if (!watch) {
    watch = new BrokerWatch(broker);
    watches.set(broker, watch);
  }
  return watch;
}

function withTimeout(task: Promise<void>, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer in ${ms / 1000} s`), ms);
  });
  return Promise.race([task.then(() => null), late])
    .catch((err: unknown) => (err instanceof Error ? err.message : String(err)))
    .finally(() => clearTimeout(timer));
}

/** This node's own readiness: broker, transporter, the databases of its local services. */
export async function nodeReadiness(broker: ServiceBroker): Promise<Readiness> {
  const watch = watchBroker(broker);
  if (broker.stopping || (!broker.started && watch.hasStarted)) {
    return { ready: false, missing: ["node (stopping)"] };
  }
  if (!broker.started) return { ready: false, missing: ["node (starting)"] };
  const cfg = config();
  const missing: string[] = [];
  if (broker.transit && !watch.connected()) {
    missing.push(`transporter ${redactUrl(cfg.transporter ?? "")} (disconnected)`.trim());
  }
  const stores = broker.services.flatMap((s) => (s as Pingable).store ?? []);
  const failures = await Promise.all(stores.map((s) => withTimeout(s.ping(), PING_TIMEOUT_MS)));
  const failure = failures.find((f) => f !== null);
  if (failure) {
    missing.push(`database ${cfg.mongoUri ? redactUrl(cfg.mongoUri) : "NeDB"} (${failure})`);
  }
  return { ready: missing.length === 0, missing };
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
 * The node's health server. Before the broker exists it answers ready 503 with what the node is
 * waiting for (`waiting`, filled by lib/startup.ts); after `attach` it asks `nodeReadiness`.
 */
export class HealthServer {
  private broker: ServiceBroker | null = null;
  private readonly server: http.Server;

  constructor(private readonly waiting: Set<string>) {
    this.server = http.createServer((req, res) => void this.answer(req.url ?? "", res));
  }

  attach(broker: ServiceBroker): void {
    this.broker = broker;
    watchBroker(broker);
  }

  async readiness(): Promise<Readiness> {
    if (this.waiting.size > 0 || !this.broker) {
      const missing = [...this.waiting].map((what) => `waiting for ${what}`);
      return { ready: false, missing: missing.length > 0 ? missing : ["node (starting)"] };
    }
    return nodeReadiness(this.broker);
  }

  private async answer(url: string, res: http.ServerResponse): Promise<void> {
    if (url === "/health/live") return send(res, 200, { status: "ok" });
    if (url !== "/health/ready") return send(res, 404, { status: "not found" });
    const { ready, missing } = await this.readiness();
    send(res, ready ? 200 : 503, ready ? { status: "ok" } : { status: "unavailable", missing });
  }

  /**
   * Listens on `port` or, when taken, the next free one (warning through `warn`). Resolves with
   * the port, or `null` when none of HEALTH_PORT_TRIES is free (the node runs without probes).
   */
  listen(port: number, warn: (line: string) => void): Promise<number | null> {
    return new Promise((resolve) => {
      let at = port;
      this.server.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE" && port !== 0 && at - port < HEALTH_PORT_TRIES - 1) {
          at += 1;
          this.server.listen(at, "0.0.0.0");
          return;
        }
        warn(
          `HEALTH_PORT ${port}: no free port in ${port}-${at} (${err.code ?? err.message}); this node runs without a health endpoint, set HEALTH_PORT to a free port`,
        );
        resolve(null);
      });
      this.server.once("listening", () => {
        const bound = (this.server.address() as AddressInfo).port;
        if (bound !== port && port !== 0) {
          warn(
            `HEALTH_PORT ${port} is taken: health of this node on port ${bound} instead (set HEALTH_PORT to choose)`,
          );
        }
        resolve(bound);
      });
      this.server.listen(at, "0.0.0.0");
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
