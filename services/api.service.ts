/**
 * api: the moleculer-web gateway, the only door. Explicit aliases only (`mappingPolicy:
 * "restrict"`), authentication and role authorization declared on the actions (`auth`), the
 * contract's error bodies, CORS, security headers, the request-shape rules and the bounded JSON
 * body parser (services/api/request-shape.ts), rate limits shared by every replica
 * (services/api/rate-limit.ts), health endpoints and the OpenAPI document generated from the
 * aliases and the actions' param schemas, and the web pages (services/api/web-pages.ts). Refuses to start if a route asks for authentication
 * or authorization and the method is missing (moleculer-web would silently turn the check off).
 */
import { countDomain } from "../lib/metrics";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import { defineService } from "../lib/define-service";
import ApiGateway, {
  type ApiRouteSchema,
  type ApiSettingsSchema,
  type CorsOptions,
  type RateLimitSettings,
} from "moleculer-web";
import { config } from "../lib/config";
import { toErrorBody } from "../lib/http-errors";
import {
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthorizedError,
} from "../lib/errors";
import type { AuthRequirement, GatewayMeta, MetaUser } from "../lib/auth";
import { TokenCache } from "./api/token-cache";
import {
  USER_TOKENS_REVOKED,
  userTokensRevoked,
  type UserTokensRevokedEvent,
} from "../contracts/users";
import { callWithFailover } from "../lib/failover-call";
import { clientAddress, trustedProxies } from "./api/client-ip";
import { isManagedStore, rateLimitStore } from "./api/rate-limit";
import { JSON_TEXT_OPTION } from "../middlewares/caller-cache";
import { jsonBody, otherMethods, plainQuery, requestShape } from "./api/request-shape";
import { WEB_CSP, WebPages, type WebFile } from "./api/web-pages";
import { DOCS_CSP, docsFile, type DocsFile } from "./api/docs-page";
import { metricsPort } from "../lib/metrics-reporter";
import { nodeReadiness, watchBroker, type Readiness } from "../lib/health";
import { buildOpenApi } from "../contracts/openapi";
import { API_PREFIX, OPERATIONS } from "../contracts/rest";
import type { JsonSchema } from "../contracts/schema";
import {
  ORDER_STATUS_CHANGED,
  orderStatusChanged,
  type OrderStatusChangedEvent,
} from "../contracts/orders";
import { EventStream, EventStreams, writeEventStream } from "./api/event-stream";
import { CONSOLE_ALIASES, consoleMixin } from "./api/console";

/**
 * The REST contract (contracts/rest.ts, which declares each route's params and answers): path
 * → action, relative to API_PREFIX. Nothing else is reachable.
 */
export const API_ALIASES: Record<string, string> = {
  "POST /auth/register": "users.register",
  "POST /auth/login": "users.login",
  "GET /users/me": "users.me",
  "PATCH /users/me": "users.updateMe",
  "GET /products": "products.list",
  "GET /products/:id": "products.get",
  "GET /products/:id/recommendations": "products.recommendations",
  "POST /products": "products.create",
  "PATCH /products/:id": "products.update",
  "DELETE /products/:id": "products.remove",
  "POST /orders": "orders.create",
  "GET /orders": "orders.list",
  // Before `/orders/:id`, which would take `stream` for an id: moleculer-web tries them in order.
  "GET /orders/stream": "api.streamOrders",
  "GET /orders/:id": "orders.get",
  "POST /orders/:id/cancel": "orders.cancel",
  "GET /payments": "payments.list",
  "GET /notifications": "notifications.list",
  "POST /notifications/:id/read": "notifications.markRead",
  ...CONSOLE_ALIASES,
};

/**
 * Services that may be missing without the gateway being unready: their routes answer 503
 * while the rest of the API serves. recommendations runs in Python, outside `npm start`
 * (docs/ARCHITECTURE.md); its route goes through products.recommendations.
 */
export const OPTIONAL_SERVICES: readonly string[] = ["recommendations"];

/** The services `aliases` call, optional ones and the gateway's own (the streams) aside. */
export function neededServices(aliases: Record<string, string>): string[] {
  const names = new Set(Object.values(aliases).map((action) => action.split(".")[0]));
  return [...names].filter((name) => !OPTIONAL_SERVICES.includes(name) && name !== "api");
}

