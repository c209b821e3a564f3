/**
 * Cache keys from the params as the action will see them. moleculer 0.15 wraps its cacher
 * middleware around its validator (the internal middlewares are registered in the order
 * Validator, Bulkhead, Cacher, and each one wraps the ones before), so its default key is built
 * from the raw params: `?page=01`, `?page=001`, `?page=1` and no `page` at all were four entries
 * of the same page, and a client could grow the cache without bound with harmless variants.
 *
 * This keygen validates a copy of the params with the action's own schema first: converted,
 * defaulted, trimmed and stripped as the handler gets them, one query is one key. The caller
 * cache (middlewares/caller-cache.ts) uses the same cacher's keygen, so the gateway reads the
 * entry the callee stored. Params the schema refuses all get one key that is never stored (the
 * validator inside refuses them before the handler runs), so they cannot add entries either.
 */
import type { ActionSchema, Cachers, Context } from "moleculer";

type Check = (value: unknown, opts: { meta: Context }) => true | unknown[] | Promise<unknown>;

interface KeygenCacher {
  broker: { validator?: { compile(schema: unknown): Check } };
  defaultKeygen(action: ActionSchema, opts: unknown, ctx: unknown): string;
}

/** One compiled check per action schema (a remote action's comes from the registry). */
const checks = new WeakMap<object, Check>();

function checkOf(cacher: KeygenCacher, schema: object): Check | null {
  let check = checks.get(schema);
  if (!check) {
    const validator = cacher.broker.validator;
    if (!validator) return null;
    checks.set(schema, (check = validator.compile(schema)));
  }
  return check;
}

/** The params as the action's validator leaves them; `null` when it refuses them. */
export function normalisedParams(
  cacher: KeygenCacher,
  action: ActionSchema,
  ctx: Context,
): unknown | null {
  const schema = action.params as object | undefined;
  if (!schema || typeof schema !== "object") return ctx.params;
  const check = checkOf(cacher, schema);
  if (!check) return ctx.params;
  // A shallow copy: the validator converts the copy's fields, and what it might do to a nested
  // object it does to the call's own params anyway, with the same schema, when the action runs.
  const params: Record<string, unknown> = { ...(ctx.params as Record<string, unknown>) };
  // Every cached action's schema is synchronous; an async one is not worth a key.
  return check(params, { meta: ctx }) === true ? params : null;
}

function normalisedKeygen(
  this: KeygenCacher,
  action: ActionSchema,
  opts: unknown,
  ctx: Context,
): string {
  const params = normalisedParams(this, action, ctx);
  if (params === null) return `${action.name}:~refused`;
  return this.defaultKeygen(action, opts, { params, meta: ctx.meta, headers: ctx.headers });
}

/** The keygen option of the cachers (moleculer.config.ts). */
export const keygen = normalisedKeygen as unknown as NonNullable<
  NonNullable<ConstructorParameters<typeof Cachers.MemoryLRU>[0]>["keygen"]
>;
