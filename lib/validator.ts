/**
 * The broker's param validator: fastest-validator, plus the two shape rules it does not keep on
 * its own (API.md, "Hardening"), checked before it runs so they hold for every action and event
 * schema without a per-field flag:
 * - `null` is refused unless the rule says `nullable: true` (fastest-validator lets `optional`
 *   fields take null, so `{"price": null}` reached the database);
 * - an array where the rule wants a scalar is refused (`convert: true` turns `[2]` into 2, and
 *   a query string's `a[]=5` into 5), as an object already is.
 */
import { Validators } from "moleculer";

/** Rule types whose value is one scalar; an array or null is never one of them. */
const SCALAR_TYPES = new Set([
  "boolean",
  "currency",
  "date",
  "email",
  "enum",
  "equal",
  "luhn",
  "mac",
  "number",
  "objectID",
  "string",
  "text",
  "emailAddress",
  "url",
  "uuid",
]);

/** A field error in fastest-validator's shape, so toErrorBody reports it like the others. */
export interface ShapeError {
  type: string;
  field: string;
  message: string;
}

interface Rule {
  type: string;
  nullable?: boolean;
  props?: Record<string, unknown>;
  items?: unknown;
}

/** A rule in either form (`"string|min:3"` or an object); multi-rules (arrays) are not checked. */
function ruleOf(raw: unknown): Rule | null {
  if (typeof raw === "string") return { type: raw.split("|")[0].trim() };
  if (raw && typeof raw === "object" && !Array.isArray(raw)) {
    const rule = raw as Partial<Rule>;
    if (typeof rule.type === "string") return rule as Rule;
    // `{ a: "string", b: ... }` without a type is fastest-validator's nested-object shorthand.
    return { type: "object", props: rule as Record<string, unknown> };
  }
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkValue(raw: unknown, value: unknown, field: string, out: ShapeError[]): void {
  const rule = ruleOf(raw);
  if (!rule || rule.type === "any" || rule.type === "forbidden") return;
  if (value === null) {
    if (rule.nullable !== true)
      out.push({ type: "required", field, message: `The '${field}' field must not be null.` });
    return;
  }
  if (SCALAR_TYPES.has(rule.type) && Array.isArray(value)) {
    out.push({ type: rule.type, field, message: `The '${field}' field must be a ${rule.type}.` });
    return;
  }
  if (rule.type === "object" && rule.props && isPlainObject(value)) {
    checkProps(rule.props, value, `${field}.`, out);
  } else if (rule.type === "array" && rule.items !== undefined && Array.isArray(value)) {
    value.forEach((item, i) => checkValue(rule.items, item, `${field}[${i}]`, out));
  }
}

function checkProps(
  props: Record<string, unknown>,
  params: Record<string, unknown>,
  prefix: string,
  out: ShapeError[],
): void {
  for (const [name, raw] of Object.entries(props)) {
    if (name.startsWith("$$")) continue;
    // Only the object's own keys: a value reached through its prototype is not a param.
    if (!Object.prototype.hasOwnProperty.call(params, name)) continue;
    checkValue(raw, params[name], `${prefix}${name}`, out);
  }
}

/** Null and array-for-scalar errors of `params` against an action's or event's schema. */
export function shapeErrors(schema: Record<string, unknown>, params: unknown): ShapeError[] {
  const out: ShapeError[] = [];
  if (isPlainObject(params)) checkProps(schema, params, "", out);
  return out;
}

type Checker = ReturnType<Validators.Fastest["compile"]>;

export class StrictValidator extends Validators.Fastest {
  override compile(schema: Record<string, unknown>): Checker {
    const check = super.compile(schema);
    const guarded = ((params, opts) => {
      const errors = shapeErrors(schema, params);
      if (errors.length === 0) return check(params, opts);
      // The broker's middleware reads a failed check as its list of errors.
      const failed = errors as unknown as boolean;
      return check.async ? Promise.resolve(failed) : failed;
    }) as Checker;
    guarded.async = check.async;
    return guarded;
  }
}
