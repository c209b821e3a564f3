/**
 * Keeps a cleaned cache clean. moleculer's cacher reads through: get → miss → run the action →
 * set. A write that lands while a miss is running (after the action read the database, before
 * the set) cleans the cache first, and the set then stores what the action read before the
 * write, for the whole TTL: a read that follows the write's answer sees the old value, which
 * API.md rules out. The CI's concurrent checkout test caught it on Redis: the stock sampled
 * during the burst was stored after the last reservation's clean, and the product showed
 * stock 1 after it had sold out.
 *
 * The guard gives every group of keys (the service name: `products` for `products.get:…`) an
 * epoch that each clean moves on before it deletes anything. A miss notes the epochs when it
 * starts and stores its result only if they have not moved; otherwise the next read misses
 * again and reads the database after the write. On Redis the epochs live in Redis (every
 * replica's cleans count; the compare and the set are one Lua script); in memory, in the
 * process. Cost: one MGET per miss, one INCR per clean.
 *
 * Only the path without `lock` is guarded; no action here uses moleculer's cache lock.
 */
import type { Cachers, Context, Logger } from "moleculer";

/** The group a key or a clean pattern belongs to; `*` for a pattern that spans services. */
export function groupOf(keyOrPattern: string): string {
  const dot = keyOrPattern.indexOf(".");
  const head = dot > 0 ? keyOrPattern.slice(0, dot) : "";
  return head === "" || head.includes("*") ? "*" : head;
}

/** The epochs a miss started under: its group's and the `*` group's. */
type Token = [string, string];

interface Epochs {
  /** `null` when the epochs cannot be read (Redis away): the result is then not stored. */
  read(group: string): Promise<Token | null>;
  bump(groups: string[]): Promise<void>;
  /** Runs the store only when the epochs are still `token`. */
  storeIf(group: string, token: Token, key: string, data: unknown, ttl: number | null): void;
}

/** What the guard uses of moleculer's cachers (their own fields; not all are in the types). */
interface CacherInternals {
  opts: { ttl?: number | null; missingResponse?: unknown; prefix?: string };
  logger: Logger;
  set(key: string, data: unknown, ttl?: number): Promise<unknown>;
  clean(match?: string | string[]): Promise<void>;
  middlewareWithoutLock(
    ctx: Context,
    key: string,
    handler: (ctx: Context) => Promise<unknown>,
    opts: { ttl?: number },
  ): Promise<unknown>;
  get(key: string): Promise<unknown>;
  // Redis only
  client?: RedisClient;
  prefix?: string;
  serializer?: { serialize(data: unknown): Buffer };
  metrics?: { increment(name: string): void };
}

interface RedisClient {
  mget(...keys: string[]): Promise<Array<string | null>>;
  multi(): RedisTransaction;
  eval(script: string, numKeys: number, ...args: Array<string | Buffer | number>): Promise<unknown>;
}

const EPOCH_TTL_S = 86_400;

interface RedisTransaction {
  incr(key: string): RedisTransaction;
  expire(key: string, seconds: number): RedisTransaction;
  exec(): Promise<unknown>;
}

/** Stores ARGV[3] at KEYS[3] only while both epochs are what the miss saw. */
const STORE_IF_SCRIPT = `
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] or (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then
  return 0
end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
else
  redis.call('SET', KEYS[3], ARGV[3])
end
return 1`;

function memoryEpochs(cacher: CacherInternals): Epochs {
  const epochs = new Map<string, number>();
  const now = (group: string) => String(epochs.get(group) ?? 0);
  return {
    async read(group) {
      return [now(group), now("*")];
    },
    async bump(groups) {
      for (const g of groups) epochs.set(g, (epochs.get(g) ?? 0) + 1);
    },
    storeIf(group, [mine, all], key, data, ttl) {
      if (now(group) === mine && now("*") === all) void cacher.set(key, data, ttl ?? undefined);
    },
  };
}

function redisEpochs(cacher: CacherInternals): Epochs {
  // Outside the cacher's prefix (`<prefix>-`), so a clean of `**` never deletes an epoch.
  const epochKey = (group: string) => `${cacher.opts.prefix ?? "MOL"}~epoch:${group}`;
  const client = () => cacher.client!;
  return {
    async read(group) {
      try {
        const [mine, all] = await client().mget(epochKey(group), epochKey("*"));
        return [mine ?? "0", all ?? "0"];
      } catch {
        return null;
      }
    },
    async bump(groups) {
      // One round trip. The TTL: a namespace that is gone leaves no key behind for good, and a
      // day is far longer than any read, so an epoch never expires under one that noted it.
      const tx = client().multi();
      for (const g of groups) tx.incr(epochKey(g)).expire(epochKey(g), EPOCH_TTL_S);
      await tx.exec();
    },
    storeIf(group, [mine, all], key, data, ttl) {
      cacher.metrics?.increment("moleculer.cacher.set.total");
      const seconds = ttl ?? cacher.opts.ttl ?? 0;
      client()
        .eval(
          STORE_IF_SCRIPT,
          3,
          epochKey(group),
          epochKey("*"),
          `${cacher.prefix}${key}`,
          mine,
          all,
          cacher.serializer!.serialize(data),
          seconds,
        )
        .catch((err: unknown) => cacher.logger.warn(`Cache store of ${key} failed:`, err));
    },
  };
}

/** Installs the guard on a cacher (Memory or Redis) before the broker starts with it. */
export function guardCleans<T extends Cachers.Memory | Cachers.MemoryLRU | Cachers.Redis>(
  cacher: T,
  kind: "memory" | "redis",
): T {
  const c = cacher as unknown as CacherInternals;
  const epochs = kind === "redis" ? redisEpochs(c) : memoryEpochs(c);
  const clean = c.clean.bind(c);

  c.clean = async (match = "**") => {
    const patterns = Array.isArray(match) ? match : [match];
    try {
      await epochs.bump([...new Set(patterns.map(groupOf))]);
    } catch (err) {
      // Redis away: the delete below fails the same way and says so.
      c.logger.warn("Cache epoch not moved:", err);
    }
    await clean(match);
  };

  c.middlewareWithoutLock = async (ctx, key, handler, opts) => {
    const content = await c.get(key);
    if (content !== c.opts.missingResponse) {
      (ctx as { cachedResult?: boolean }).cachedResult = true;
      return content;
    }
    const group = groupOf(key);
    const token = await epochs.read(group);
    const result = await handler(ctx);
    if (token) epochs.storeIf(group, token, key, result, opts.ttl ?? null);
    return result;
  };
  return cacher;
}
