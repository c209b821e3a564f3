/**
 * The shape of a request, attacked from outside (API.md, "Hardening"): OPTIONS, null, arrays for
 * scalars, prototype keys, deep bodies, body-parser failures, query strings posing as bodies and
 * unbounded paging. One block per class; each case names the status the contract promises and
 * checks that nothing was written.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { ActionSchema } from "moleculer";
import { config } from "../../lib/config";
import { MAX_PAGE } from "../../contracts/common";
import { API_ALIASES } from "../../services/api.service";
import { SERVICE_SCHEMAS } from "../../services";
import { jsonBody, MAX_BODY_DEPTH } from "../../services/api/request-shape";
import { startSystem, type TestSystem } from "../helpers/system";
import { expectContractError, type ErrorBody } from "../helpers/contract-errors";
import { createProduct, waitForOrder, type Order, type Product } from "../helpers/shop";

interface Rule {
  type?: string;
  values?: unknown[];
  nullable?: boolean;
}
interface Field {
  alias: string;
  action: string;
  method: string;
  path: string;
  field: string;
  rule: Rule;
}

/** Every (route, non-path param) of the contract with its rule, from the services' schemas. */
function routedFields(): Field[] {
  return Object.entries(API_ALIASES).flatMap(([alias, action]) => {
    const [service, name] = action.split(".");
    const schema = SERVICE_SCHEMAS[service]?.actions?.[name];
    const params = (typeof schema === "object" && schema ? (schema as ActionSchema).params : {}) as
      Record<string, Rule> | undefined;
    const [method, path] = alias.split(" ");
    const inPath = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    return Object.entries(params ?? {})
      .filter(([field]) => !field.startsWith("$$") && !inPath.includes(field))
      .map(([field, rule]) => ({ alias, action, method, path, field, rule }));
  });
}

const SCALAR_SAMPLES: Record<string, unknown> = { number: 5, boolean: true, string: "x" };
const isRead = (method: string) => method === "GET";

/** A login body nested `depth` levels deep (the body itself is level 1). */
function nestedLogin(depth: number): string {
  return `{"email":"a@example.com","password":"password-123","x":${'{"a":'.repeat(depth - 2)}{}${"}".repeat(depth - 2)}}`;
}

