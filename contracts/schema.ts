/**
 * One declaration, three readings. Each builder below returns a `Schema<T>`: `rule` is the
 * fastest-validator rule the broker's validator runs (lib/validator.ts, with the `text` and
 * `emailAddress` rules of lib/text.ts), `json` is the OpenAPI 3.0 schema object the gateway
 * documents, and `T` (a phantom type, read with `Infer`) is the TypeScript type the handlers,
 * clients and tests use. A param schema, an entity and an event payload are each written once,
 * here in contracts/, and all three forms follow.
 *
 * This folder imports nothing outside itself (test/unit/layout.test.ts): it is the bottom of the
 * layout, what services, the gateway, the tests and the bench all agree on.
 */

export type JsonSchema = { [key: string]: unknown };
export type Rule = { [key: string]: unknown };
/** An action's `params`: a rule per field, plus `$$strict`. */
export type ParamRules = { [key: string]: Rule | string };

/** How a field of an object is present: always, maybe, or filled in by a default. */
type Presence = "required" | "optional" | "defaulted";

export interface Schema<T, P extends Presence = Presence> {
  readonly rule: Rule;
  readonly json: JsonSchema;
  readonly presence: P;
  /** Never set: carries `T` for `Infer`. */
  readonly __type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** What a client author reads next to the field. */
export interface Doc {
  description?: string;
  example?: unknown;
}

export type Props = Record<string, Schema<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] };
type OptionalKeys<P extends Props> = {
  [K in keyof P]: P[K] extends Schema<unknown, "optional"> ? K : never;
}[keyof P];
type RequiredKeys<P extends Props> = Exclude<keyof P, OptionalKeys<P>>;
/** The object a validated `P` becomes: defaulted fields are present after validation. */
export type ObjectOf<P extends Props> = Simplify<
  { [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }
>;

function make<T>(rule: Rule, json: JsonSchema, doc: Doc = {}): Schema<T, "required"> {
  const described: JsonSchema = { ...json };
  if (doc.description !== undefined) described.description = doc.description;
  if (doc.example !== undefined) described.example = doc.example;
  return { rule, json: described, presence: "required" };
}

function pick(source: object, keys: readonly string[]): Rule {
  const out: Rule = {};
  for (const key of keys) {
    const value = (source as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function compact(json: JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(json).filter(([, v]) => v !== undefined));
}

interface StringOptions extends Doc {
  min?: number;
  max?: number;
  /** A regular expression's source: a string survives the transporter's JSON, a RegExp not. */
  pattern?: string;
  trim?: boolean;
  format?: string;
}

interface NumberOptions extends Doc {
  min?: number;
  max?: number;
  /** Accept a numeric string (query strings are text). */
  convert?: boolean;
}

/** The object-level rule keys: fastest-validator's `strict: "remove"` drops unknown keys. */
interface ObjectOptions extends Doc {
  strip?: boolean;
}

export const s = {
  /** A string counted in UTF-16 units (ids, tokens, patterns: ASCII in practice). */
  string(o: StringOptions = {}): Schema<string, "required"> {
    return make(
      { type: "string", ...pick(o, ["min", "max", "pattern", "trim"]) },
      compact({
        type: "string",
        minLength: o.min,
        maxLength: o.max,
        pattern: o.pattern,
        format: o.format,
      }),
      o,
    );
  },

  /** Text people write: lengths count characters, as JSON Schema's do (lib/text.ts). */
  text(o: Omit<StringOptions, "pattern" | "format"> = {}): Schema<string, "required"> {
    return make(
      { type: "text", ...pick(o, ["min", "max", "trim"]) },
      compact({ type: "string", minLength: o.min, maxLength: o.max }),
      o,
    );
  },

  /** An e-mail address, normalised before it is stored or compared (lib/text.ts). */
  emailAddress(o: Doc = {}): Schema<string, "required"> {
    return make({ type: "emailAddress" }, { type: "string", format: "email", maxLength: 254 }, o);
  },

  /** An ISO 8601 timestamp (responses only: the validator checks it as a string). */
  dateTime(o: Doc = {}): Schema<string, "required"> {
    return make({ type: "string" }, { type: "string", format: "date-time" }, o);
  },

  int(o: NumberOptions = {}): Schema<number, "required"> {
    return make(
      { type: "number", integer: true, ...pick(o, ["min", "max", "convert"]) },
      compact({ type: "integer", minimum: o.min, maximum: o.max }),
      o,
    );
  },

  /** Any finite number (rates, fractions, milliseconds with decimals). */
  number(o: NumberOptions = {}): Schema<number, "required"> {
    return make(
      { type: "number", ...pick(o, ["min", "max", "convert"]) },
      compact({ type: "number", minimum: o.min, maximum: o.max }),
      o,
    );
  },

  /** An object whose keys are free and whose values all follow `value`. */
  record<T>(value: Schema<T>, o: Doc = {}): Schema<Record<string, T>, "required"> {
    return make(
      { type: "record", value: value.rule },
      { type: "object", additionalProperties: value.json },
      o,
    );
  },

  boolean(o: Doc & { convert?: boolean } = {}): Schema<boolean, "required"> {
    return make({ type: "boolean", ...pick(o, ["convert"]) }, { type: "boolean" }, o);
  },

  enum<const V extends readonly string[]>(
    values: V,
    o: Doc & { messages?: Record<string, string> } = {},
  ): Schema<V[number], "required"> {
    return make(
      { type: "enum", values: [...values], ...pick(o, ["messages"]) },
      { type: "string", enum: [...values] },
      o,
    );
  },

  array<T>(
    items: Schema<T>,
    o: Doc & { min?: number; max?: number } = {},
  ): Schema<T[], "required"> {
    return make(
      { type: "array", items: items.rule, ...pick(o, ["min", "max"]) },
      compact({ type: "array", items: items.json, minItems: o.min, maxItems: o.max }),
      o,
    );
  },

  object<P extends Props>(props: P, o: ObjectOptions = {}): Schema<ObjectOf<P>, "required"> {
    const rule: Rule = { type: "object", props: propRules(props) };
    if (o.strip) rule.strict = "remove";
    return make(rule, objectJson(props), o);
  },

  /** One of two shapes (fastest-validator's `multi`). */
  oneOf<A, B>(a: Schema<A>, b: Schema<B>, o: Doc = {}): Schema<A | B, "required"> {
    return make({ type: "multi", rules: [a.rule, b.rule] }, { oneOf: [a.json, b.json] }, o);
  },

  /** A field that may be left out. */
  optional<T>(schema: Schema<T>): Schema<T, "optional"> {
    return { ...schema, rule: { ...schema.rule, optional: true }, presence: "optional" };
  },

  /** A field that may be left out and then takes `value`. */
  withDefault<T>(schema: Schema<T>, value: T): Schema<T, "defaulted"> {
    return {
      ...schema,
      rule: { ...schema.rule, optional: true, default: value },
      json: { ...schema.json, default: value },
      presence: "defaulted",
    };
  },

  /** A value that may be `null` (StrictValidator refuses null otherwise). */
  nullable<T, P extends Presence>(schema: Schema<T, P>): Schema<T | null, P> {
    return {
      ...schema,
      rule: { ...schema.rule, nullable: true },
      json: { ...schema.json, nullable: true },
    } as Schema<T | null, P>;
  },

  /** A reference to a named component schema (`#/components/schemas/<name>`) of the same type. */
  ref<T>(name: string, schema: Schema<T, "required">): Schema<T, "required"> {
    return { ...schema, json: { $ref: `#/components/schemas/${name}` } };
  },
};

function propRules(props: Props): { [key: string]: Rule } {
  return Object.fromEntries(Object.entries(props).map(([name, p]) => [name, p.rule]));
}

function objectJson(props: Props): JsonSchema {
  const required = Object.entries(props)
    .filter(([, p]) => p.presence === "required")
    .map(([name]) => name);
  const json: JsonSchema = {
    type: "object",
    properties: Object.fromEntries(Object.entries(props).map(([name, p]) => [name, p.json])),
  };
  if (required.length > 0) json.required = required;
  return json;
}

/**
 * An action's or event's params: `rule` is the top-level object moleculer's `params` takes
 * (unknown keys dropped with `strip`), `props` the fields for another schema to spread.
 */
export interface Params<P extends Props> {
  readonly props: P;
  readonly rule: ParamRules;
  readonly json: JsonSchema;
  readonly __type?: ObjectOf<P>;
}

export type InferParams<X> = X extends Params<infer P> ? ObjectOf<P> : never;

export function params<P extends Props>(
  props: P,
  o: {
    strip?: boolean;
    /** The fewest known fields a body must carry (the handler checks it: see its action). */
    minProperties?: number;
  } = {},
): Params<P> {
  const rule = propRules(props);
  const json = objectJson(props);
  if (o.minProperties !== undefined) json.minProperties = o.minProperties;
  return {
    props,
    rule: o.strip ? { $$strict: "remove", ...rule } : rule,
    json,
  };
}
