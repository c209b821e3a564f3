/**
 * The benchmark's two baselines, each run as its own process by bench/run.ts:
 *
 *   node dist/bench/baseline.js raw        a bare node:http server answering a small JSON:
 *                                          the ceiling of this machine for one Node process;
 *   node dist/bench/baseline.js gateway    a bare moleculer-web gateway whose one route calls
 *   node dist/bench/baseline.js echo       a one-line action on another node over NATS: what
 *                                          Moleculer itself costs, with its default options.
 *
 * The echo node also answers `echo.page` (the gateway's `GET /page`): a catalog page of the
 * same shape and size as the shop's `GET /api/products?page=1` on the bench's data set, as a
 * plain object. That is `baseline-mesh-page`: what the bare mesh does with the page the
 * `catalog-hop` scenario carries, where `baseline-mesh` carries 30 bytes.
 *
 * Port, transporter, namespace and node id come from lib/config like every node's.
 */
import http from "node:http";
import { randomUUID } from "node:crypto";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import { config } from "../lib/config";

export const READY = "baseline ready";

const BODY = JSON.stringify({ ok: true, service: "baseline" });

/**
 * Page 1 of the bench's 100 products, as the products service lists them (bench/shop.ts
 * `seed`, newest first, 20 a page): same fields, same lengths of text.
 */
export function benchPage(tag = "bench000000hop", products = 100, pageSize = 20) {
  const at = new Date().toISOString();
  const rows = Array.from({ length: pageSize }, (_, k) => {
    const i = products - 1 - k;
    return {
      id: randomUUID(),
      sku: `${tag}-${String(i).padStart(4, "0")}`,
      name: `Bench product ${i}`,
      description: "A product of the fixed benchmark data set.",
      price: 100 + ((i * 37) % 5000),
      currency: "USD",
      stock: 1_000_000,
      createdAt: at,
      updatedAt: at,
    };
  });
  return { rows, total: products, page: 1, pageSize, totalPages: Math.ceil(products / pageSize) };
}

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
          routes: [
            {
              path: "/",
              mappingPolicy: "restrict",
              aliases: { "GET echo": "echo.hello", "GET page": "echo.page" },
            },
          ],
        },
      });
      await broker.start();
      await broker.waitForServices(["echo"], 30_000);
      break;
    }
    case "echo": {
      const broker = bareBroker();
      const page = benchPage();
      broker.createService({
        name: "echo",
        actions: { hello: () => ({ ok: true, service: "echo" }), page: () => page },
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
