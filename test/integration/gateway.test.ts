import { ServiceBroker, type Context, type ServiceSchema } from "moleculer";
import type { GatewayMeta } from "../../lib/auth";
import { brokerOptions } from "../../moleculer.config";
import { config, resetConfig } from "../../lib/config";
import api, { API_ALIASES, NEEDED_SERVICES, neededServices } from "../../services/api.service";
import { startSystem, type TestSystem } from "../helpers/system";
import { client } from "../helpers/http";
import { waitFor } from "../helpers/wait";
import { validateOpenApi } from "../helpers/openapi-validate";
import { createProduct } from "../helpers/shop";
import { buildOpenApi } from "../../contracts/openapi";
import type { Product } from "../../contracts/products";
import type { User } from "../../contracts/users";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

interface OpenApiDoc {
  paths: Record<string, Record<string, OperationDoc>>;
}
interface OperationDoc {
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean; schema: SchemaDoc }>;
  requestBody?: { content: { "application/json": { schema: SchemaDoc } } };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface SchemaDoc {
  type?: string;
  properties?: Record<string, SchemaDoc>;
  required?: string[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  enum?: unknown[];
}

describe("the gateway", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem();
  });
  afterAll(() => sys.stop());

  it("answers /health/live with ok and /health/ready with 200 when every service is up", async () => {
    expect(await sys.http.get("/health/live")).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    const ready = await sys.http.get("/health/ready");
    expect({ status: ready.status, body: ready.body }).toEqual({
      status: 200,
      body: { status: "ok" },
    });
  });

  it("stays ready without the optional Python recommendations service, whose route alone answers 503", async () => {
    const product = await createProduct(sys.http, await sys.adminToken(), 5);
    const res = await sys.http.get<{ type: string }>(`/api/products/${product.id}/recommendations`);
    expect(res.status).toBe(503);
    expect(res.body.type).toBe("SERVICE_UNAVAILABLE");
    expect((await sys.http.get("/api/products/missing/recommendations")).status).toBe(404);
    expect((await sys.http.get(`/api/products/${product.id}/recommendations?limit=0`)).status).toBe(
      422,
    );
    expect((await sys.http.get(`/api/products/${product.id}`)).status).toBe(200);
    expect((await sys.http.get("/health/ready")).status).toBe(200);
    // Even a route straight to it would not make readiness wait for it.
    const aliases = { "GET /a": "products.get", "GET /b": "recommendations.forProduct" };
    expect(neededServices(aliases)).toEqual(["products"]);
  });

  it("answers an unknown route with the contract's 404 body and the security headers", async () => {
    for (const path of ["/nowhere", "/api/nowhere", "/api/auth/nowhere"]) {
      const res = await sys.http.get(path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        name: "NotFoundError",
        message: "Not found",
        code: 404,
        type: "NOT_FOUND",
      });
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("sets the security headers on action responses", async () => {
    const res = await sys.http.get("/api/products");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  describe("GET /api/openapi.json", () => {
    let doc: OpenApiDoc;

    beforeAll(async () => {
      const res = await sys.http.get<OpenApiDoc>("/api/openapi.json");
      expect(res.status).toBe(200);
      doc = res.body;
    });

    it("is a valid OpenAPI 3 document", async () => {
      expect(await validateOpenApi(doc)).toBe("valid");
    });

    it("is the contracts' document (the one tests check answers against)", () => {
      expect(doc).toEqual(buildOpenApi({ version: "1.0.0" }));
    });

    it("names its server relatively, whatever Host or scheme the request came with", async () => {
      // Behind a TLS proxy an absolute `http://<Host>` sent clients to plain HTTP.
      const proxied = await sys.http.get<OpenApiDoc & { servers: unknown }>("/api/openapi.json", {
        headers: { Host: "shop.example.com", "X-Forwarded-Proto": "https" },
      });
      expect(proxied.body.servers).toEqual([
        { url: "/", description: "The host this document was fetched from" },
      ]);
      expect(proxied.body).toEqual(doc);
    });

    it("documents every route API.md lists under /api, and nothing else", () => {
      // API.md's routes, written out: not derived from the aliases the document is built from.
      const contract = [
        "post /api/auth/register",
        "post /api/auth/login",
        "get /api/users/me",
        "patch /api/users/me",
        "get /api/products",
        "get /api/products/{id}",
        "get /api/products/{id}/recommendations",
        "post /api/products",
        "patch /api/products/{id}",
        "delete /api/products/{id}",
        "post /api/orders",
        "get /api/orders",
        "get /api/orders/stream",
        "get /api/orders/{id}",
        "post /api/orders/{id}/cancel",
        "get /api/payments",
        "get /api/notifications",
        "post /api/notifications/{id}/read",
        "get /api/admin/nodes",
        "get /api/admin/stream",
        "get /api/admin/actions",
        "get /api/admin/orders/board",
        "post /api/admin/orders/{id}/redrive",
        "get /api/admin/faults",
        "put /api/admin/faults/{target}",
        "delete /api/admin/faults/{target}",
        "delete /api/admin/faults",
      ];
      const actual = Object.entries(doc.paths)
        .filter(([p]) => p.startsWith("/api/") && !["/api/openapi.json", "/api/docs"].includes(p))
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
      expect(actual.sort()).toEqual(contract.sort());
      for (const path of ["/health/live", "/health/ready", "/api/openapi.json", "/api/docs"]) {
        expect([path, doc.paths[path]?.get]).toEqual([path, expect.any(Object)]);
      }
    });

    it("takes the body and query schemas from the contracts the actions validate with", () => {
      const register = doc.paths["/api/auth/register"].post;
      const body = register.requestBody!.content["application/json"].schema;
      expect(body.required?.sort()).toEqual(["email", "name", "password"]);
      expect(body.properties!.email).toMatchObject({ type: "string", format: "email" });
      expect(body.properties!.password).toMatchObject({ minLength: 8, maxLength: 128 });
      expect(register.security).toEqual([]);

      const create = doc.paths["/api/products"].post;
      const product = create.requestBody!.content["application/json"].schema;
      expect(product.properties!.price).toMatchObject({ type: "integer", minimum: 0 });
      expect(product.properties!.sku.pattern).toBe("^[A-Za-z0-9._-]+$");
      expect(product.required).not.toContain("description");
      expect(create.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["401", "403", "422"]));
      expect(create.responses["403"].content!["application/json"].schema.$ref).toBe(
        "#/components/schemas/ErrorBody",
      );

      const list = doc.paths["/api/products"].get;
      const pageSize = list.parameters!.find((p) => p.name === "pageSize")!;
      expect(pageSize).toMatchObject({
        in: "query",
        required: false,
        schema: { type: "integer", minimum: 1, maximum: 100 },
      });
      expect(list.parameters!.find((p) => p.name === "sort")!.schema.enum).toContain("-price");

      const get = doc.paths["/api/products/{id}"].get;
      expect(get.parameters).toEqual([
        expect.objectContaining({ name: "id", in: "path", required: true }),
      ]);
      const recommended = doc.paths["/api/products/{id}/recommendations"].get;
      expect(recommended.security).toEqual([]);
      expect(recommended.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: "id", in: "path", required: true }),
          expect.objectContaining({
            name: "limit",
            in: "query",
            required: false,
            schema: expect.objectContaining({ type: "integer", minimum: 1, maximum: 20 }),
          }),
        ]),
      );
      expect(doc.paths["/api/users/me"].get.security).toEqual([{ bearerAuth: [] }]);
    });
  });
});

