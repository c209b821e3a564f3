/**
 * Starts one node: a broker configured from the environment (and `.env`, which the real
 * environment overrides) with the services `SERVICES` names (all of them when unset). The
 * broker itself handles SIGTERM/SIGINT: with tracking on it lets in-flight requests finish
 * before the services stop.
 *
 * Every mistake a newcomer can make before the node runs is one line and a non-zero exit, never
 * a stack: a bad variable (lib/config.ts), a taken PORT. Servers that do not answer yet are
 * waited for with one line per attempt (lib/startup.ts) while the gateway's health says why.
 */
import { ServiceBroker } from "moleculer";
import { config, ConfigError, loadDotEnv, type AppConfig } from "./lib/config";
import { redactUrl } from "./lib/redact";
import { holdPort, logLine, waitForDependencies } from "./lib/startup";
import { HealthServer } from "./lib/health";
import { metricsPort } from "./lib/metrics-reporter";
import { ASYNC_CONTEXT_FRAME_FLAG, asyncContextFrames } from "./middlewares/log-context";

/** Exit code of a node that cannot start (configuration, a taken port). */
export const EXIT_CANNOT_START = 1;

/**
 * moleculer ends the process through `fatal` (moleculer-web's taken port among others) with a
 * stack; here it is the one line that says what to change.
 */
class Node extends ServiceBroker {
  override fatal(message: string, err?: Error, needExit = true): void {
    const portTaken = /^Port (\d+) is already in use/.exec(message);
    const line = portTaken
      ? `PORT=${portTaken[1]} is taken by another process: set PORT to a free port`
      : `${message}${err ? ` ${err.message}` : ""}`;
    process.stderr.write(`commerce-mesh cannot run: ${line}\n`);
    if (needExit) process.exit(EXIT_CANNOT_START);
  }
}

function hasGateway(cfg: AppConfig): boolean {
  return cfg.services === null || cfg.services.includes("api");
}

export async function startNode(): Promise<ServiceBroker> {
  const cfg = config();
  const waiting = new Set<string>();
  // Every node's health answers from the start, saying what it waits for (lib/health.ts); the
  // gateway's port answers the same while the dependencies are awaited.
  const health = new HealthServer(waiting);
  const healthPort = await health.listen(cfg.healthPort, (line) => logLine(cfg, "warn", line));
  const held = hasGateway(cfg) ? await holdPort(cfg.port, waiting) : null;
  await waitForDependencies(cfg, waiting);
  // Loaded only now: the services read the configuration when they are loaded, and it is valid.
  const { brokerOptions } = await import("./moleculer.config");
  const { selectServices } = await import("./services");
  const broker = new Node(brokerOptions(cfg));
  health.attach(broker);
  broker.localBus.once("$broker.stopped", () => void health.close());
  for (const schema of selectServices(cfg.services)) broker.createService(schema);
  if (held && cfg.transporter) {
    // The broker starts its services (the gateway among them) once the transporter has let it
    // in; until then (a NATS refusing our credentials, say) health still answers here.
    const joining = `transporter ${redactUrl(cfg.transporter)}`;
    waiting.add(joining);
    broker.localBus.once("$transporter.connected", () => {
      waiting.delete(joining);
      void held.release();
    });
  } else await held?.release();
  await broker.start();
  await announce(broker, cfg, healthPort);
  if (cfg.logFormat === "json" && !asyncContextFrames()) {
    broker.logger.warn(
      `Request ids in the logs cost every promise of this process: start node with ${ASYNC_CONTEXT_FRAME_FLAG} (bench/README.md).`,
    );
  }
  return broker;
}

interface AdminCounter {
  store?: { count(query: Record<string, unknown>): Promise<number> };
}

/** What runs where, the URLs to open, and whether an admin exists (when users runs here). */
async function announce(
  broker: ServiceBroker,
  cfg: AppConfig,
  healthPort: number | null,
): Promise<void> {
  const where = cfg.transporter
    ? `transporter ${redactUrl(cfg.transporter)}`
    : "embedded (no transporter)";
  const data = cfg.mongoUri
    ? "MongoDB"
    : cfg.dataDir
      ? `NeDB files in ${cfg.dataDir}`
      : "NeDB in memory";
  const log = broker.logger;
  log.info(
    `commerce-mesh node ${broker.nodeID} ready: services [${broker.services.map((s) => s.name).join(", ")}], ${where}, data: ${data}`,
  );
  if (hasGateway(cfg)) {
    const base = `http://localhost:${cfg.port}`;
    log.info(`  shop       ${base}/ (operator console: ${base}/console)`);
    log.info(`  API        ${base}/api (reference: ${base}/api/openapi.json)`);
    log.info(`  health     ${base}/health/ready, ${base}/health/live`);
  }
  log.info(
    `  probes     ${healthPort === null ? "off (HEALTH_PORT)" : `http://localhost:${healthPort}/health/ready, /health/live`}`,
  );
  const metrics = cfg.metrics.enabled ? await metricsPort(broker) : null;
  log.info(
    `  metrics    ${metrics === null ? "off (METRICS, METRICS_PORT)" : `http://localhost:${metrics}/metrics`}`,
  );
  const users = broker.getLocalService("users") as AdminCounter | undefined;
  if (users?.store) {
    const admins = await users.store.count({ roles: "admin" });
    if (admins > 0) log.info(`  admin      ${admins} admin account(s)`);
    else
      log.info(
        "  admin      none yet: every admin route answers 403; set ADMIN_EMAIL and ADMIN_PASSWORD (8+ characters) and restart to create one",
      );
  }
}

if (require.main === module) {
  Promise.resolve()
    .then(() => {
      loadDotEnv();
      return startNode();
    })
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof ConfigError)
        process.stderr.write(`commerce-mesh cannot run: ${message}\n`);
      else process.stderr.write(`commerce-mesh failed to start: ${message}\n`);
      process.exit(EXIT_CANNOT_START);
    });
}
