/**
 * The one place that reads the environment. Services and moleculer.config.ts take their
 * settings from here, so a grep for a variable finds its only reader and its default.
 */
import fs from "node:fs";
import path from "node:path";
import { redactUrl } from "./redact";

export type LogFormat = "text" | "json";

export interface AppConfig {
  env: string;
  isProduction: boolean;
  isTest: boolean;
  namespace: string;
  nodeId: string | undefined;
  /** Which services this process runs; `null` means all of them (the embedded default). */
  services: string[] | null;
  transporter: string | undefined;
  cacher: string | undefined;
  mongoUri: string | undefined;
  /** Directory of the NeDB files; `null` keeps NeDB in memory (unit tests). */
  dataDir: string | null;
  logLevel: string;
  logFormat: LogFormat;
  port: number;
  /** Every node's /health/live and /health/ready (lib/health.ts); a taken one moves on. */
  healthPort: number;
  metrics: { enabled: boolean; port: number };
  tracing: {
    enabled: boolean;
    jaegerEndpoint: string | undefined;
    jaegerHost: string | undefined;
    jaegerPort: number;
    /** TRACING_SAMPLE_RATE: the share of traces recorded, 0 to 1 (1 of every 1/rate requests). */
    sampleRate: number;
  };
  requestTimeoutMs: number;
  auth: {
    /** `undefined` only outside production: the users service then makes one per data dir. */
    jwtSecret: string | undefined;
    jwtIssuer: string;
    jwtExpiresIn: string;
    /** scrypt cost (N); r = 8, p = 1. 2^14 is the interactive-login figure of RFC 7914. */
    scryptCost: number;
    adminEmail: string | undefined;
    adminPassword: string | undefined;
  };
  bodyLimit: string;
  seedDemoData: boolean;
  /**
   * Gateway rate limits per client address and window, shared by every replica through Redis
   * when CACHER names one; `authMax` applies to /api/auth/*. A limit of 0 turns it off.
   */
  rateLimit: { windowMs: number; max: number; authMax: number };
  /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs); empty: the socket address. */
  trustProxy: string[];
  /** Allowed CORS origins; empty disables CORS. `*` allows any origin (without credentials). */
  corsOrigins: string[];
  orders: {
    /** An unpaid order is cancelled (`payment_timeout`) this long after creation. */
    paymentTimeoutMs: number;
    /** How often the sweeper looks for orders whose step deadline passed. */
    sweeperIntervalMs: number;
    /** How long a saga step may take before the sweeper re-emits its event. */
    stepDeadlineMs: number;
  };
  payments: {
    slowMs: number;
    /**
     * PAYMENT_CHARGE_LOG: a file the test provider appends one JSON line to per charge it
     * accepted (services/payments/provider.ts), shared by every process; the stack tests and
     * chaos read it to count charges per order. Unset: no log.
     */
    chargeLog: string | null;
  };
  notifications: {
    /** `smtp://user:pass@host:port` or `smtps://…`; unset: notifications go to the log only. */
    smtpUrl: string | undefined;
    /** The From of every mail; required with SMTP_URL. */
    mailFrom: string | undefined;
    /** Attempts per mail before its delivery is marked failed. */
    maxAttempts: number;
    /** The wait after the first failed attempt; it doubles after each further one. */
    retryBaseMs: number;
    /** Bound of each SMTP step (connect, greeting, each reply); a claim lasts a few of these. */
    sendTimeoutMs: number;
  };
  /** The events outbox of orders and payments (lib/outbox.ts). */
  outbox: {
    /** OUTBOX_GRACE_MS: how old a pending event must be before the periodic pass re-sends it. */
    graceMs: number;
    /**
     * CRASH_AFTER_WRITE: a fault hook of the crash tests. Names an event (`order.confirmed`);
     * the process SIGKILLs itself after the state write that owes it, before the emit.
     * Refused in production.
     */
    crashAfterWrite: string | null;
  };
  /**
   * Fault injection rules (middlewares/faults.ts) active from the start, `;`-separated, each
   * in the REPL's syntax: `payments:order.created error=0.5 latency=200ms`. Empty: none.
   */
  faults: string;
}

/**
 * A setting the process cannot run with. Its message is one line that names the variable and
 * the value (URLs with their password masked, secrets by length only): main.ts prints it and
 * exits non-zero, without a stack.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

function int(value: string | undefined, fallback: number, name: string, max?: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || (max !== undefined && n > max)) {
    const range =
      max === undefined ? "a non-negative integer" : `a non-negative integer up to ${max}`;
    throw new ConfigError(name, `${name}=${value} is not valid: ${name} must be ${range}`);
  }
  return n;
}

/** A share from 0 to 1 (`0.1`), or `fallback` when the variable is unset. */
function fraction(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new ConfigError(
      name,
      `${name}=${value} is not valid: ${name} must be a number from 0 to 1`,
    );
  }
  return n;
}

