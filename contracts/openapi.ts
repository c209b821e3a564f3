/**
 * The OpenAPI 3.0 document of the REST contract, built from contracts/rest.ts and the schemas of
 * contracts/<service>.ts: the same declarations the broker validates with and the services are
 * typed by, so the document cannot drift from what the gateway answers.
 */
import { ERROR_TYPES, errorBody, pageOf, type ErrorType } from "./common";
import { actionsReport, faultReports, meshNodes, orderBoard, redriveResult } from "./console";
import { notification } from "./notifications";
import { order } from "./orders";
import { payment } from "./payments";
import { product } from "./products";
import { API_PREFIX, OPERATIONS, type Access, type BodyName, type Operation } from "./rest";
import { s, type JsonSchema } from "./schema";
import { authResult, user } from "./users";

const BODIES: Record<BodyName | "ErrorBody", JsonSchema> = {
  AuthResult: authResult.json,
  User: user.json,
  Product: product.json,
  ProductPage: pageOf(s.ref("Product", product)).json,
  ProductList: s.array(s.ref("Product", product)).json,
  Order: order.json,
  OrderPage: pageOf(s.ref("Order", order)).json,
  Payment: payment.json,
  PaymentPage: pageOf(s.ref("Payment", payment)).json,
  Notification: notification.json,
  NotificationPage: pageOf(s.ref("Notification", notification)).json,
  MeshNodes: meshNodes.json,
  ActionsReport: actionsReport.json,
  OrderBoard: orderBoard.json,
  RedriveResult: redriveResult.json,
  FaultReports: faultReports.json,
  ErrorBody: errorBody.json,
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const BODY_METHODS = new Set(["post", "put", "patch"]);

const FOREIGN_ORIGIN =
  "the request's `Origin` is not one the gateway's CORS_ORIGINS allows (when it is set)";

/** Why each status is answered, for the operations that can answer it. */
function errorText(status: number, op: Operation, method: string): string {
  switch (status) {
    case 400:
      return BODY_METHODS.has(method)
        ? "INVALID_REQUEST: malformed JSON, a body nested too deep, or an unreadable body"
        : "INVALID_REQUEST: a request the gateway cannot read";
    case 401:
      if (op.action === "users.login") return "UNAUTHORIZED: wrong e-mail address or password";
      return op.access === "public"
        ? "UNAUTHORIZED: a malformed, expired or revoked bearer token was sent " +
            "(leave `Authorization` out to call anonymously)"
        : "UNAUTHORIZED: no bearer token, or a malformed, expired or revoked one";
    case 403:
      return op.access === "admin"
        ? `FORBIDDEN: the caller is not an admin, or ${FOREIGN_ORIGIN}`
        : `FORBIDDEN: ${FOREIGN_ORIGIN}`;
    case 404:
      return `NOT_FOUND: ${op.notFound ?? "no such id (or not the caller's)"}`;
    case 409:
      return Object.entries(op.conflicts ?? {})
        .map(([type, why]) => `${type}: ${why}`)
        .join("; ");
    case 413:
      return "INVALID_REQUEST: the body is larger than the gateway accepts";
    case 415:
      return "INVALID_REQUEST: the body is not `application/json` (UTF-8, identity or gzip)";
    case 422:
      return "VALIDATION_ERROR: a param failed its rule; `data` lists each failed field";
    case 429:
      return op.success.some((s) => s.events)
        ? "RATE_LIMITED: too many requests from this address, or too many streams open for this account; retry after `Retry-After` seconds"
        : "RATE_LIMITED: too many requests from this address; retry after `Retry-After` seconds";
    default:
      return "SERVICE_UNAVAILABLE: a service the route needs is down or busy; retry shortly";
  }
}

function typesOf(status: number, op: Operation): ErrorType[] {
  if (status === 409) return Object.keys(op.conflicts ?? {}) as ErrorType[];
  return (Object.keys(ERROR_TYPES) as ErrorType[]).filter(
    (type) =>
      (ERROR_TYPES[type] as readonly number[]).includes(status) &&
      !["CONFLICT", "OUT_OF_STOCK", "IDEMPOTENCY_CONFLICT", "INVALID_STATE"].includes(type),
  );
}

function errorResponse(status: number, op: Operation, method: string): JsonSchema {
  const description = errorText(status, op, method);
  const examples = Object.fromEntries(
    typesOf(status, op).map((type) => [
      type,
      { value: { name: "Error", message: description.split(": ")[1] ?? type, code: status, type } },
    ]),
  );
  const response: JsonSchema = {
    description,
    content: { "application/json": { schema: ref("ErrorBody"), examples } },
  };
  if (status === 429 || status === 503) {
    response.headers = {
      "Retry-After": {
        description: "Seconds to wait before retrying (429)",
        schema: { type: "integer", minimum: 1 },
      },
    };
  }
  return response;
}

/** The statuses `op` can answer besides its successes. */
export function errorStatuses(op: Operation, method: string, pathParams: string[]): number[] {
  const out = [400, 401, 403, 429, 503];
  if (pathParams.length > 0 || op.notFound) out.push(404);
  if (op.conflicts) out.push(409);
  if (BODY_METHODS.has(method)) out.push(413, 415);
  if (op.params || op.idempotent) out.push(422);
  return out.sort((a, b) => a - b);
}

/** `/orders/:id/cancel` → `{ path: "/orders/{id}/cancel", params: ["id"] }`. */
export function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

const SECURITY: Record<Access, JsonSchema[]> = {
  public: [],
  user: [{ bearerAuth: [] }],
  admin: [{ bearerAuth: [] }],
};

function operationObject(op: Operation): { method: string; path: string; body: JsonSchema } {
  const [rawMethod, rawPath] = op.route.split(" ");
  const method = rawMethod.toLowerCase();
  const { path, params: pathParams } = openApiPath(`${API_PREFIX}${rawPath}`);
  const props = op.params?.props ?? {};
  const parameters: JsonSchema[] = pathParams.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: props[name]?.json ?? { type: "string" },
  }));
  const rest = Object.entries(props).filter(([name]) => !pathParams.includes(name));
  const operation: JsonSchema = {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: op.description,
    security: SECURITY[op.access],
  };
  if (BODY_METHODS.has(method) && rest.length > 0) {
    const schema = { ...(op.params?.json ?? {}) };
    const properties = Object.fromEntries(rest.map(([name, p]) => [name, p.json]));
    const required = rest.filter(([, p]) => p.presence === "required").map(([name]) => name);
    Object.assign(schema, { properties });
    if (required.length > 0) schema.required = required;
    else delete schema.required;
    operation.requestBody = {
      required: required.length > 0,
      content: { "application/json": { schema } },
    };
  } else {
    for (const [name, p] of rest) {
      parameters.push({ name, in: "query", required: p.presence === "required", schema: p.json });
    }
  }
  if (op.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Makes a retry safe: the same key with the same body answers the first result " +
        "(1-255 visible ASCII characters)",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
      example: "5f0c2c1e-checkout-1",
    });
  }
  if (parameters.length > 0) operation.parameters = parameters;

  const responses: Record<string, JsonSchema> = {};
  for (const success of op.success) {
    const response: JsonSchema = { description: success.description };
    if (success.body) response.content = { "application/json": { schema: ref(success.body) } };
    if (success.events)
      response.content = {
        "text/event-stream": { schema: { type: "string", description: success.events } },
      };
    if (success.location)
      response.headers = {
        Location: { description: "The new resource's URL", schema: { type: "string" } },
      };
    responses[String(success.status)] = response;
  }
  for (const status of errorStatuses(op, method, pathParams))
    responses[String(status)] = errorResponse(status, op, method);
  operation.responses = responses;
  return { method, path, body: operation };
}

