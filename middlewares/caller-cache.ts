/**
 * Read-through cache at the caller. moleculer's cacher runs where the action runs: a cached
 * `products.list` called by the gateway still costs a NATS round trip to the products node,
 * which then answers from Redis. When the cacher is shared (Redis), the caller can read the
 * same entry itself and skip the hop; on a miss it calls the action as before, and the callee
 * stores the entry as before.
 *
 * The entry is the callee's own: same key (moleculer's cacher computes it from the raw params,
 * before validation, on both sides), same TTL, and the callee's writes clean it in Redis before
 * they return. So a read through the caller sees a change as soon as the write has answered,
 * as API.md asks. Measured by `npm run bench` (bench/README.md): catalog-read and the gateway's
 * token check stop crossing NATS on a hit.
 *
 * A per-process cacher (Memory) is never read this way: another process's writes cannot clean it.
 */
import {
  Cachers,
  type ActionSchema,
  type Context,
  type Middleware,
  type ServiceBroker,
} from "moleculer";

interface CacheOptions {
  enabled?: boolean | ((ctx: Context) => boolean);
  keys?: string[];
}

type Handler = (ctx: Context) => Promise<unknown>;

/**
 * A cache read slower than this is abandoned for the call itself: the cache is a shortcut,
 * never a dependency. ioredis holds commands while it reconnects, so without a bound a Redis
 * that just died would stall every request (test/stack/rate-limit.test.ts, "Redis gone").
 */
const READ_TIMEOUT_MS = 100;

type KeyFn = (action: ActionSchema, opts: CacheOptions, ctx: Context) => string;

/**
 * The callee's key for this call. moleculer 0.15 declares `getCacheKey(action: string, …)`, but
 * its code takes the action definition (it reads `action.name` and the keygen options).
 */
function cacheKey(cacher: Cachers.Redis, action: ActionSchema, opts: CacheOptions, ctx: Context) {
  return (cacher.getCacheKey as unknown as KeyFn).call(cacher, action, opts, ctx);
}

export function CallerCacheMiddleware(): Middleware {
  return {
    name: "CallerCache",

    remoteAction(this: ServiceBroker, next, action) {
      const cacher = this.cacher;
      if (!action.cache || !(cacher instanceof Cachers.Redis)) return next;
      const opts: CacheOptions = typeof action.cache === "object" ? action.cache : {};
      // A callee that decides per call whether to cache keeps that decision to itself.
      if (opts.enabled === false || typeof opts.enabled === "function") return next;
      const remote = next as Handler;

      return function callerCache(ctx: Context): Promise<unknown> {
        const meta = ctx.meta as { $cache?: boolean };
        if (meta.$cache === false || (cacher as { connected?: boolean }).connected === false) {
          return remote(ctx);
        }
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), READ_TIMEOUT_MS);
        });
        return Promise.race([cacher.get(cacheKey(cacher, action, opts, ctx)), gaveUp]).then(
          (hit) => {
            clearTimeout(timer);
            return hit !== null && hit !== undefined ? hit : remote(ctx);
          },
          () => {
            clearTimeout(timer);
            return remote(ctx);
          },
        );
      } as typeof next;
    },
  };
}
