/**
 * The OpenAPI 3 document of the REST contract, built from what the gateway really serves: the
 * alias table (path → action) and each action's fastest-validator `params` and `auth`, as the
 * broker's registry knows them. There is no second, hand-written description to drift: a new
 * alias or a changed param schema is in the document on the next request.
 */
import type { AuthRequirement } from "../../lib/auth";
import { EMAIL_MAX } from "../../lib/text";

export type JsonSchema = Record<string, unknown>;

/** What the document needs to know about an action (a subset of the registry's action info). */
export interface ActionDoc {
  params?: Record<string, unknown>;
  auth?: AuthRequirement;
}

/** A path served by the gateway itself rather than by an action (health, this document). */
export interface StaticOperation {
  method: string;
  path: string;
  summary: string;
  /** The success status and its body's schema. */
  status: number;
  schema: JsonSchema;
}

export interface OpenApiInput {
  title: string;
  version: string;
  /** `"METHOD /full/path/:param"` → action name. */
  aliases: Record<string, string>;
  /** Action name → its registry info; a missing action (service not up yet) is documented bare. */
  actions: ReadonlyMap<string, ActionDoc>;
  staticOperations?: StaticOperation[];
  /** The statuses the gateway may answer anywhere (rate limit, outage). */
  rateLimited: boolean;
}

interface Converted {
  schema: JsonSchema;
  optional: boolean;
}

const BODY_METHODS = new Set(["post", "put", "patch"]);

/** `"string|min:3|optional"` → `{ type: "string", min: 3, optional: true }`. */
function parseShorthand(rule: string): Record<string, unknown> {
  const [type, ...parts] = rule.split("|");
  const out: Record<string, unknown> = { type };
  for (const part of parts) {
    const [key, value] = part.split(":");
    if (value === undefined) out[key] = true;
    else if (value === "true" || value === "false") out[key] = value === "true";
    else out[key] = Number.isNaN(Number(value)) ? value : Number(value);
  }
  return out;
}

function patternSource(pattern: unknown): string | undefined {
  if (pattern instanceof RegExp) return pattern.source;
  // A RegExp that crossed the transporter as JSON arrives as `{}`: leave it out then.
  if (typeof pattern === "string") return pattern;
  return undefined;
}

function setIf(target: JsonSchema, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function propertiesOf(props: Record<string, unknown>): {
  properties: Record<string, JsonSchema>;
  required: string[];
} {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, rule] of Object.entries(props)) {
    if (name.startsWith("$$")) continue;
    const { schema, optional } = toJsonSchema(rule);
    properties[name] = schema;
    if (!optional) required.push(name);
  }
  return { properties, required };
}

/** One fastest-validator rule as an OpenAPI 3.0 schema object, and whether it is optional. */
export function toJsonSchema(input: unknown): Converted {
  if (typeof input === "string") return toJsonSchema(parseShorthand(input));
  if (Array.isArray(input)) {
    const alternatives = input.map(toJsonSchema);
    return {
      schema: { oneOf: alternatives.map((a) => a.schema) },
      optional: alternatives.some((a) => a.optional),
    };
  }
  if (typeof input !== "object" || input === null) return { schema: {}, optional: false };

  const rule = input as Record<string, unknown>;
  // `{ $$type: "object", a: …, b: … }` is fastest-validator's shorthand for a nested object.
  if (typeof rule.$$type === "string" && rule.type === undefined) {
    const { $$type, ...props } = rule;
    const inner = toJsonSchema(parseShorthand($$type));
    return {
      schema: { ...inner.schema, ...objectSchema(props) },
      optional: inner.optional,
    };
  }

  const optional = rule.optional === true || rule.default !== undefined;
  const schema: JsonSchema = {};
  switch (rule.type) {
    case "string":
      schema.type = "string";
      setIf(schema, "minLength", rule.min ?? rule.length ?? (rule.empty === false ? 1 : undefined));
      setIf(schema, "maxLength", rule.max ?? rule.length);
      setIf(schema, "pattern", patternSource(rule.pattern));
      if (Array.isArray(rule.enum)) schema.enum = rule.enum;
      break;
    // lib/text.ts: lengths in characters, which is what JSON Schema's lengths count too.
    case "text":
      schema.type = "string";
      setIf(schema, "minLength", rule.min);
      setIf(schema, "maxLength", rule.max);
      break;
    case "emailAddress":
      schema.type = "string";
      schema.format = "email";
      schema.maxLength = EMAIL_MAX;
      break;
    case "email":
      schema.type = "string";
      schema.format = "email";
      setIf(schema, "minLength", rule.min);
      setIf(schema, "maxLength", rule.max);
      break;
    case "uuid":
      schema.type = "string";
      schema.format = "uuid";
      break;
    case "url":
      schema.type = "string";
      schema.format = "uri";
      break;
    case "date":
      schema.type = "string";
      schema.format = "date-time";
      break;
    case "number":
      schema.type = rule.integer === true ? "integer" : "number";
      setIf(schema, "minimum", rule.min);
      setIf(schema, "maximum", rule.max);
      if (rule.positive === true) {
        schema.minimum = 0;
        schema.exclusiveMinimum = true;
      }
      if (rule.negative === true) {
        schema.maximum = 0;
        schema.exclusiveMaximum = true;
      }
      break;
    case "boolean":
      schema.type = "boolean";
      break;
    case "enum":
      if (Array.isArray(rule.values)) {
        schema.enum = rule.values;
        if (rule.values.every((v) => typeof v === "string")) schema.type = "string";
      }
      break;
    case "equal":
      schema.enum = [rule.value];
      break;
    case "object": {
      const props = (rule.props ?? rule.properties) as Record<string, unknown> | undefined;
      Object.assign(schema, props ? objectSchema(props) : { type: "object" });
      if (rule.strict === true || rule.strict === "remove") schema.additionalProperties = false;
      break;
    }
    case "array":
      schema.type = "array";
      schema.items = rule.items === undefined ? {} : toJsonSchema(rule.items).schema;
      setIf(schema, "minItems", rule.min ?? rule.length ?? (rule.empty === false ? 1 : undefined));
      setIf(schema, "maxItems", rule.max ?? rule.length);
      if (rule.unique === true) schema.uniqueItems = true;
      break;
    case "multi":
      if (Array.isArray(rule.rules)) return { ...toJsonSchema(rule.rules), optional };
      break;
    default:
      // `any`, `custom`, or a type this mapping does not know: documented as "anything".
      break;
  }
  setIf(schema, "description", typeof rule.description === "string" ? rule.description : undefined);
  if (rule.default !== undefined && typeof rule.default !== "function")
    schema.default = rule.default;
  return { schema, optional };
}