describe("readiness", () => {
  it("stays ready while no service runs, naming them; the routes that need them answer 503", async () => {
    const sys = await startSystem(["api"]);
    try {
      // The gateway itself can serve: one service away must not take every gateway out.
      const res = await sys.http.get<{ status: string; unavailableServices: string[] }>(
        "/health/ready",
      );
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("ok");
      expect(res.body.unavailableServices.sort()).toEqual([...NEEDED_SERVICES].sort());

      // A route whose service is missing is a 503 of the contract, naming no node.
      const list = await sys.http.get("/api/products");
      expect(list.status).toBe(503);
      expect(list.body).toEqual({
        name: "ServiceUnavailableError",
        message: "A needed service is unavailable, try again shortly",
        code: 503,
        type: "SERVICE_UNAVAILABLE",
      });
      // So is a token check while the users service is away.
      expect((await sys.http.get("/api/users/me", { token: "x.y.z" })).status).toBe(503);
    } finally {
      await sys.stop();
    }
  });

  it("says starting, not stopping, while the services the gateway came up with are still starting", async () => {
    resetConfig();
    const broker = new ServiceBroker({
      ...brokerOptions(config()),
      nodeID: `ready-start-${process.pid}`,
    });
    // The gateway listens as soon as its own `started` has run; orders' stand-in holds the
    // broker's start until the gate opens.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    broker.createService(api);
    for (const name of NEEDED_SERVICES) {
      broker.createService({ name, started: name === "orders" ? () => gate : undefined });
    }
    const started = broker.start();
    try {
      const server = (broker.getLocalService("api") as unknown as { server: Server }).server;
      await waitFor(
        async () => server.listening,
        (listening) => listening,
        10_000,
        20,
      );
      const http = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

      const starting = await http.get<{ status: string; missing: string[] }>("/health/ready");
      expect(broker.started).toBe(false);
      expect(starting.status).toBe(503);
      expect(starting.body).toMatchObject({ status: "unavailable", missing: ["node (starting)"] });

      release();
      await started;
      expect((await http.get("/health/ready")).status).toBe(200);
    } finally {
      release();
      await started;
      await broker.stop();
    }
  });

  it("turns 503 while the node shuts down, and lets the request in flight finish", async () => {
    resetConfig();
    const broker = new ServiceBroker({
      ...brokerOptions(config()),
      nodeID: `ready-stop-${process.pid}`,
    });
    // Stand-ins for every service the routes need; GET /api/products/:id waits for a gate.
    const slowAction = API_ALIASES["GET /products/:id"];
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    broker.createService(api);
    for (const name of NEEDED_SERVICES) {
      const schema: ServiceSchema = { name, actions: {} };
      if (slowAction.startsWith(`${name}.`)) {
        schema.actions![slowAction.slice(name.length + 1)] = async () => {
          entered();
          await gate;
          // A contract-shaped answer: the test client checks every answer against the OpenAPI.
          const at = new Date().toISOString();
          const product: Product = {
            ...{ id: "slow", sku: "SLOW-1", name: "Slow", description: "", price: 1 },
            ...{ currency: "USD", stock: 1, createdAt: at, updatedAt: at },
          };
          return product;
        };
      }
      broker.createService(schema);
    }
    await broker.start();
    const server = (broker.getLocalService("api") as unknown as { server: Server }).server;
    const http = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

    expect((await http.get("/health/ready")).status).toBe(200);
    const slow = http.get("/api/products/slow");
    await inFlight;
    const stopped = broker.stop();

    let ready = await http.get<{ missing: string[] }>("/health/ready");
    const deadline = Date.now() + 5000;
    while (ready.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await http.get<{ missing: string[] }>("/health/ready");
    }
    expect(ready.status).toBe(503);
    expect(ready.body.missing).toEqual(["node (stopping)"]);

    release();
    expect(await slow).toMatchObject({ status: 200, body: { id: "slow" } });
    await stopped;
  });
});