function port(value: string | undefined, fallback: number, name: string): number {
  return int(value, fallback, name, 65_535);
}

function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
  name: string,
): T {
  if (value === undefined || value === "") return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(
    name,
    `${name}=${value} is not valid: ${name} must be one of ${allowed.join(", ")}`,
  );
}

/** A URL with one of `protocols` (`"nats:"`), or `undefined` when the variable is unset. */
function url(value: string | undefined, protocols: string[], name: string): string | undefined {
  if (!value) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !protocols.includes(parsed.protocol) || !parsed.host) {
    const shapes = protocols.map((p) => `${p}//host:port`).join(" or ");
    throw new ConfigError(
      name,
      `${name}=${redactUrl(value)} is not valid: ${name} must be a ${shapes} URL`,
    );
  }
  return value;
}

/**
 * TRANSPORTER: one `nats://` URL or a comma-separated list of them (a NATS cluster); the
 * login, when there is one, rides on the first.
 */
function natsUrls(value: string | undefined): string | undefined {
  if (!value) return undefined;
  for (const one of value.split(",")) url(one.trim(), ["nats:"], "TRANSPORTER");
  return value;
}

/** A MongoDB connection string: several `host:port`s are allowed, so no WHATWG URL parse. */
function mongoUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/^mongodb(\+srv)?:\/\/([^@/]+@)?[^@/?#]+/.test(value)) return value;
  throw new ConfigError(
    "MONGO_URI",
    `MONGO_URI=${redactUrl(value)} is not valid: MONGO_URI must be a mongodb://host:port/database URL`,
  );
}

/**
 * Reads `.env` of the working directory into the environment, as compose does: a variable
 * already set in the real environment wins over the file. Called by main.ts and repl.ts only.
 * Returns whether a file was read.
 */
export function loadDotEnv(file = ".env"): boolean {
  // The processes the tests start (NODE_ENV=test) never read it: a developer's `.env` (say, the
  // compose settings of .env.example) must not point the test suites at other servers.
  if (process.env.NODE_ENV === "test" || !fs.existsSync(file)) return false;
  try {
    process.loadEnvFile(file);
  } catch (err) {
    throw new ConfigError(
      ".env",
      `${path.resolve(file)} could not be read: ${(err as Error).message}`,
    );
  }
  return true;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  return ["1", "true", "yes", "on"].includes(value.toLowerCase());
}

