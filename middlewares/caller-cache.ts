/**
 * Read-through cache at the caller. moleculer's cacher runs where the action runs: a cached
 * `products.list` called by the gateway still costs a NATS round trip to the products node,
 * which then answers from Redis. When the cacher is shared (Redis), the caller can read the
 * same entry itself and skip the hop; on a miss it calls the action as before, and the callee
 * stores the entry as before.
 *
 * The entry is the callee's own: same key (the cacher's keygen builds it from the params as the
 * action's validator leaves them, on both sides: lib/cache-keys.ts), same TTL, and the callee's writes clean it in Redis before
 * they return. So a read through the caller sees a change as soon as the write has answered,
 * as API.md asks. Measured by `npm run bench` (bench/README.md): catalog-read and the gateway's
 * token check stop crossing NATS on a hit.
 *
 * A caller that will only write the answer out as JSON (the gateway: `callOptions` of its API
 * routes) passes `jsonText: true` in the call's options and gets a hit as the entry's own bytes
 * (a Buffer, with `ctx.meta.$responseType` saying it is JSON): the cacher stored
 * `JSON.stringify(result)`, exactly what moleculer-web would send, so parsing it only to
 * serialise it again is work for nothing (a catalog page is ≈ 5 KB; bench/README.md). A miss
 * answers the callee's object as usual, and no other caller ever sees a Buffer.
 *
 * (Only with the cacher's JSON serializer, the default; another one's entries are not JSON.)
 *
 * A per-process cacher (Memory) is never read this way: another process's writes cannot clean it.
 */
import { NextRoundCoalescer } from "../lib/coalesce";
import {
  Cachers,
  Serializers,
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

/** The call option a caller sets to take a hit as JSON text; see the top of this file. */
export const JSON_TEXT_OPTION = "jsonText";
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
const NULL_TEXT = Buffer.from("null");

type KeyFn = (action: ActionSchema, opts: CacheOptions, ctx: Context) => string;

/**
 * The callee's key for this call. moleculer 0.15 declares `getCacheKey(action: string, …)`, but
 * its code takes the action definition (it reads `action.name` and the keygen options).
 */
function cacheKey(cacher: Cachers.Redis, action: ActionSchema, opts: CacheOptions, ctx: Context) {
  return (cacher.getCacheKey as unknown as KeyFn).call(cacher, action, opts, ctx);
}

/** What the text read needs of moleculer's Redis cacher (public fields its `get` uses too). */
interface RedisCacher {
  client: { getBuffer(key: string): Promise<Buffer | null> };
  prefix: string;
  metrics: { increment(name: string): void };
}

/**
 * The entries' bytes, as the cacher's own `get` reads them (same key, same counters), without
 * the parse (the caller checked that the cacher serialises with JSON). Identical reads share
 * Redis round trips (lib/coalesce.ts): 32 clients reading the catalog's first page cost one GET
 * per round, and none gets an entry read before it arrived. They share the Buffer too, which
 * is only ever written out.
 */
function textReader(cacher: RedisCacher): (key: string) => Promise<Buffer | null> {
  const rounds = new NextRoundCoalescer((key) => cacher.client.getBuffer(cacher.prefix + key));
  return async (key) => {
    cacher.metrics.increment("moleculer.cacher.get.total");
    const { value } = await rounds.join(key);
    // A stored `null` goes to the callee, whose cacher answers it: moleculer-web writes a null
    // answer as an empty body, which the text "null" would not be.
    if (!value || NULL_TEXT.equals(value)) return null;
    cacher.metrics.increment("moleculer.cacher.found.total");
    return value;
  };
}

export function CallerCacheMiddleware(): Middleware {
  /** One text reader per cacher (one per broker), shared by its actions. */
  const readers = new WeakMap<RedisCacher, (key: string) => Promise<Buffer | null>>();
  function textReaderOf(cacher: RedisCacher) {
    let reader = readers.get(cacher);
    if (!reader) readers.set(cacher, (reader = textReader(cacher)));
    return reader;
  }
  return {
    name: "CallerCache",

    remoteAction(this: ServiceBroker, next, action) {
      const cacher = this.cacher;
      if (!action.cache || !(cacher instanceof Cachers.Redis)) return next;
      const opts: CacheOptions = typeof action.cache === "object" ? action.cache : {};
      // A callee that decides per call whether to cache keeps that decision to itself.
      if (opts.enabled === false || typeof opts.enabled === "function") return next;
      const remote = next as Handler;
      // The text is JSON only when the cacher serialises with JSON (its own option, JSON by default).
      const textEntries =
        (cacher as { serializer?: unknown }).serializer instanceof Serializers.JSON;
      const readText = textReaderOf(cacher as unknown as RedisCacher);

      return function callerCache(ctx: Context): Promise<unknown> {
        const meta = ctx.meta as { $cache?: boolean };
        if (meta.$cache === false || (cacher as { connected?: boolean }).connected === false) {
          return remote(ctx);
        }
        const key = cacheKey(cacher, action, opts, ctx);
        const asText =
          textEntries && (ctx.options as Record<string, unknown>)[JSON_TEXT_OPTION] === true;
        let timer: NodeJS.Timeout | undefined;
        const gaveUp = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), READ_TIMEOUT_MS);
        });
        const read = asText ? readText(key) : cacher.get(key);
        return Promise.race([read, gaveUp]).then(
          (hit) => {
            clearTimeout(timer);
            if (hit === null || hit === undefined) return remote(ctx);
            if (asText) (ctx.meta as { $responseType?: string }).$responseType = JSON_CONTENT_TYPE;
            return hit;
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
