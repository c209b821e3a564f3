/**
 * Starts the system in this test process, configured from the environment exactly as
 * `npm start` is (so in the stack run it uses NATS, Redis and the Mongo-wire database). The
 * gateway listens on a free port.
 *
 * Embedded (no TRANSPORTER): one broker with the chosen services. With a TRANSPORTER, the
 * gateway runs in a broker of its own and the other services in a second one, so every call
 * the gateway makes travels over the real transporter (`preferLocal` would otherwise keep it
 * in one broker). The two brokers get a namespace of their own, so two systems of one test
 * file never answer each other's calls.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { ServiceBroker, type Service } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { config, resetConfig } from "../../lib/config";
import { selectServices } from "../../services";
import { client, type Client } from "./http";

export interface TestSystem {
  /** The broker of the gateway (`api`), or the only broker. */
  broker: ServiceBroker;
  /** Every broker of the system: the gateway's first. */
  brokers: ServiceBroker[];
  /** The running instance of a service, from whichever broker of the system runs it. */
  service(name: string): Service | undefined;
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
  const schemas = selectServices(services);
  const gatewaySchemas = schemas.filter((schema) => schema.name === "api");
  const split = Boolean(cfg.transporter) && gatewaySchemas.length > 0 && schemas.length > 1;
  const id = ++counter;
  const groups = split
    ? [gatewaySchemas, schemas.filter((schema) => schema.name !== "api")]
    : [schemas];
  const namespace = split ? `${cfg.namespace}-s${id}` : cfg.namespace;
  const brokers = groups.map((_, i) => {
    // One metrics port per process: the services' broker takes any free one.
    const metrics = i === 0 ? cfg.metrics : { ...cfg.metrics, port: 0 };
    const role = split ? (i === 0 ? "-gateway" : "-services") : "";
    return new ServiceBroker({
      ...brokerOptions({ ...cfg, namespace, metrics }),
      nodeID: `test-${process.pid}-${id}${role}`,
    });
  });
  groups.forEach((group, i) => group.forEach((schema) => brokers[i].createService(schema)));
  const [broker] = brokers;
  try {
    // The gateway first (its Redis clients connect while the services start), then the
    // services; the gateway then waits until it sees them over the transporter.
    for (const b of brokers) await b.start();
    if (split)
      await broker.waitForServices(
        groups[1].map((schema) => schema.name!),
        30_000,
      );
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
    brokers,
    service: (name) => brokers.map((b) => b.getLocalService(name)).find((svc) => svc !== undefined),
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
      for (const b of brokers) await b.stop();
    },
  };
}
