/**
 * What the benchmark and the chaos run share: the environment of a shop cluster started for a
 * run (its own namespace, database and metrics ports), a small JSON client, and the seeding of
 * a fixed data set through the public API.
 */
import { client, type HttpResult, type RequestOptions } from "./http";
import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";
import type { AppConfig } from "../lib/config";
import type { Product } from "../contracts/products";
import type { AuthResult } from "../contracts/users";
import { Cluster, freePort } from "./cluster";

export const ADMIN = { email: "bench-admin@example.com", password: "bench-admin-password" };

export interface RunData {
  /** The per-run database (`MONGO_URI` with its own database name); unset: NeDB. */
  mongoUri: string | undefined;
  /** Drops the run's database (Mongo-wire); NeDB in memory leaves nothing behind. */
  drop(): Promise<void>;
}

/** A database of its own for this run, so runs never see each other's data. */
export function runData(app: AppConfig, tag: string, keep: boolean): RunData {
  if (!app.mongoUri) return { mongoUri: undefined, drop: async () => undefined };
  const url = new URL(app.mongoUri);
  url.pathname = `/cm_${tag}`;
  const mongoUri = url.toString();
  return {
    mongoUri,
    async drop() {
      if (keep) return;
      const client = await MongoClient.connect(mongoUri, { useUnifiedTopology: true });
      try {
        await client.db().dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/**
 * Environment of every node of a run. Production mode (JSON logs, metrics on, the real scrypt
 * cost), rate limits far above what one load generator on one address sends: the limiter still
 * runs on every request, so its cost is measured, but it never refuses the benchmark.
 */
export function clusterEnv(data: RunData, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    NODE_ENV: "production",
    JWT_SECRET: randomBytes(32).toString("hex"),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SEED_DEMO_DATA: "false",
    RATE_LIMIT_MAX: "1000000000",
    RATE_LIMIT_AUTH_MAX: "1000000000",
    METRICS: "true",
    ...extra,
  };
  if (data.mongoUri) env.MONGO_URI = data.mongoUri;
  // Without a Mongo-wire database each process keeps its own NeDB in memory: each service owns
  // its collection, so nothing is shared that would need one store.
  else env.DATA_DIR = ":memory:";
  return env;
}

/** Starts a node with a metrics port of its own (every node of a run shares the host). */
export async function startNode(
  cluster: Cluster,
  name: string,
  services: string[],
  env: Record<string, string> = {},
) {
  return cluster.start(name, services, { METRICS_PORT: String(await freePort()), ...env });
}

export type { HttpResult, RequestOptions } from "./http";

/** One JSON request; a network failure rejects (the caller tells it from an HTTP status). */
export function request<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<HttpResult<T>> {
  return client(baseUrl).request<T>(method, path, opts);
}

async function ok<T>(what: string, p: Promise<HttpResult<T>>, expect = [200, 201]): Promise<T> {
  const res = await p;
  if (!expect.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return res.body;
}

export interface SeededShop {
  adminToken: string;
  products: Array<{ id: string; stock: number }>;
  customers: Array<{ id: string; token: string }>;
}

/** Waits until the gateway is ready (every service it needs is up). */
export async function waitReady(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // The gateway's readiness is its own; the shop is whole once no route's service is missing.
    const res = await request<{ unavailableServices?: string[] }>(
      baseUrl,
      "GET",
      "/health/ready",
    ).catch(() => null);
    if (res?.status === 200 && !res.body.unavailableServices) return;
    if (Date.now() > until) throw new Error(`gateway ${baseUrl} not ready in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The fixed data set: `productCount` products with `stock` each, `customerCount` customers. */
export async function seed(
  baseUrl: string,
  tag: string,
  productCount: number,
  stock: number,
  customerCount: number,
): Promise<SeededShop> {
  const login = await ok(
    "admin login",
    request<AuthResult>(baseUrl, "POST", "/api/auth/login", { json: ADMIN }),
  );
  const products: SeededShop["products"] = [];
  for (let i = 0; i < productCount; i++) {
    const p = await ok(
      "create product",
      request<Product>(baseUrl, "POST", "/api/products", {
        token: login.token,
        json: {
          sku: `${tag}-${String(i).padStart(4, "0")}`,
          name: `Bench product ${i}`,
          description: "A product of the fixed benchmark data set.",
          price: 100 + ((i * 37) % 5000),
          stock,
        },
      }),
    );
    products.push({ id: p.id, stock });
  }
  const customers: SeededShop["customers"] = [];
  for (let i = 0; i < customerCount; i++) {
    const r = await ok(
      "register",
      request<AuthResult>(baseUrl, "POST", "/api/auth/register", {
        json: {
          email: `${tag}-${i}@example.com`,
          password: "bench-password-1",
          name: `Customer ${i}`,
        },
      }),
    );
    customers.push({ id: r.user.id, token: r.token });
  }
  return { adminToken: login.token, products, customers };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

/** Runs a script's `main` and exits with its code; a failure is printed and exits 1. */
export function runScript(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${name} failed:`, err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