const health = (statuses: string[]) =>
  s.object({
    status: s.enum(statuses),
    missing: s.optional(
      s.array(s.string(), { description: "What keeps the gateway from serving (its own broker)" }),
    ),
    unavailableServices: s.optional(
      s.array(s.string(), {
        description: "Services some routes need that no node offers now (those routes answer 503)",
      }),
    ),
  }).json;

/** The gateway's own paths: health, this document, its reference page. */
function gatewayOperations(): Record<string, Record<string, JsonSchema>> {
  const json = (description: string, schema: JsonSchema) => ({
    description,
    content: { "application/json": { schema } },
  });
  const limited = json(
    "RATE_LIMITED: too many requests from this address; retry after `Retry-After` seconds",
    ref("ErrorBody"),
  );
  const foreign = json(`FORBIDDEN: ${FOREIGN_ORIGIN}`, ref("ErrorBody"));
  const get = (operationId: string, summary: string, responses: JsonSchema) => ({
    get: { operationId, tags: ["gateway"], summary, description: summary, security: [], responses },
  });
  return {
    "/health/live": get("getLiveness", "The process runs", {
      "200": json("Alive", health(["ok"])),
      "403": foreign,
    }),
    "/health/ready": get(
      "getReadiness",
      "Ready to serve: broker started, transporter connected, database answering, not stopping",
      {
        "200": json("Ready", health(["ok"])),
        "403": foreign,
        "503": json(
          "Not ready (or shutting down); `missing` names what is not up",
          health(["unavailable"]),
        ),
      },
    ),
    // Under /api: the general rate limit counts them too.
    [`${API_PREFIX}/openapi.json`]: get("getOpenApi", "This document", {
      "200": json("The OpenAPI 3.0 document", { type: "object", additionalProperties: true }),
      "403": foreign,
      "429": limited,
    }),
    [`${API_PREFIX}/docs`]: get("getApiDocs", "A reference page for this document", {
      "200": {
        description: "An HTML page (works offline: no third-party scripts)",
        content: { "text/html": { schema: { type: "string" } } },
      },
      "403": foreign,
      "429": limited,
    }),
  };
}

