/**
 * The gateway's rate-limit store, plugged into moleculer-web's `rateLimit.StoreFactory`.
 *
 * moleculer-web's own MemoryStore counts per process, so N gateway replicas would allow N times
 * the limit. With Redis configured (CACHER), every replica counts in the same Redis key through
 * rate-limiter-flexible's atomic increment-with-expiry; without it, a per-process fixed window.
 *
 * Redis being down must not take the API down with it: the Redis client fails commands at once
 * instead of queueing them (no offline queue, short timeouts), and rate-limiter-flexible then
 * answers from its insurance limiter, an in-process window with the same limit. While Redis is
 * away each replica enforces the limit on its own: N times the limit overall, but never unlimited
 * and never a hung or failed request.
 */
import type { ServiceBroker } from "moleculer";
import type { RateLimitSettings, RateLimitStore } from "moleculer-web";
import Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { redisOptions } from "../../moleculer.config";
import { NextRoundCoalescer } from "../../lib/coalesce";

export interface RateLimitStoreOptions {
  /** Separates the limits of different routes (`api`, `auth`) in Redis. */
  name: string;
  /** The system's namespace: two systems sharing one Redis never share counters. */
  namespace: string;
  /** `redis://…` to share the counters between replicas; unset: in-process only. */
  redisUrl: string | undefined;
}

/**
 * moleculer-web creates a store with the route (when the service is created) and never ends it;
 * the gateway connects it when it starts and closes it when it stops, so a gateway that is
 * created but never started (or fails to start) holds no connection.
 */
export interface ManagedRateLimitStore extends RateLimitStore {
  connect(): void;
  close(): void;
}

/**
 * How long a Redis round trip may take before the request is counted in-process instead: a
 * healthy local Redis answers in about a millisecond, and a request should not wait long on a
 * counter.
 */
const REDIS_COMMAND_TIMEOUT_MS = 250;
const REDIS_CONNECT_TIMEOUT_MS = 1000;

function redisClient(url: string, onDown: (err: Error) => void, onUp: () => void): Redis {
  const client = new Redis({
    ...redisOptions(url),
    // Fail a command at once while disconnected instead of holding the request until reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Keep trying to come back, at most every 2 s, for as long as the gateway runs.
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
    lazyConnect: true,
  });
  client.on("error", onDown);
  client.on("ready", onUp);
  return client;
}

/** A `StoreFactory` class for one route's limiter. */
export function rateLimitStore(options: RateLimitStoreOptions): typeof RateLimitStore {
  return class SharedRateLimitStore implements ManagedRateLimitStore {
    /**
     * Unix time (seconds) at which the window of the last counted key ends. moleculer-web reads
     * it right after `inc` for the X-Rate-Limit-Reset header; per key, unlike its MemoryStore's
     * one timer for everybody. Two Redis replies resolved in the same tick can swap it before it
     * is read, so a header may carry another client's window end; the counts are unaffected.
     */
    resetTime = 0;
    private readonly limiter: RateLimiterAbstract;
    private readonly client: Redis | null = null;

    constructor(windowMs: number, opts?: RateLimitSettings, broker?: ServiceBroker) {
      const points = opts?.limit ?? 30;
      // rate-limiter-flexible counts in whole seconds (Redis EXPIRE).
      const duration = Math.max(1, Math.ceil(windowMs / 1000));
      const keyPrefix = `${options.namespace || "default"}:rl:${options.name}`;
      const local = new RateLimiterMemory({ keyPrefix, points, duration });
      if (!options.redisUrl) {
        this.limiter = local;
        return;
      }

      const logger = broker?.getLogger("rate-limit");
      let down = false;
      this.client = redisClient(
        options.redisUrl,
        (err) => {
          if (down) return;
          down = true;
          logger?.warn(
            `Redis for the ${options.name} rate limit is unreachable (${err.message}); limiting per process until it is back.`,
          );
        },
        () => {
          if (!down) return;
          down = false;
          logger?.info(
            `Redis for the ${options.name} rate limit is back; limits are shared again.`,
          );
        },
      );
      this.limiter = new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix,
        points,
        duration,
        // Not connected: go straight to the insurance limiter instead of trying the command.
        rejectIfRedisNotReady: true,
        insuranceLimiter: local,
      });
    }

    /**
     * Requests of a key that arrive while a count of that key is on its way to Redis go together
     * in the next one (lib/coalesce.ts). One client with many connections (a browser, a proxy,
     * the benchmark) then costs one Redis round trip per round of requests instead of one each,
     * and the count stays exact: Redis adds the round's size, and each request gets its own
     * number in it, as if they had been counted one by one (bench/README.md, "rate-limit round
     * trips").
     */
    private readonly rounds = new NextRoundCoalescer<RateLimiterRes>((key, size) =>
      // Over the limit is a rejection carrying the count; anything else is a real failure.
      this.limiter.consume(key, size).catch((rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) return rejection;
        throw rejection;
      }),
    );

    /** Counts one request of `key`; moleculer-web refuses it when the count passes the limit. */
    async inc(key: string): Promise<number> {
      const { value, index, size } = await this.rounds.join(key);
      this.resetTime = Math.ceil((Date.now() + value.msBeforeNext) / 1000);
      return value.consumedPoints - (size - 1 - index);
    }

    connect(): void {
      // A failure is logged by the error listener and retried by the retry strategy; meanwhile
      // the insurance limiter counts.
      this.client?.connect().catch(() => undefined);
    }

    close(): void {
      this.client?.disconnect();
    }
  };
}

export function isManagedStore(store: unknown): store is ManagedRateLimitStore {
  const candidate = store as Partial<ManagedRateLimitStore> | null;
  return typeof candidate?.connect === "function" && typeof candidate.close === "function";
}