/**
 * The services the routes call. Readiness does not wait for them (a route whose service is away
 * answers 503 on its own); `/health/ready` lists the missing ones as `unavailableServices`.
 */
export const NEEDED_SERVICES = neededServices(API_ALIASES);

/**
 * The aliases that take a password, under the stricter RATE_LIMIT_AUTH_MAX (password guessing):
 * one limit, counted together, whichever of them is tried.
 */
const PASSWORD_ALIASES = new Set(["POST /auth/register", "POST /auth/login", "PATCH /users/me"]);
/** A JWT longer than this is not one of ours; refused before it reaches the users service. */
const MAX_TOKEN_LENGTH = 4096;
/**
 * Verified tokens remembered per gateway process. The bound on serving a token whose user was
 * deleted behind the users service's back, or whose revocation broadcast this gateway missed
 * (services/api/token-cache.ts); a hot token still costs one users call per second.
 */
const TOKEN_CACHE_TTL_MS = 1_000;
const TOKEN_CACHE_MAX = 10_000;
/**
 * One token check (a signature and one read by id: milliseconds). A check sent to a users
 * replica that has just died would otherwise wait the broker's 10 s before its retry (a read,
 * lib/retry.ts) reaches a live one, and every request of the gateway meanwhile waits as long
 * as a client does (bench/README.md, chaos). A check not answered within this time is also
 * sent to another live replica, and the first answer wins (lib/failover-call.ts): about 1 s
 * more when one replica is frozen, and a replica that is only slow still answers.
 */
const RESOLVE_TOKEN_HEDGE_MS = 1_000;
/**
 * Only reads may be authenticated from that memory. A write always asks the users service, so
 * no order is placed and nothing is changed with a token that ended, even within that second.
 */
const READ_METHODS = new Set(["GET", "HEAD"]);

interface GatewayRequest extends IncomingMessage {
  /** The URL as the client sent it (moleculer-web makes `url` relative to the route). */
  originalUrl?: string;
  $action?: { auth?: AuthRequirement; name?: string };
  $route?: { path?: string; name?: string };
  $ctx?: Context<unknown, GatewayMeta>;
  $params?: Record<string, string>;
}

interface GatewayMethods {
  forgetUser(userId: string): void;
  resolveUser(token: string, fresh: boolean): Promise<MetaUser | null>;
  sendJson(res: ServerResponse, status: number, body: unknown): void;
  readiness(): Promise<Readiness>;
  unavailableServices(): string[];
  openApiDocument(): JsonSchema;
  sendDocs(res: ServerResponse, file: DocsFile | null): void;
  sendWeb(res: ServerResponse, file: WebFile | null): void;
}

/** The parts of moleculer-web (its processed routes, its error writer) this service touches. */
interface GatewayVars {
  routes?: Array<{ rateLimit?: { store?: unknown } }>;
  tokens: TokenCache;
  web: WebPages;
  /** The open `GET /api/orders/stream` responses, by the caller's user id. */
  orderStreams: EventStreams<string>;
  sendError(req: IncomingMessage, res: ServerResponse, err: Error): void;
}
type GatewayThis = Service<ApiSettingsSchema> & GatewayMethods & GatewayVars;

type SendResponse = (
  this: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  data: unknown,
  action: unknown,
) => void;

/** The actions whose answer is an event stream, as the contracts declare them (`events`). */
const STREAM_ACTIONS = new Set(
  OPERATIONS.filter((op) => op.success.some((s) => s.events)).map((op) => op.action),
);

/**
 * A token's `exp`, in epoch ms (the users service has verified the token, and refuses one
 * without `exp`); undefined when it cannot be read.
 */
function tokenExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    return typeof payload?.exp === "number" ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

type Send404 = (this: unknown, req: IncomingMessage, res: ServerResponse) => void;
type ParseQueryString = (
  this: unknown,
  req: IncomingMessage,
) => { query: Record<string, unknown>; url: string };

function splitAlias(alias: string): { method: string; path: string } {
  const [method, path] = alias.trim().split(/\s+/);
  return { method, path };
}