describe("security: the shape of a request", () => {
  let sys: TestSystem;
  let admin: string;
  let customer: { token: string; id: string; email: string };
  let product: Product;

  beforeAll(async () => {
    sys = await startSystem();
    admin = await sys.adminToken();
    customer = await sys.customer("shape");
    product = await createProduct(sys.http, admin, 50, 500);
  });
  afterAll(() => sys.stop());

  const login = (email: string, password: string) =>
    sys.http.post<{ token?: string }>("/api/auth/login", { json: { email, password } });
  const ordersOf = async (token: string) =>
    (await sys.http.get<{ total: number }>("/api/orders", { token })).body.total;
  const productNow = async () =>
    (await sys.http.get<Product & { name: string }>(`/api/products/${product.id}`)).body;

  it("answers a method a known path lacks with 405 and Allow, an unknown path with 404", async () => {
    // node:http, not fetch: fetch refuses to send TRACE.
    const send = (method: string, path: string) =>
      new Promise<{ status: number; allow: string | null; body: string }>((resolve, reject) => {
        const req = httpRequest(`${sys.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${admin}` },
        });
        req.on("response", (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, allow: res.headers.allow ?? null, body }),
          );
        });
        req.on("error", reject);
        req.end();
      });
    for (const [method, path, allow] of [
      ["TRACE", "/api/products", "GET, POST, OPTIONS"],
      ["PUT", `/api/products/${product.id}`, "GET, PATCH, DELETE, OPTIONS"],
      ["DELETE", "/api/orders", "GET, POST, OPTIONS"],
      ["POST", "/health/live", "GET, OPTIONS"],
    ]) {
      const res = await send(method, path);
      expect({ method, path, status: res.status, allow: res.allow }).toEqual({
        method,
        path,
        status: 405,
        allow,
      });
      expect(JSON.parse(res.body)).toMatchObject({ code: 405, type: "METHOD_NOT_ALLOWED" });
    }
    // Nothing was changed by the refused PUT.
    expect((await sys.http.get(`/api/products/${product.id}`)).status).toBe(200);
    expect((await send("TRACE", "/api/nowhere")).status).toBe(404);
    expect((await send("DELETE", "/api/nowhere/at/all")).status).toBe(404);
  });

  describe("OPTIONS never runs an action", () => {
    const preflight = (method: string, extra: Record<string, string> = {}) => ({
      "access-control-request-method": method,
      "content-type": "application/json",
      ...extra,
    });

    it("with CORS off: 204 without CORS headers, and register, orders and delete do nothing", async () => {
      const email = `options-${Date.now()}@example.com`;
      const reg = await sys.http.request("OPTIONS", "/api/auth/register", {
        headers: preflight("POST"),
        json: { email, password: "password-123", name: "Options" },
      });
      expect(reg.status).toBe(204);
      expect(reg.headers.get("access-control-allow-origin")).toBeNull();
      expect((await login(email, "password-123")).status).toBe(401);

      const before = await ordersOf(customer.token);
      const order = await sys.http.request("OPTIONS", "/api/orders", {
        token: customer.token,
        headers: preflight("POST"),
        json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
      });
      expect(order.status).toBe(204);
      expect(await ordersOf(customer.token)).toBe(before);

      const del = await sys.http.request("OPTIONS", `/api/products/${product.id}`, {
        token: admin,
        headers: preflight("DELETE"),
      });
      expect(del.status).toBe(204);
      expect(del.headers.get("allow")).toBe("GET, PATCH, DELETE, OPTIONS");
      expect((await sys.http.get(`/api/products/${product.id}`)).status).toBe(200);
      expect((await sys.http.request("OPTIONS", "/api/nowhere")).status).toBe(404);
    });

    it("with CORS on: answers the preflight only, and nothing is registered or deleted", async () => {
      const saved = { cors: process.env.CORS_ORIGINS, namespace: process.env.NAMESPACE };
      process.env.CORS_ORIGINS = "https://shop.example.com";
      let cors: TestSystem | undefined;
      try {
        // The gateway reads CORS_ORIGINS when its module loads: a fresh copy of the modules,
        // whose node ids start again, so on a transporter it gets a namespace of its own.
        process.env.NAMESPACE = `${saved.namespace ?? "t"}-cors`;
        await jest.isolateModulesAsync(async () => {
          const fresh = await import("../helpers/system");
          cors = await fresh.startSystem();
        });
      } finally {
        for (const [key, value] of [
          ["CORS_ORIGINS", saved.cors],
          ["NAMESPACE", saved.namespace],
        ] as const) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
      try {
        const corsAdmin = await cors!.adminToken();
        const mine = await createProduct(cors!.http, corsAdmin, 1);
        const email = `cors-${Date.now()}@example.com`;
        const origin = { origin: "https://shop.example.com" };
        const reg = await cors!.http.request("OPTIONS", "/api/auth/register", {
          headers: preflight("POST", origin),
          json: { email, password: "password-123", name: "Cors" },
        });
        expect(reg.status).toBe(204);
        expect(reg.headers.get("access-control-allow-origin")).toBe("https://shop.example.com");
        const del = await cors!.http.request("OPTIONS", `/api/products/${mine.id}`, {
          token: corsAdmin,
          headers: preflight("DELETE", origin),
        });
        expect(del.status).toBe(204);
        const relogin = await cors!.http.post("/api/auth/login", {
          json: { email, password: "password-123" },
        });
        expect(relogin.status).toBe(401);
        expect((await cors!.http.get(`/api/products/${mine.id}`)).status).toBe(200);
      } finally {
        await cors!.stop();
      }
    });
  });

  describe("null is refused unless the contract says nullable", () => {
    const fields = routedFields().filter((f) => f.rule.nullable !== true);

    it.each(fields)("422 for null in $field of $alias", async ({ action, method, path, field }) => {
      if (isRead(method)) {
        // A query string cannot carry null; an internal caller (or a GET body) can.
        await expect(sys.broker.call(action, { [field]: null })).rejects.toMatchObject({
          code: 422,
          data: expect.arrayContaining([expect.objectContaining({ field })]),
        });
        return;
      }
      const url = `/api${path.replace(/:\w+/g, product.id)}`;
      const res = await sys.http.request<ErrorBody>(method, url, {
        token: admin,
        json: { [field]: null },
      });
      expect(res.status).toBe(422);
      expectContractError(res.body, 422, "VALIDATION_ERROR");
      expect(res.body.data!.map((d) => d.field)).toContain(field);
    });

    it("a null price, stock or name changes nothing, and the product still sells at its price", async () => {
      for (const field of ["price", "stock", "name", "description"]) {
        const res = await sys.http.patch(`/api/products/${product.id}`, {
          token: admin,
          json: { [field]: null },
        });
        expect([field, res.status]).toEqual([field, 422]);
      }
      const now = await productNow();
      expect(now).toMatchObject({ price: 500, name: "Thing" });
      expect(typeof now.stock).toBe("number");

      const placed = await sys.http.post<Order>("/api/orders", {
        token: customer.token,
        json: { items: [{ productId: product.id, quantity: 2 }], paymentToken: "tok_visa" },
      });
      expect(placed.status).toBe(201);
      expect(placed.body.total).toBe(1000);
      const done = await waitForOrder(sys.http, customer.token, placed.body.id, (o) =>
        ["confirmed", "cancelled"].includes(o.status),
      );
      expect(done).toMatchObject({ status: "confirmed", total: 1000 });
    });

    it("422 (not 500) for a null password, and the password still works", async () => {
      const res = await sys.http.patch<ErrorBody>("/api/users/me", {
        token: customer.token,
        json: { password: null, currentPassword: "password-123" },
      });
      expect(res.status).toBe(422);
      expect((await login(customer.email, "password-123")).status).toBe(200);
    });

    it("422 for a null quantity inside an order line", async () => {
      const res = await sys.http.post<ErrorBody>("/api/orders", {
        token: customer.token,
        json: { items: [{ productId: product.id, quantity: null }], paymentToken: "tok_visa" },
      });
      expect(res.status).toBe(422);
      expect(res.body.data!.map((d) => d.field)).toContain("items[0].quantity");
    });
  });

  describe("arrays where a scalar is expected", () => {
    const scalars = routedFields().filter((f) => (f.rule.type ?? "") in SCALAR_SAMPLES);

    it.each(scalars)("422 for [x] in $field of $alias", async ({ method, path, field, rule }) => {
      const url = `/api${path.replace(/:\w+/g, product.id)}`;
      const sample = SCALAR_SAMPLES[rule.type!];
      const res = isRead(method)
        ? await sys.http.get<ErrorBody>(`${url}?${field}[]=${String(sample)}`, { token: admin })
        : await sys.http.request<ErrorBody>(method, url, {
            token: admin,
            json: { [field]: [sample] },
          });
      expect(res.status).toBe(422);
      expectContractError(res.body, 422, "VALIDATION_ERROR");
      expect(res.body.data!.map((d) => d.field)).toContain(field);
    });

    it("422 for ?minPrice[]=5 and ?page[]=2 on the catalog", async () => {
      expect((await sys.http.get("/api/products?minPrice[]=5")).status).toBe(422);
      expect((await sys.http.get("/api/products?page[]=2")).status).toBe(422);
      expect((await sys.http.get("/api/products?minPrice=5")).status).toBe(200);
    });

    it("422 for quantity [2] in an order line, and no order is placed", async () => {
      const before = await ordersOf(customer.token);
      const res = await sys.http.post<ErrorBody>("/api/orders", {
        token: customer.token,
        json: { items: [{ productId: product.id, quantity: [2] }], paymentToken: "tok_visa" },
      });
      expect(res.status).toBe(422);
      expect(res.body.data!.map((d) => d.field)).toContain("items[0].quantity");
      expect(await ordersOf(customer.token)).toBe(before);
    });
  });

  describe("__proto__, constructor and prototype keys", () => {
    it("a password inside __proto__ does not change the password", async () => {
      const res = await sys.http.patch("/api/users/me", {
        token: customer.token,
        raw: '{"name":"Proto","__proto__":{"password":"hijacked-pass-1","currentPassword":"password-123"}}',
      });
      expect(res.status).toBeLessThan(500);
      expect((await login(customer.email, "hijacked-pass-1")).status).toBe(401);
      expect((await login(customer.email, "password-123")).status).toBe(200);
    });

    it("a whole registration or order inside __proto__ is no registration or order", async () => {
      const email = `proto-reg-${Date.now()}@example.com`;
      const reg = await sys.http.post("/api/auth/register", {
        raw: `{"__proto__":{"email":"${email}","password":"password-123","name":"Proto"}}`,
      });
      expect(reg.status).toBe(422);
      expect((await login(email, "password-123")).status).toBe(401);

      const before = await ordersOf(customer.token);
      const order = await sys.http.post("/api/orders", {
        token: customer.token,
        raw: `{"__proto__":{"items":[{"productId":"${product.id}","quantity":1}],"paymentToken":"tok_visa"}}`,
      });
      expect(order.status).toBe(422);
      expect(await ordersOf(customer.token)).toBe(before);
    });

    it("drops the three keys at any depth before anything reads the body", async () => {
      // The gateway's own parser, on a real socket, with an echo behind it.
      const parse = jsonBody("100kb");
      const server: Server = createServer((req, res) => {
        parse(req, res, (err) => {
          res.end(JSON.stringify(err ? { error: true } : (req as { body?: unknown }).body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const body =
          '{"a":{"__proto__":{"x":1},"b":[{"constructor":{"prototype":{"y":2}},"c":3}],' +
          '"prototype":4},"constructor":5,"keep":6}';
        const res = await fetch(`http://127.0.0.1:${port}/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        expect(await res.text()).toBe('{"a":{"b":[{"c":3}]},"keep":6}');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe("deeply nested bodies", () => {
    it(`400 past ${MAX_BODY_DEPTH} levels, validated as usual at ${MAX_BODY_DEPTH}`, async () => {
      const deep = await sys.http.post<ErrorBody>("/api/auth/login", {
        raw: nestedLogin(MAX_BODY_DEPTH + 1),
      });
      expect(deep.status).toBe(400);
      expectContractError(deep.body, 400, "INVALID_REQUEST");
      // At the limit the body is read; the unknown `x` is dropped and the login just fails.
      expect(
        (await sys.http.post("/api/auth/login", { raw: nestedLogin(MAX_BODY_DEPTH) })).status,
      ).toBe(401);
    });

    it("400 (not 500) for 5,000 levels, brackets inside strings not counted", async () => {
      const res = await sys.http.post("/api/auth/register", {
        raw: `{"email":"deep@example.com","x":${"[".repeat(5000)}${"]".repeat(5000)}}`,
      });
      expect(res.status).toBe(400);
      const inString = await sys.http.post("/api/auth/login", {
        json: { email: "a@example.com", password: "[".repeat(40) + "{".repeat(40) },
      });
      expect(inString.status).toBe(401);
    });
  });

  describe("body-parser failures are 400, 413 or 415", () => {
    const loginBody = JSON.stringify({ email: "a@example.com", password: "password-123" });
    const send = (headers: Record<string, string>, body: Buffer | string) =>
      fetch(`${sys.baseUrl}/api/auth/login`, { method: "POST", headers, body });

    it("400 for Content-Encoding: gzip with a body that is not gzip", async () => {
      const res = await send(
        { "content-type": "application/json", "content-encoding": "gzip" },
        loginBody,
      );
      expect(res.status).toBe(400);
      expectContractError(await res.json(), 400, "INVALID_REQUEST");
    });

    it("reads a real gzip body (the baseline)", async () => {
      const res = await send(
        { "content-type": "application/json", "content-encoding": "gzip" },
        gzipSync(loginBody),
      );
      expect(res.status).toBe(401);
    });

    it("415 for an unsupported content encoding or charset", async () => {
      const encoding = await send(
        { "content-type": "application/json", "content-encoding": "compress" },
        loginBody,
      );
      expect(encoding.status).toBe(415);
      expectContractError(await encoding.json(), 415, "INVALID_REQUEST");
      const charset = await send({ "content-type": "application/json; charset=latin1" }, loginBody);
      expect(charset.status).toBe(415);
    });

    it("415 for a body that is not application/json", async () => {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
        const res = await send({ "content-type": type }, loginBody);
        expect([type, res.status]).toEqual([type, 415]);
        expectContractError(await res.json(), 415, "INVALID_REQUEST");
      }
    });
  });

  describe("query parameters never fill a body", () => {
    it("no login from the query string", async () => {
      const q = new URLSearchParams({ email: customer.email, password: "password-123" });
      const res = await sys.http.post<{ token?: string }>(`/api/auth/login?${q}`);
      expect(res.status).toBe(422);
      expect(res.body.token).toBeUndefined();
      const withBody = await sys.http.post(`/api/auth/login?password=wrong-password`, {
        json: { email: customer.email, password: "password-123" },
      });
      expect(withBody.status).toBe(200);
    });

    it("no registration or order from the query string", async () => {
      const email = `query-${Date.now()}@example.com`;
      const q = new URLSearchParams({ email, password: "password-123", name: "Query" });
      expect((await sys.http.post(`/api/auth/register?${q}`, { json: {} })).status).toBe(422);
      expect((await login(email, "password-123")).status).toBe(401);

      const before = await ordersOf(customer.token);
      const order = await sys.http.post("/api/orders?paymentToken=tok_visa", {
        token: customer.token,
        json: { items: [{ productId: product.id, quantity: 1 }] },
      });
      expect(order.status).toBe(422);
      expect(await ordersOf(customer.token)).toBe(before);
    });

    it("GET routes still read the query and writes still read their :id", async () => {
      const page = await sys.http.get<{ pageSize: number }>("/api/products?pageSize=1");
      expect(page.body.pageSize).toBe(1);
      const res = await sys.http.patch<Product>(`/api/products/${product.id}?price=1`, {
        token: admin,
        json: { stock: 40 },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: product.id, stock: 40, price: 500 });
    });
  });

  describe("paging params are bounded integers", () => {
    const lists = ["/api/products", "/api/orders", "/api/notifications", "/api/payments"];

    it.each(lists)(
      "422 on %s for page=9e35, a page past the last, fractions and bad sizes",
      async (list) => {
        const get = (query: string) =>
          sys.http.get<ErrorBody>(`${list}?${query}`, { token: customer.token });
        for (const query of [
          "page=9e35",
          `page=${MAX_PAGE + 1}`,
          "page=0",
          "page=1.5",
          "pageSize=0",
          "pageSize=101",
          "pageSize=2.5",
        ]) {
          const res = await get(query);
          expect([query, res.status]).toEqual([query, 422]);
          expectContractError(res.body, 422, "VALIDATION_ERROR");
        }
        for (const query of [`page=${MAX_PAGE}`, "pageSize=100", "page=1&pageSize=1"]) {
          expect([query, (await get(query)).status]).toEqual([query, 200]);
        }
      },
    );
  });

  it("keeps the admin able to log in after every attack above", async () => {
    const { adminEmail, adminPassword } = config().auth;
    expect((await login(adminEmail!, adminPassword!)).status).toBe(200);
  });
});
