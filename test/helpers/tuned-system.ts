/**
 * The system in this test process with its broker options adjusted by the test: an extra
 * middleware that slows or breaks one step, or the circuit breaker's windows shortened. Every
 * other option is moleculer.config.ts's, read from the environment as `npm start` reads it.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { ServiceBroker, type BrokerOptions, type Middleware, type ServiceSchema } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { config, resetConfig } from "../../lib/config";
import { client, type Client } from "./http";

export interface TunedSystem {
  broker: ServiceBroker;
  http: Client;
  stop(): Promise<void>;
}

let counter = 0;

/** The gateway's port, once the broker started it. */
export function gatewayClient(broker: ServiceBroker): Client {
  const server = (broker.getLocalService("api") as unknown as { server: Server }).server;
  return client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/**
 * Starts `schemas` on one broker. `tune` receives moleculer.config.ts's options and returns the
 * ones to use; `middlewares` are added innermost, next to the project's own.
 */
export async function startTuned(
  schemas: ServiceSchema[],
  opts: {
    tune?: (options: BrokerOptions) => BrokerOptions;
    middlewares?: Middleware[];
    env?: Record<string, string>;
  } = {},
): Promise<TunedSystem> {
  const saved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(opts.env ?? {})) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
  resetConfig();
  const base = brokerOptions(config());
  const options = (opts.tune ?? ((o) => o))({
    ...base,
    nodeID: `tuned-${process.pid}-${++counter}`,
    middlewares: [...(opts.middlewares ?? []), ...(base.middlewares ?? [])],
  });
  const broker = new ServiceBroker(options);
  for (const schema of schemas) broker.createService(schema);
  try {
    await broker.start();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    resetConfig();
  }
  return { broker, http: gatewayClient(broker), stop: () => broker.stop() };
}
