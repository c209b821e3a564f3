/**
 * Broker options, from the environment only (through lib/config). The same file serves the
 * embedded default (`npm start`: one process, no transporter) and every cluster split.
 */
import os from "node:os";
import { Cachers, type BrokerOptions, type Errors } from "moleculer";
import { guardCleans } from "./lib/cache-guard";
import { keygen } from "./lib/cache-keys";
import { config, type AppConfig } from "./lib/config";
import { redactUrl } from "./lib/redact";
import { RanActionErrors, shouldRetry } from "./lib/retry";
import { textValidatorOptions } from "./lib/text";
import { StrictValidator } from "./lib/validator";
import { jsonLogFormatter, LogContextMiddleware } from "./middlewares/log-context";
import { FaultsMiddleware, parseRules } from "./middlewares/faults";
import { CallerCacheMiddleware } from "./middlewares/caller-cache";
import { JsonTextMiddleware, JsonTextSerializer } from "./middlewares/json-text";
import { metricsReporter } from "./lib/metrics-reporter";
import { QuietRedisCacher } from "./lib/redis-cacher";
import { RestartedNodeMiddleware } from "./middlewares/restarted-node";
import { DeferredMetricsMiddleware } from "./lib/deferred-metrics";
import { NamedNatsTransporter } from "./lib/nats-transporter";

/** ioredis options from a `redis://[:password@]host[:port][/db]` URL. */
export function redisOptions(url: string): {
  host: string;
  port: number;
  password?: string;
  db: number;
} {
  const u = new URL(url);
  if (u.protocol !== "redis:") throw new Error(`CACHER must be a redis:// URL, got "${url}"`);
  return {
    host: u.hostname || "127.0.0.1",
    port: Number(u.port || 6379),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(u.pathname.replace("/", "") || 0),
  };
}

/**
 * The in-process cacher's bounds. Unbounded, every distinct query kept its answer for good (a
 * client walking `?q=a`, `?q=b`, … grew the heap by the catalog page each time); at most this
 * many entries, the least recently used going first, is about 13 MB of catalog pages.
 */
export const MEMORY_CACHE_MAX = 1000;
/** Seconds an entry lives, in memory as in Redis, even if a clean were lost. */
export const CACHE_TTL_S = 300;

/**
 * The cacher, guarded so that a write's clean is never undone by a read that was running when
 * the write landed (lib/cache-guard.ts), its keys built from validated params (lib/cache-keys.ts).
 */
function cacher(cfg: AppConfig): Cachers.MemoryLRU | Cachers.Redis {
  if (!cfg.cacher) {
    return guardCleans(
      new Cachers.MemoryLRU({ max: MEMORY_CACHE_MAX, ttl: CACHE_TTL_S, keygen }),
      "memory",
    );
  }
  // Keys live under the namespace so two systems sharing one Redis never read each other's.
  return guardCleans(
    new QuietRedisCacher(cfg.cacher, {
      redis: redisOptions(cfg.cacher),
      prefix: `MOL-${cfg.namespace || "default"}`,
      ttl: CACHE_TTL_S,
      keygen,
    }),
    "redis",
  );
}

/**
 * The NATS transporter for `nats://[user:password@]host:port[,nats://…]`, its connection events
 * logged with the URL (lib/nats-transporter.ts). The login goes to the client as `user`/`pass`,
 * percent-decoded: moleculer would hand the URL's raw (still encoded) parts to NATS, and a
 * password with a reserved character would never log in.
 */
function transporterOptions(cfg: AppConfig): BrokerOptions["transporter"] {
  if (!cfg.transporter) return null;
  const urls = cfg.transporter.split(",").map((u) => u.trim());
  if (!urls.every((u) => u.startsWith("nats://"))) {
    throw new Error(`TRANSPORTER must be a nats:// URL, got "${redactUrl(cfg.transporter)}"`);
  }
  const parsed = urls.map((u) => new URL(u));
  const login = parsed.find((u) => u.username || u.password);
  return new NamedNatsTransporter(cfg.transporter, {
    servers: parsed.map((u) => u.host),
    ...(login
      ? { user: decodeURIComponent(login.username), pass: decodeURIComponent(login.password) }
      : {}),
  });
}

/**
 * Whether an error counts against the endpoint that answered it in the circuit breaker: server
 * faults do (injected ones too), 4xx never. Nor does a deliberate "retry shortly" 503
 * (`ServiceUnavailableError`, lib/errors.ts: a busy Idempotency-Key, a busy stock, an order
 * changing meanwhile): it comes from a service that works, and counted, the retries of one busy
 * key opened the circuit to orders.create for everyone (a stack test saw every checkout refused
 * for half a minute). Told by name: it crosses the transporter with it.
 */
export function countsAgainstEndpoint(err: Error): boolean {
  if (err.name === "ServiceUnavailableError") return false;
  const { code } = err as Errors.MoleculerError;
  return code === undefined || code >= 500;
}

