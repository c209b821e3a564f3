/**
 * Starts the system in this test process: one broker with the chosen services, configured from
 * the environment exactly as `npm start` is (so in the stack run it uses NATS, Redis and the
 * Mongo-wire database). The gateway listens on a free port.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { config, resetConfig } from "../../lib/config";
import { selectServices } from "../../services";
import { client, type Client } from "./http";

export interface TestSystem {
  broker: ServiceBroker;
  baseUrl: string;
  http: Client;
  /** Logs in as the admin of ADMIN_EMAIL/ADMIN_PASSWORD and returns the token. */
  adminToken(): Promise<string>;
  /** Registers a fresh customer and returns its token and id. */
  customer(prefix?: string): Promise<{ token: string; id: string; email: string }>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * `env` overrides variables while the system is configured (`undefined` unsets one); the
 * process environment is restored afterwards.
 */
export async function startSystem(
  services: string[] | null = null,
  env: Record<string, string | undefined> = {},
): Promise<TestSystem> {
  const saved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetConfig();
  const cfg = config();
  const broker = new ServiceBroker({
    ...brokerOptions(cfg),
    nodeID: `test-${process.pid}-${++counter}`,
  });
  for (const schema of selectServices(services)) broker.createService(schema);
  try {
    await broker.start();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    resetConfig();
  }

  let baseUrl = "";
  const api = broker.getLocalService("api") as unknown as { server?: Server } | undefined;
  if (api?.server) {
    const { port } = api.server.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  }
  const http = client(baseUrl);

  return {
    broker,
    baseUrl,
    http,
    async adminToken() {
      const res = await http.post<{ token: string }>("/api/auth/login", {
        json: { email: cfg.auth.adminEmail, password: cfg.auth.adminPassword },
      });
      if (res.status !== 200) throw new Error(`admin login failed: ${res.status}`);
      return res.body.token;
    },
    async customer(prefix = "user") {
      const email = `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const res = await http.post<{ token: string; user: { id: string } }>("/api/auth/register", {
        json: { email, password: "password-123", name: prefix },
      });
      if (res.status !== 201)
        throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { token: res.body.token, id: res.body.user.id, email };
    },
    async stop() {
      await broker.stop();
    },
  };
}
