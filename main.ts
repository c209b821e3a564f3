/**
 * Starts one node: a broker configured from the environment with the services `SERVICES` names
 * (all of them when unset). The broker itself handles SIGTERM/SIGINT: with tracking on it lets
 * in-flight requests finish before the services stop.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "./moleculer.config";
import { config } from "./lib/config";
import { redactUrl } from "./lib/redact";
import { selectServices } from "./services";
import { ASYNC_CONTEXT_FRAME_FLAG, asyncContextFrames } from "./middlewares/log-context";

export async function startNode(): Promise<ServiceBroker> {
  const cfg = config();
  const broker = new ServiceBroker(brokerOptions(cfg));
  for (const schema of selectServices(cfg.services)) broker.createService(schema);
  await broker.start();
  const where = cfg.transporter
    ? `transporter ${redactUrl(cfg.transporter)}`
    : "embedded (no transporter)";
  const data = cfg.mongoUri
    ? "MongoDB"
    : cfg.dataDir
      ? `NeDB files in ${cfg.dataDir}`
      : "NeDB in memory";
  broker.logger.info(
    `commerce-mesh node ${broker.nodeID} ready: services [${broker.services.map((s) => s.name).join(", ")}], ${where}, data: ${data}`,
  );
  if (cfg.logFormat === "json" && !asyncContextFrames()) {
    broker.logger.warn(
      `Request ids in the logs cost every promise of this process: start node with ${ASYNC_CONTEXT_FRAME_FLAG} (bench/README.md).`,
    );
  }
  return broker;
}

if (require.main === module) {
  startNode().catch((err: unknown) => {
    console.error("commerce-mesh failed to start:", err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