export interface OpenApiOptions {
  version: string;
}

/**
 * The server is `/`, relative: a client resolves it against the URL it fetched the document
 * from (OpenAPI 3.0, "Server Object"), so it is right behind TLS, a proxy or another host name
 * without the gateway trusting a `Host` or `X-Forwarded-Proto` header. The paths carry `/api`.
 */
const SERVER = { url: "/", description: "The host this document was fetched from" };

export function buildOpenApi(o: OpenApiOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = gatewayOperations();
  for (const op of OPERATIONS) {
    const { method, path, body } = operationObject(op);
    (paths[path] ??= {})[method] = body;
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "commerce-mesh",
      version: o.version,
      description:
        "A shop's REST API: accounts, catalog, checkout, payments and notifications. Money is " +
        "an integer in minor units (cents). Every error has the `ErrorBody` shape; branch on " +
        "its `type`. Lists are paged: `{ rows, total, page, pageSize, totalPages }`.",
      license: { name: "MIT", url: "https://opensource.org/licenses/MIT" },
    },
    servers: [SERVER],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "auth", description: "Accounts and sign-in" },
      { name: "users", description: "The signed-in user" },
      { name: "products", description: "The catalog" },
      { name: "orders", description: "Checkout and the customer's orders" },
      { name: "payments", description: "Charges and refunds of the customer's orders" },
      { name: "notifications", description: "What the customer was told" },
      {
        name: "console",
        description: "The operator console: mesh, figures, saga, faults (admins)",
      },
      { name: "gateway", description: "Health and this document" },
    ],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "The `token` of `POST /api/auth/register` or `POST /api/auth/login`",
        },
      },
      schemas: BODIES,
    },
  };
}