function objectSchema(props: Record<string, unknown>): JsonSchema {
  const { properties, required } = propertiesOf(props);
  const schema: JsonSchema = { type: "object", properties };
  if (required.length > 0) schema.required = required;
  return schema;
}

/** `/api/products/:id` → `{ path: "/api/products/{id}", params: ["id"] }`. */
export function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)\??/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function errorResponse(description: string): JsonSchema {
  return {
    description,
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
}

const ERROR_RESPONSES: Record<string, string> = {
  "400": "Malformed JSON body",
  "401": "Missing, malformed, expired or forged token",
  "403": "Authenticated but not allowed",
  "404": "Unknown route or id",
  "413": "Request body too large",
  "415": "Body not application/json, or an unsupported encoding or charset",
  "422": "Validation failed",
  "429": "Rate limit exceeded",
  "503": "A needed service is unavailable",
};

function operationFor(
  method: string,
  path: string,
  actionName: string,
  action: ActionDoc | undefined,
  rateLimited: boolean,
): JsonSchema {
  const { params: pathParams } = openApiPath(path);
  const { properties, required } = propertiesOf(action?.params ?? {});
  const parameters: JsonSchema[] = pathParams.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: properties[name] ?? { type: "string" },
  }));
  const errors = new Set(["503"]);
  if (rateLimited) errors.add("429");
  if (pathParams.length > 0) errors.add("404");

  const rest = Object.keys(properties).filter((name) => !pathParams.includes(name));
  const operation: JsonSchema = {
    operationId: `${method}_${actionName}`.replace(/[^A-Za-z0-9_]/g, "_"),
    summary: actionName,
    tags: [actionName.split(".")[0]],
  };

  if (BODY_METHODS.has(method)) {
    const body: JsonSchema = {
      type: "object",
      properties: Object.fromEntries(rest.map((n) => [n, properties[n]])),
    };
    const bodyRequired = required.filter((n) => rest.includes(n));
    if (bodyRequired.length > 0) body.required = bodyRequired;
    operation.requestBody = {
      required: bodyRequired.length > 0,
      content: { "application/json": { schema: body } },
    };
    errors.add("400");
    errors.add("413");
    errors.add("415");
  } else {
    for (const name of rest) {
      parameters.push({
        name,
        in: "query",
        required: required.includes(name),
        schema: properties[name],
      });
    }
  }
  if (action?.params && Object.keys(action.params).some((k) => !k.startsWith("$$")))
    errors.add("422");
  if (action?.auth) {
    operation.security = [{ bearerAuth: [] }];
    errors.add("401");
    if (action.auth === "admin") errors.add("403");
  }
  if (parameters.length > 0) operation.parameters = parameters;

  const responses: Record<string, JsonSchema> = {
    "2XX": { description: "Success", content: { "application/json": { schema: {} } } },
  };
  for (const code of [...errors].sort()) responses[code] = errorResponse(ERROR_RESPONSES[code]);
  operation.responses = responses;
  return operation;
}

export function buildOpenApi(input: OpenApiInput): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const add = (path: string, method: string, operation: JsonSchema) => {
    const entry = (paths[path] ??= {});
    entry[method] = operation;
  };

  for (const [route, actionName] of Object.entries(input.aliases)) {
    const [rawMethod, rawPath] = route.trim().split(/\s+/);
    const method = rawMethod.toLowerCase();
    add(
      openApiPath(rawPath).path,
      method,
      operationFor(method, rawPath, actionName, input.actions.get(actionName), input.rateLimited),
    );
  }
  for (const op of input.staticOperations ?? []) {
    add(op.path, op.method.toLowerCase(), {
      operationId: `${op.method}_${op.path}`.replace(/[^A-Za-z0-9_]/g, "_"),
      summary: op.summary,
      tags: ["operations"],
      responses: {
        [String(op.status)]: {
          description: op.summary,
          content: { "application/json": { schema: op.schema } },
        },
      },
    });
  }

  return {
    openapi: "3.0.3",
    info: { title: input.title, version: input.version },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Error: {
          type: "object",
          required: ["name", "message", "code", "type"],
          properties: {
            name: { type: "string" },
            message: { type: "string" },
            code: { type: "integer", description: "The HTTP status" },
            type: { type: "string", example: "VALIDATION_ERROR" },
            data: {
              description:
                "Details; for VALIDATION_ERROR a list of { field, message, type }, one per failed field",
            },
          },
        },
      },
    },
  };
}