function list(value: string | undefined): string[] | null {
  if (!value || value.trim() === "" || value.trim() === "*") return null;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The words of the repository's template secrets (k8s/overlays/demo/secret.yaml, .env.example): such a
 * value in production signs tokens anyone can forge. test/unit/deploy-manifests.test.ts checks
 * that every JWT_SECRET the repository ships is caught.
 */
const PLACEHOLDER_SECRET = /replace[-_ ]?me|change[-_ ]?me|dev[-_ ]?only|placeholder|example/i;

function mailConfig(env: NodeJS.ProcessEnv): AppConfig["notifications"] {
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\/[^/]/.test(smtpUrl)) {
    throw new ConfigError(
      "SMTP_URL",
      `SMTP_URL=${redactUrl(smtpUrl)} is not valid: SMTP_URL must be a smtp://user:pass@host:port or smtps://… URL`,
    );
  }
  if (smtpUrl && !env.MAIL_FROM) {
    throw new ConfigError("MAIL_FROM", "MAIL_FROM is empty: it must be set when SMTP_URL is");
  }
  return {
    smtpUrl,
    mailFrom: env.MAIL_FROM || undefined,
    maxAttempts: Math.max(1, int(env.MAIL_MAX_ATTEMPTS, 8, "MAIL_MAX_ATTEMPTS")),
    retryBaseMs: int(env.MAIL_RETRY_BASE_MS, 30_000, "MAIL_RETRY_BASE_MS"),
    sendTimeoutMs: Math.max(100, int(env.MAIL_SEND_TIMEOUT_MS, 15_000, "MAIL_SEND_TIMEOUT_MS")),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const nodeEnv = env.NODE_ENV ?? "development";
  const isTest = nodeEnv === "test";
  const isProduction = nodeEnv === "production";

  // Unit tests keep NeDB in memory unless they ask for files; everything else persists.
  let dataDir: string | null;
  if (env.DATA_DIR === ":memory:") dataDir = null;
  else if (env.DATA_DIR) dataDir = path.resolve(env.DATA_DIR);
  else dataDir = isTest ? null : path.resolve("data");

  if (isProduction && !env.JWT_SECRET) {
    throw new ConfigError(
      "JWT_SECRET",
      "JWT_SECRET must be set when NODE_ENV=production (tokens would not survive a restart): JWT_SECRET is empty, generate one with `openssl rand -hex 32`",
    );
  }
  if (isProduction && env.CRASH_AFTER_WRITE) {
    throw new ConfigError(
      "CRASH_AFTER_WRITE",
      `CRASH_AFTER_WRITE is a test fault hook and must not be set in production (CRASH_AFTER_WRITE=${env.CRASH_AFTER_WRITE})`,
    );
  }
  // The secret itself is never printed, only its length.
  if (env.JWT_SECRET && env.JWT_SECRET.length < 32) {
    throw new ConfigError(
      "JWT_SECRET",
      `JWT_SECRET is ${env.JWT_SECRET.length} characters: it must be at least 32 (\`openssl rand -hex 32\`)`,
    );
  }

  if (isProduction && env.JWT_SECRET && PLACEHOLDER_SECRET.test(env.JWT_SECRET)) {
    throw new ConfigError(
      "JWT_SECRET",
      "JWT_SECRET is a placeholder from the repository's templates: anyone who read them can sign tokens; generate one with `openssl rand -hex 32`",
    );
  }

  return {
    env: nodeEnv,
    isProduction,
    isTest,
    namespace: env.NAMESPACE ?? "",
    nodeId: env.NODE_ID || undefined,
    services: list(env.SERVICES),
    transporter: natsUrls(env.TRANSPORTER),
    cacher: url(env.CACHER, ["redis:"], "CACHER"),
    mongoUri: mongoUrl(env.MONGO_URI),
    dataDir,
    logLevel: oneOf(env.LOGLEVEL, LOG_LEVELS, isTest ? "warn" : "info", "LOGLEVEL"),
    logFormat: oneOf(
      env.LOG_FORMAT,
      ["text", "json"],
      isProduction ? "json" : "text",
      "LOG_FORMAT",
    ),
    port: port(env.PORT, 3000, "PORT"),
    healthPort: port(env.HEALTH_PORT, 3100, "HEALTH_PORT"),
    metrics: {
      enabled: bool(env.METRICS, !isTest),
      port: port(env.METRICS_PORT, 3030, "METRICS_PORT"),
    },
    tracing: {
      enabled: bool(env.TRACING, Boolean(env.JAEGER_ENDPOINT || env.JAEGER_HOST)),
      jaegerEndpoint: url(env.JAEGER_ENDPOINT, ["http:", "https:"], "JAEGER_ENDPOINT"),
      jaegerHost: env.JAEGER_HOST || undefined,
      jaegerPort: port(env.JAEGER_PORT, 6832, "JAEGER_PORT"),
      sampleRate: fraction(env.TRACING_SAMPLE_RATE, 1, "TRACING_SAMPLE_RATE"),
    },
    requestTimeoutMs: int(env.REQUEST_TIMEOUT_MS, 10_000, "REQUEST_TIMEOUT_MS"),
    auth: {
      jwtSecret: env.JWT_SECRET || undefined,
      jwtIssuer: env.JWT_ISSUER ?? "commerce-mesh",
      jwtExpiresIn: env.JWT_EXPIRES_IN ?? "1h",
      scryptCost: int(env.SCRYPT_COST, isTest ? 1024 : 16384, "SCRYPT_COST"),
      adminEmail: env.ADMIN_EMAIL || undefined,
      adminPassword: env.ADMIN_PASSWORD || undefined,
    },
    bodyLimit: env.BODY_LIMIT ?? "100kb",
    seedDemoData: bool(env.SEED_DEMO_DATA, !isTest),
    rateLimit: {
      windowMs: int(env.RATE_LIMIT_WINDOW_MS, 60_000, "RATE_LIMIT_WINDOW_MS"),
      max: int(env.RATE_LIMIT_MAX, 600, "RATE_LIMIT_MAX"),
      authMax: int(env.RATE_LIMIT_AUTH_MAX, 20, "RATE_LIMIT_AUTH_MAX"),
    },
    trustProxy: list(env.TRUST_PROXY) ?? [],
    // `list` reads "*" as "no list"; for CORS it means any origin.
    corsOrigins: env.CORS_ORIGINS?.trim() === "*" ? ["*"] : (list(env.CORS_ORIGINS) ?? []),
    orders: {
      paymentTimeoutMs: int(env.ORDER_PAYMENT_TIMEOUT_MS, 15 * 60_000, "ORDER_PAYMENT_TIMEOUT_MS"),
      sweeperIntervalMs: int(env.SWEEPER_INTERVAL_MS, 5_000, "SWEEPER_INTERVAL_MS"),
      stepDeadlineMs: int(env.SAGA_STEP_DEADLINE_MS, 10_000, "SAGA_STEP_DEADLINE_MS"),
    },
    payments: {
      slowMs: int(env.PAYMENT_SLOW_MS, 2_000, "PAYMENT_SLOW_MS"),
      chargeLog: env.PAYMENT_CHARGE_LOG ? path.resolve(env.PAYMENT_CHARGE_LOG) : null,
    },
    notifications: mailConfig(env),
    outbox: {
      graceMs: int(env.OUTBOX_GRACE_MS, 2_000, "OUTBOX_GRACE_MS"),
      crashAfterWrite: env.CRASH_AFTER_WRITE || null,
    },
    faults: env.FAULTS ?? "",
  };
}

/** Offered checkout rates (orders/s) of the capacity scenario, lowest first. */
const DEFAULT_CAPACITY_RATES = [
  "10",
  "20",
  "30",
  "40",
  "60",
  "80",
  "100",
  "120",
  "160",
  "200",
  "250",
];

/** The settings of `npm run bench` and `npm run chaos` (bench/), read here like all others. */
export interface ToolConfig {
  bench: {
    /** Seconds each scenario is measured (warm-up comes on top). */
    durationS: number;
    /** Interleaved rounds of the closed-loop scenarios; the median round is reported. */
    rounds: number;
    /** Concurrent connections of the closed-loop scenarios. */
    connections: number;
    /** Orders per second offered by the open-loop checkout scenario. */
    checkoutRate: number;
    /** The offered rates (orders/s) the capacity scenario tries, in order, each for durationS. */
    capacityRates: number[];
    /** Only these scenarios (comma-separated names); all when unset. */
    only: string[] | null;
    /** Nodes run with `--cpu-prof` (comma-separated names, e.g. `gw,users`); profiles under bench/results/profiles. */
    profile: string[];
  };
  chaos: {
    /** Seconds of faults: half with service processes killed, half with gateways killed. */
    durationS: number;
    /** Milliseconds between two kills. */
    intervalMs: number;
    /** Orders per second offered while the faults run. */
    rate: number;
    /** Seed of the random choice of victims, so a failing run can be replayed. */
    seed: number;
  };
  /** Keep the data (Mongo database, NeDB files) of a run for a post-mortem. */
  keepData: boolean;
  /**
   * CLUSTER_LOG_DIR: where the separate processes of the tests, the bench and chaos leave their
   * output when the cluster stops (`<dir>/<namespace>/<node>.log`); unset: not kept. CI sets it,
   * so a failed stack test can be read afterwards.
   */
  clusterLogDir: string | null;
}

export function loadToolConfig(env: NodeJS.ProcessEnv = process.env): ToolConfig {
  return {
    bench: {
      durationS: int(env.BENCH_DURATION, 10, "BENCH_DURATION"),
      rounds: Math.max(1, int(env.BENCH_ROUNDS, 3, "BENCH_ROUNDS")),
      connections: int(env.BENCH_CONNECTIONS, 32, "BENCH_CONNECTIONS"),
      checkoutRate: int(env.BENCH_CHECKOUT_RATE, 40, "BENCH_CHECKOUT_RATE"),
      capacityRates: (list(env.BENCH_CAPACITY_RATES) ?? DEFAULT_CAPACITY_RATES).map((r) =>
        Math.max(1, int(r, 1, "BENCH_CAPACITY_RATES")),
      ),
      only: list(env.BENCH_ONLY),
      profile: list(env.BENCH_PROFILE) ?? [],
    },
    chaos: {
      durationS: int(env.CHAOS_DURATION, 60, "CHAOS_DURATION"),
      intervalMs: int(env.CHAOS_INTERVAL_MS, 4_000, "CHAOS_INTERVAL_MS"),
      rate: int(env.CHAOS_RATE, 5, "CHAOS_RATE"),
      seed: int(env.CHAOS_SEED, Date.now() % 1_000_000, "CHAOS_SEED"),
    },
    keepData: bool(env.KEEP_DATA, false),
    clusterLogDir: env.CLUSTER_LOG_DIR || null,
  };
}

let current: AppConfig | undefined;

/** The process-wide configuration, read from the environment on first use. */
export function config(): AppConfig {
  current ??= loadConfig();
  return current;
}

/** Tests that change the environment call this so the next `config()` reads it again. */
export function resetConfig(): void {
  current = undefined;
}