export function brokerOptions(cfg: AppConfig = config()): BrokerOptions {
  return {
    namespace: cfg.namespace,
    nodeID: cfg.nodeId ?? `${os.hostname()}-${process.pid}`,
    transporter: transporterOptions(cfg),
    cacher: cacher(cfg),
    // JSON, with a cached answer the gateway only writes out crossing as text: no parse and
    // re-serialise of a catalog page on either side (middlewares/json-text.ts, bench/README.md).
    serializer: new JsonTextSerializer(),

    logger: {
      type: "Console",
      options: {
        level: cfg.logLevel,
        formatter: cfg.logFormat === "json" ? jsonLogFormatter : "short",
        colors: cfg.logFormat !== "json",
        moduleColors: false,
      },
    },

    // 10 s covers the slowest legitimate call (a checkout with a slow card, 2 s) with margin;
    // past it the caller gets a 503 instead of holding a socket open.
    requestTimeout: cfg.requestTimeoutMs,

    // Only retryable errors are retried, and a call that may already have run (timed out, or
    // its node vanished mid-call) only for reads and idempotent writes (lib/retry.ts), so no
    // order is placed twice. Three tries with backoff span about one heartbeat timeout, long
    // enough for the registry to drop a dead node and pick a live one.
    retryPolicy: {
      enabled: true,
      retries: 2,
      delay: 100,
      maxDelay: 1000,
      factor: 2,
      check: shouldRetry,
    },

    // Heartbeats every 3 s and a node declared dead after 9 s of silence: a SIGKILLed process
    // stops receiving calls within ~10 s instead of moleculer's default 15 s.
    heartbeatInterval: 3,
    heartbeatTimeout: 9,

    // Open the circuit to an endpoint when half its calls fail (over at least 20 calls in a
    // minute) and probe it again after 10 s; only server faults count, never 4xx.
    circuitBreaker: {
      enabled: true,
      threshold: 0.5,
      minRequestCount: 20,
      windowTime: 60,
      halfOpenTime: 10_000,
      check: countsAgainstEndpoint,
    },

    // Each action runs at most 100 at a time per node, 1000 more queued: a burst queues
    // instead of exhausting the database pool, and a flood is refused instead of OOMing.
    bulkhead: { enabled: true, concurrency: 100, maxQueueSize: 1000 },

    // Graceful shutdown: on SIGTERM the broker waits up to 10 s for in-flight requests and
    // events to finish before it stops its services (Kubernetes' grace period is longer).
    tracking: { enabled: true, shutdownTimeout: 10_000 },

    // Round-robin over healthy endpoints, but a local one first: in the embedded default and
    // in co-located splits this skips the transporter entirely.
    registry: { strategy: "RoundRobin", preferLocal: true },

    // fastest-validator plus the `text` and `emailAddress` rules (lengths in characters, emails
    // normalised: lib/text.ts), refusing null (unless nullable) and arrays for scalars
    // (lib/validator.ts).
    validator: new StrictValidator(textValidatorOptions),

    // Fault injection (FAULTS, and the REPL's `faults` command on every node); with no rule
    // active it costs one property read per call.
    middlewares: [
      // Innermost: an error leaving a handler that ran is not retried unless the action is
      // safe to repeat (lib/retry.ts).
      RanActionErrors,
      ...(cfg.logFormat === "json" ? [LogContextMiddleware] : []),
      FaultsMiddleware(parseRules(cfg.faults)),
      // Cached actions called on another node are read from the shared Redis cache first: no
      // transporter round trip on a hit (middlewares/caller-cache.ts, bench/README.md).
      CallerCacheMiddleware(),
      // …and on a miss, or without Redis, the answer crosses the hop as JSON text.
      JsonTextMiddleware,
      // A node back under its node id: the calls its old instance took are rejected at once.
      RestartedNodeMiddleware,
      // moleculer's metric updates applied once a second and before each read: per request
      // they kept Node 22's optimizing compiler busy (lib/deferred-metrics.ts).
      DeferredMetricsMiddleware,
    ],

    metrics: {
      enabled: cfg.metrics.enabled,
      // Prometheus on METRICS_PORT, or the next free port when another node holds it.
      reporter: cfg.metrics.enabled ? metricsReporter(cfg.metrics.port) : undefined,
    },

    tracing: {
      enabled: cfg.tracing.enabled,
      events: true,
      // TRACING_SAMPLE_RATE: every request in development, a share in production (0.1 in the
      // Kubernetes production overlay); a trace's spans on every node follow its first one.
      sampling: { rate: cfg.tracing.sampleRate },
      exporter: cfg.tracing.enabled
        ? {
            type: "Jaeger",
            options: {
              endpoint: cfg.tracing.jaegerEndpoint,
              host: cfg.tracing.jaegerHost ?? "127.0.0.1",
              port: cfg.tracing.jaegerPort,
              sampler: { type: "Const", options: { decision: 1 } },
              defaultTags: { system: "commerce-mesh" },
            },
          }
        : undefined,
    },
  };
}

export default brokerOptions;
