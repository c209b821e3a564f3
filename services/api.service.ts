/**
 * api: the moleculer-web gateway, the only door. Explicit aliases only (`mappingPolicy:
 * "restrict"`), authentication and role authorization declared on the actions (`auth`), the
 * contract's error bodies, health endpoints. Refuses to start if a route asks for
 * authentication or authorization and the method is missing (moleculer-web would silently
 * turn the check off).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, Service, ServiceSchema } from "moleculer";
import { defineService } from "../lib/define-service";
import ApiGateway, { type ApiSettingsSchema } from "moleculer-web";
import { config } from "../lib/config";
import { toErrorBody } from "../lib/http-errors";
import { ForbiddenError, UnauthorizedError } from "../lib/errors";
import type { AuthRequirement, GatewayMeta, MetaUser } from "../lib/auth";

/** The REST contract (../shared/API.md): path → action. Nothing else is reachable. */
export const API_ALIASES: Record<string, string> = {
  "POST /auth/register": "users.register",
  "POST /auth/login": "users.login",
  "GET /users/me": "users.me",
  "PATCH /users/me": "users.updateMe",
  "GET /products": "products.list",
  "GET /products/:id": "products.get",
  "POST /products": "products.create",
  "PATCH /products/:id": "products.update",
  "DELETE /products/:id": "products.remove",
  "POST /orders": "orders.create",
  "GET /orders": "orders.list",
  "GET /orders/:id": "orders.get",
  "POST /orders/:id/cancel": "orders.cancel",
  "GET /payments": "payments.list",
  "GET /notifications": "notifications.list",
  "POST /notifications/:id/read": "notifications.markRead",
};

/** The services the routes call: readiness waits for every one of them. */
export const NEEDED_SERVICES = [...new Set(Object.values(API_ALIASES).map((a) => a.split(".")[0]))];

interface GatewayRequest extends IncomingMessage {
  $action?: { auth?: AuthRequirement; name?: string };
  $ctx?: Context<unknown, GatewayMeta>;
}

interface GatewayMethods {
  resolveUser(token: string): Promise<MetaUser | null>;
  sendJson(res: ServerResponse, status: number, body: unknown): void;
  readiness(): { ready: boolean; missing: string[] };
}
type GatewayThis = Service<ApiSettingsSchema> & GatewayMethods;

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError("Malformed Authorization header");
  return match[1];
}

function securityHeaders(_req: IncomingMessage, res: ServerResponse, next: () => void) {
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  res.setHeader("Cache-Control", "no-store");
  next();
}

const cfg = config();

export default defineService<ApiSettingsSchema, GatewayMethods>({
  name: "api",
  mixins: [ApiGateway as unknown as Partial<ServiceSchema>],

  settings: {
    port: cfg.port,
    ip: "0.0.0.0",
    use: [securityHeaders],
    log4XXResponses: false,
    logRequest: "debug",
    logResponse: "debug",
    logRequestParams: null,
    logResponseData: null,

    routes: [
      {
        path: "/health",
        mappingPolicy: "restrict",
        authentication: false,
        authorization: false,
        bodyParsers: false,
        aliases: {
          "GET live"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            this.sendJson(res, 200, { status: "ok" });
          },
          "GET ready"(this: GatewayThis, _req: IncomingMessage, res: ServerResponse) {
            const { ready, missing } = this.readiness();
            this.sendJson(
              res,
              ready ? 200 : 503,
              ready ? { status: "ok" } : { status: "unavailable", missing },
            );
          },
        },
      },
      {
        path: "/api",
        mappingPolicy: "restrict",
        autoAliases: false,
        authentication: true,
        authorization: true,
        bodyParsers: { json: { strict: true, limit: cfg.bodyLimit }, urlencoded: false },
        aliases: API_ALIASES,
        onBeforeCall(ctx: Context<unknown, GatewayMeta>, _route: unknown, req: IncomingMessage) {
          const key = req.headers["idempotency-key"];
          if (typeof key === "string" && key !== "") ctx.meta.idempotencyKey = key;
        },
      },
    ],

    onError(this: GatewayThis, req: GatewayRequest, res: ServerResponse, err: Error) {
      const body = toErrorBody(err);
      if (body.code >= 500) this.logger.error(`${req.method} ${req.url} failed:`, err);
      this.sendJson(res, body.code, body);
    },
  },

  actions: {
    // The broker retries the calls the gateway makes (products.get, …); retrying the whole
    // HTTP handler on top of that would re-run a request whose response is already decided.
    rest: { retryPolicy: { enabled: false } },
  },

  methods: {
    /** Resolves the caller from the bearer token; `null` for an anonymous request. */
    async authenticate(_ctx: Context, _route: unknown, req: GatewayRequest) {
      const token = bearerToken(req);
      if (token === null) return null;
      const user = await this.resolveUser(token);
      if (!user) throw new UnauthorizedError("Invalid or expired token");
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

    /** Token verification lives with the users service (it holds the key); results are cached there. */
    async resolveUser(token: string): Promise<MetaUser | null> {
      return this.broker.call<MetaUser | null, { token: string }>("users.resolveToken", { token });
    },

    sendJson(res: ServerResponse, status: number, body: unknown) {
      if (res.headersSent) return;
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    },

    readiness() {
      if (!this.broker.started || this.broker.stopping)
        return { ready: false, missing: ["api (stopping)"] };
      const available = new Set(
        this.broker.registry.getServiceList({ onlyAvailable: true }).map((s) => s.name),
      );
      const missing = NEEDED_SERVICES.filter((name) => !available.has(name));
      return { ready: missing.length === 0, missing };
    },
  },

  created() {
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
});
