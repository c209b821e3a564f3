/**
 * The benchmark's two baselines, each run as its own process by bench/run.ts:
 *
 *   node dist/bench/baseline.js raw        a bare node:http server answering a small JSON:
 *                                          the ceiling of this machine for one Node process;
 *   node dist/bench/baseline.js gateway    a bare moleculer-web gateway whose one route calls
 *   node dist/bench/baseline.js echo       a one-line action on another node over NATS: what
 *                                          Moleculer itself costs, with its default options.
 *
 * Port, transporter, namespace and node id come from lib/config like every node's.
 */
import http from "node:http";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { config } from "../lib/config";

export const READY = "baseline ready";

const BODY = JSON.stringify({ ok: true, service: "baseline" });

function bareBroker(): ServiceBroker {
  const cfg = config();
  return new ServiceBroker({
    namespace: cfg.namespace,
    nodeID: cfg.nodeId,
    transporter: cfg.transporter ? { type: "NATS", options: { url: cfg.transporter } } : null,
    logger: { type: "Console", options: { level: "warn" } },
  });
}

async function main(mode: string | undefined): Promise<void> {
  const cfg = config();
  switch (mode) {
    case "raw": {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
        res.end(BODY);
      });
      await new Promise<void>((resolve) => server.listen(cfg.port, "127.0.0.1", resolve));
      break;
    }
    case "gateway": {
      const broker = bareBroker();
      broker.createService({
        name: "api",
        mixins: [ApiGateway as unknown as Partial<ServiceSchema>],
        settings: {
          port: cfg.port,
          ip: "127.0.0.1",
          routes: [{ path: "/", mappingPolicy: "restrict", aliases: { "GET echo": "echo.hello" } }],
        },
      });
      await broker.start();
      await broker.waitForServices(["echo"], 30_000);
      break;
    }
    case "echo": {
      const broker = bareBroker();
      broker.createService({
        name: "echo",
        actions: { hello: () => ({ ok: true, service: "echo" }) },
      });
      await broker.start();
      break;
    }
    default:
      throw new Error(`usage: baseline.js raw|gateway|echo (got "${mode ?? ""}")`);
  }
  process.stdout.write(`${READY} (${mode})\n`);
}

if (require.main === module) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error("baseline failed:", err);
    process.exit(1);
  });
}