describe("fail closed", () => {
  function withoutMethod(method: "authenticate" | "authorize"): ServiceSchema {
    const methods = { ...api.methods };
    delete methods[method];
    return { ...api, methods };
  }

  it.each(["authenticate", "authorize"] as const)(
    "refuses to create the gateway when its %s method is missing",
    (method) => {
      const broker = new ServiceBroker({ logger: false, transporter: null });
      expect(() => broker.createService(withoutMethod(method))).toThrow(
        new RegExp(`needs ${method === "authenticate" ? "authentication" : "authorization"}`),
      );
    },
  );

  it("with both methods present, checks the token and the role on every route", async () => {
    const broker = new ServiceBroker({ logger: false, transporter: null });
    broker.createService({ ...api, settings: { ...api.settings, port: 0 } });
    // A stand-in users service: one known token, and the action the route needs.
    broker.createService({
      name: "users",
      actions: {
        resolveToken: (ctx: Context<{ token: string }>) =>
          ctx.params.token === "known" ? { id: "u1", roles: ["customer"] } : null,
        me: {
          auth: "user",
          handler: (ctx: Context<unknown, GatewayMeta>): User => ({
            ...ctx.meta.user!,
            ...{ email: "u1@example.com", name: "U", createdAt: new Date().toISOString() },
          }),
        },
      },
    });
    await broker.start();
    try {
      const server = (broker.getLocalService("api") as unknown as { server: Server }).server;
      const http = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      expect((await http.get("/api/users/me")).status).toBe(401);
      expect((await http.get("/api/users/me", { token: "forged" })).status).toBe(401);
      expect(await http.get("/api/users/me", { token: "known" })).toMatchObject({
        status: 200,
        body: { id: "u1", roles: ["customer"] },
      });
    } finally {
      await broker.stop();
    }
  });
});