/**
 * The aliases that take a password (or all the others): each route has its own rate limit, and
 * moleculer-web matches an alias by its full path whichever route holds it.
 */
function passwordAliases(taking: boolean): Record<string, string> {
  return Object.fromEntries(
    Object.entries(API_ALIASES).filter(([alias]) => PASSWORD_ALIASES.has(alias) === taking),
  );
}

/** API_ALIASES with their full paths, as clients see them. */
export function publicAliases(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(API_ALIASES).map(([alias, action]) => {
      const { method, path } = splitAlias(alias);
      return [`${method} ${API_PREFIX}${path}`, action];
    }),
  );
}

const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Cache-Control": "no-store",
};

function setSecurityHeaders(res: ServerResponse): void {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

function securityHeaders(_req: IncomingMessage, res: ServerResponse, next: () => void) {
  setSecurityHeaders(res);
  next();
}

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || match[1].length > MAX_TOKEN_LENGTH)
    throw new UnauthorizedError("Malformed Authorization header");
  return match[1];
}

const cfg = config();
const trusted = trustedProxies(cfg.trustProxy);

/** A route's rate limit; `max` 0 turns it off. */
function rateLimit(name: string, max: number): RateLimitSettings | undefined {
  if (max === 0) return undefined;
  return {
    window: cfg.rateLimit.windowMs,
    limit: max,
    headers: true,
    key: (req: IncomingMessage) => clientAddress(req, trusted),
    StoreFactory: rateLimitStore({ name, namespace: cfg.namespace, redisUrl: cfg.cacher }),
  };
}

/**
 * Seconds until the client may try again, from the window end moleculer-web just wrote (whole
 * seconds, rounded up); never more than one window.
 */
function retryAfterSeconds(res: ServerResponse): number {
  const window = Math.max(1, Math.ceil(cfg.rateLimit.windowMs / 1000));
  const resetAt = Number(res.getHeader("X-Rate-Limit-Reset"));
  if (!Number.isFinite(resetAt)) return window;
  return Math.min(window, Math.max(1, Math.ceil(resetAt - Date.now() / 1000)));
}

function corsOptions(origins: string[]): CorsOptions | undefined {
  if (origins.length === 0) return undefined;
  return {
    // An exact match: moleculer-web's own check of a string origin is a substring test.
    origin: origins.includes("*") ? "*" : (origin: string) => origins.includes(origin),
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "Idempotency-Key"],
    exposedHeaders: [
      "Location",
      "Retry-After",
      "X-Rate-Limit-Limit",
      "X-Rate-Limit-Remaining",
      "X-Rate-Limit-Reset",
      "X-Request-ID",
    ],
    credentials: false,
    maxAge: 600,
  };
}

/** What every API route shares: explicit aliases, bearer auth, roles, a bounded JSON body. */
const apiRoute: Omit<ApiRouteSchema, "path"> = {
  mappingPolicy: "restrict",
  autoAliases: false,
  authentication: true,
  authorization: true,
  // One JSON parser of our own (services/api/request-shape.ts): depth and prototype keys
  // checked, and every failure a 400, 413 or 415.
  bodyParsers: false,
  use: [jsonBody(cfg.bodyLimit)],
  // The gateway only writes answers out as JSON: a cached answer read here can stay the text
  // stored in Redis (middlewares/caller-cache.ts).
  callOptions: { [JSON_TEXT_OPTION]: true } as ApiRouteSchema["callOptions"],
  onBeforeCall(ctx: Context<unknown, GatewayMeta>, _route: unknown, req: IncomingMessage) {
    // Passed on as sent, an empty one too: orders.create refuses a key that is not 1-255
    // visible characters (422) rather than taking an empty header for no key.
    const key = req.headers["idempotency-key"];
    if (typeof key === "string") ctx.meta.idempotencyKey = key;
  },
};

/** The gateway's own paths (documented in contracts/openapi.ts). */
const GATEWAY_ROUTES = [
  "GET /health/live",
  "GET /health/ready",
  `GET ${API_PREFIX}/openapi.json`,
  `GET ${API_PREFIX}/docs`,
  `GET ${API_PREFIX}/docs/:file`,
  "GET /",
  "GET /console",
  "GET /assets/:file",
];

/** Every `METHOD /path` the gateway answers. */
const KNOWN_ROUTES = [...Object.keys(publicAliases()), ...GATEWAY_ROUTES];
const methodsOfPath = otherMethods(KNOWN_ROUTES);

export default defineService<ApiSettingsSchema, GatewayMethods, GatewayVars>({
  name: "api",
  mixins: [ApiGateway as unknown as Partial<ServiceSchema>, consoleMixin],

  settings: {
    port: cfg.port,
    ip: "0.0.0.0",
    use: [securityHeaders, requestShape(cfg.corsOrigins.length > 0, KNOWN_ROUTES)],
    cors: corsOptions(cfg.corsOrigins),
    log4XXResponses: false,
    logRequest: "debug",
    logResponse: "debug",
    logRequestParams: null,
    logResponseData: null,

    routes: [
      {
        name: "health",
        path: "/health",
        mappingPolicy: "restrict",
        authentication: false,
        authorization: false,
        bodyParsers: false,
        aliases: {
          "GET live"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            this.sendJson(res, 200, { status: "ok" });
          },
          async "GET ready"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            const { ready, missing } = await this.readiness();
            const down = this.unavailableServices();
            const services = down.length > 0 ? { unavailableServices: down } : {};
            this.sendJson(
              res,
              ready ? 200 : 503,
              ready
                ? { status: "ok", ...services }
                : { status: "unavailable", missing, ...services },
            );
          },
        },
      },
      {
        ...apiRoute,
        name: "api",
        path: API_PREFIX,
        aliases: {
          ...passwordAliases(false),
          "GET /openapi.json"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            this.sendJson(res, 200, this.openApiDocument());
          },
          "GET /docs"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            this.sendDocs(res, docsFile());
          },
          "GET /docs/:file"(this: GatewayThis, req: GatewayRequest, res: ServerResponse) {
            this.sendDocs(res, docsFile(req.$params?.file));
          },
        },
        rateLimit: rateLimit("api", cfg.rateLimit.max),
      },
      // Same path as the route above; its aliases are matched by their full paths. Listed after
      // it so an unknown /api path is counted by the general limit, not the password one.
      {
        ...apiRoute,
        name: "auth",
        path: API_PREFIX,
        aliases: passwordAliases(true),
        rateLimit: rateLimit("auth", cfg.rateLimit.authMax),
      },
      {
        // The storefront, the console and their files, built into dist/web by `npm run build`.
        name: "web",
        path: "/",
        mappingPolicy: "restrict",
        authentication: false,
        authorization: false,
        bodyParsers: false,
        aliases: {
          async "GET /"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            this.sendWeb(res, this.web.page("index", await metricsPort(this.broker)));
          },
          async "GET /console"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            this.sendWeb(res, this.web.page("console", await metricsPort(this.broker)));
          },
          "GET /assets/:file"(this: GatewayThis, req: GatewayRequest, res: ServerResponse) {
            this.sendWeb(res, this.web.asset(req.$params?.file ?? ""));
          },
        },
      },
    ],

    onError(this: GatewayThis, req: GatewayRequest, res: ServerResponse, err: Error) {
      const body = toErrorBody(err);
      if (body.code === 429) {
        countDomain(this.broker, "rateLimited", { route: req.$route?.name ?? "" });
        if (!res.headersSent) res.setHeader("Retry-After", String(retryAfterSeconds(res)));
      }
      this.sendJson(res, body.code, body);
    },
  },

  actions: {
    /**
     * `GET /api/orders/stream`: the caller's orders as their status changes (contracts/rest.ts).
     * The answer is the stream itself; moleculer-web writes it out as it comes.
     */
    streamOrders: {
      auth: "user",
      handler(this: GatewayThis, ctx: Context<unknown, GatewayMeta>): EventStream {
        return this.orderStreams.open(
          ctx.meta.user!.id,
          ctx.meta.user!.id,
          ctx.meta.tokenExpiresAt,
        );
      },
    },

    /**
     * Called by the users service on this replica, awaited, when a user's tokens end (password
     * or role change): the replica has forgotten them before the change answers. Not routed.
     */
    forgetUser: {
      visibility: "public",
      params: userTokensRevoked.params.rule,
      handler(this: GatewayThis, ctx: Context<UserTokensRevokedEvent>): boolean {
        this.forgetUser(ctx.params.userId);
        return true;
      },
    },

    // The broker retries the calls the gateway makes (products.get, …); retrying the whole
    // HTTP handler on top of that would re-run a request whose response is already decided.
    rest: { retryPolicy: { enabled: false } },
  },

  methods: {
    /** Drops the user's remembered tokens; a stream opened with an ended token ends too. */
    forgetUser(userId: string) {
      this.tokens.dropUser(userId);
      this.orderStreams.close((id) => id === userId);
    },

    /**
     * Replaces moleculer-web's, which decides what to log from `err.code` alone: here the
     * decision is the status the client gets (toErrorBody), and each 5xx is logged once.
     */
    errorHandler(req: GatewayRequest, res: ServerResponse, err: Error) {
      const code = toErrorBody(err).code;
      const what = `${req.method} ${req.originalUrl ?? req.url} failed:`;
      // A 503 is a service away or busy (a node restarting, a timeout): one line, no stack.
      if (code === 503) this.logger.warn(`${what} ${err.name}: ${err.message} (answered 503)`);
      else if (code >= 500) this.logger.error(what, err);
      this.sendError(req, res, err);
    },

    /** Resolves the caller from the bearer token; `null` for an anonymous request. */
    async authenticate(ctx: Context<unknown, GatewayMeta>, _route: unknown, req: GatewayRequest) {
      const token = bearerToken(req);
      if (token === null) return null;
      const user = await this.resolveUser(token, !READ_METHODS.has(req.method ?? ""));
      if (!user) throw new UnauthorizedError("Invalid or expired token");
      // A stream outlives the request that opened it: it ends when its token does.
      if (STREAM_ACTIONS.has(req.$action?.name ?? "")) ctx.meta.tokenExpiresAt = tokenExpiry(token);
      return user;
    },

    /** Enforces the `auth` an action declares: fails closed on an unknown requirement. */
    async authorize(ctx: Context<unknown, GatewayMeta>, _route: unknown, req: GatewayRequest) {
      const required = req.$action?.auth;
      if (required === undefined) return;
      const user = ctx.meta.user;
      if (!user) throw new UnauthorizedError();
      if (required === "user") return;
      if (required === "admin" && user.roles.includes("admin")) return;
      throw new ForbiddenError();
    },

    /**
     * Token verification lives with the users service (it holds the key and the users). `fresh`
     * skips the gateway's memory of the token.
     */
    resolveUser(token: string, fresh: boolean): Promise<MetaUser | null> {
      const ask = (t: string) =>
        callWithFailover<MetaUser | null, { token: string }>(
          this.broker,
          "users.resolveToken",
          { token: t },
          RESOLVE_TOKEN_HEDGE_MS,
        );
      return fresh ? ask(token) : this.tokens.resolve(token, ask);
    },

    /** moleculer-web's, but an event stream is written out by services/api/event-stream.ts. */
    sendResponse(req: GatewayRequest, res: ServerResponse, data: unknown, action: unknown) {
      if (data instanceof EventStream) return writeEventStream(res, data);
      return (ApiGateway.methods!.sendResponse as SendResponse).call(this, req, res, data, action);
    },

    /** moleculer-web's, but a plain query is parsed without `qs` (request-shape.ts `plainQuery`). */
    parseQueryString(req: GatewayRequest) {
      const url = req.url ?? "";
      const at = url.indexOf("?", 1);
      const query = at === -1 ? null : plainQuery(url.slice(at + 1));
      if (query) return { query, url: url.slice(0, at) };
      return (ApiGateway.methods!.parseQueryString as ParseQueryString).call(this, req);
    },

    /** moleculer-web's, but a known path asked with a method it lacks is a 405 with `Allow`. */
    send404(req: GatewayRequest, res: ServerResponse) {
      const allowed = methodsOfPath(req);
      if (!allowed) return (ApiGateway.methods!.send404 as Send404).call(this, req, res);
      res.setHeader("Allow", [...allowed, "OPTIONS"].join(", "));
      this.sendError(req, res, new MethodNotAllowedError(req.method ?? "", allowed));
    },

    /** Every response the gateway writes itself (health, errors, unrouted 404s) goes here. */
    sendJson(res: ServerResponse, status: number, body: unknown) {
      if (res.headersSent) return;
      setSecurityHeaders(res);
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    },

    /** The API reference page and its files, under a CSP that lets them load from here. */
    sendDocs(res: ServerResponse, file: DocsFile | null) {
      if (!file) return this.sendJson(res, 404, toErrorBody(new NotFoundError("File")));
      setSecurityHeaders(res);
      res.setHeader("Content-Security-Policy", DOCS_CSP);
      res.writeHead(200, { "Content-Type": file.type });
      res.end(file.body);
    },

    /**
     * A web page or asset under the pages' CSP (self only) and its cache rule; 503 while the
     * pages are not built (tsc alone does not build them), 404 for a file the build lacks.
     */
    sendWeb(res: ServerResponse, file: WebFile | null) {
      if (!file) {
        const err = this.web.built()
          ? new NotFoundError("File")
          : new ServiceUnavailableError("The web pages are not built: run npm run build");
        return this.sendJson(res, err.code, toErrorBody(err));
      }
      setSecurityHeaders(res);
      res.setHeader("Content-Security-Policy", WEB_CSP);
      res.setHeader("Cache-Control", file.cacheControl);
      res.writeHead(200, { "Content-Type": file.type });
      res.end(file.body);
    },

    /**
     * The gateway's own ability to serve: its broker started and not stopping, its transporter
     * connected (lib/health.ts), not whether every service behind the routes runs.
     */
    readiness() {
      return nodeReadiness(this.broker);
    },

    /** The services some route calls that no node offers now (informative, see NEEDED_SERVICES). */
    unavailableServices() {
      const available = new Set(
        this.broker.registry.getServiceList({ onlyAvailable: true }).map((s) => s.name),
      );
      return NEEDED_SERVICES.filter((name) => !available.has(name));
    },

    /**
     * From the contracts (contracts/openapi.ts), so it describes what every node validates and
     * answers; its server is relative (`/`), the same whatever host or scheme the client used.
     */
    openApiDocument() {
      return buildOpenApi({ version: "1.0.0" });
    },
  },

  events: {
    // Broadcast by the users service: this replica forgets the user's tokens at once.
    [USER_TOKENS_REVOKED]: {
      params: userTokensRevoked.params.rule,
      handler(this: GatewayThis, ctx: Context<UserTokensRevokedEvent>) {
        this.forgetUser(ctx.params.userId);
      },
    },
    // Broadcast by the orders service on every status change: to the owner's open streams.
    [ORDER_STATUS_CHANGED]: {
      params: orderStatusChanged.params.rule,
      handler(this: GatewayThis, ctx: Context<OrderStatusChangedEvent>) {
        const { order } = ctx.params;
        this.orderStreams.publish((userId) => userId === order.userId, "order", order);
      },
    },
  },

  created() {
    this.tokens = new TokenCache(TOKEN_CACHE_TTL_MS, TOKEN_CACHE_MAX);
    this.web = new WebPages();
    this.orderStreams = new EventStreams();
    watchBroker(this.broker);
    for (const route of this.settings.routes ?? []) {
      if (route.authentication && typeof this.schema.methods?.authenticate !== "function") {
        throw new Error(
          `Route ${route.path} needs authentication but the gateway has no authenticate method`,
        );
      }
      if (route.authorization && typeof this.schema.methods?.authorize !== "function") {
        throw new Error(
          `Route ${route.path} needs authorization but the gateway has no authorize method`,
        );
      }
    }
  },

  /** moleculer-web neither connects nor closes a custom rate-limit store; the gateway does. */
  started() {
    for (const route of this.routes ?? []) {
      const store = route.rateLimit?.store;
      if (isManagedStore(store)) store.connect();
    }
  },

  stopped() {
    // An open stream would hold the HTTP server's close until its client left.
    this.orderStreams.close();
    for (const route of this.routes ?? []) {
      const store = route.rateLimit?.store;
      if (isManagedStore(store)) store.close();
    }
  },
});
