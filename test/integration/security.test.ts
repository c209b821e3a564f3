/**
 * One case per attack on the only door, each asserting the exact status the contract promises
 * (API.md, "Errors"). Runs in the embedded default and, unchanged, against NATS, Redis and a
 * Mongo-wire database in the stack run.
 */
import { SignJWT } from "jose";
import type { ActionSchema } from "moleculer";
import { config } from "../../lib/config";
import { API_ALIASES } from "../../services/api.service";
import { SERVICE_SCHEMAS } from "../../services";
import { startSystem, type TestSystem } from "../helpers/system";
import { expectContractError, type ErrorBody } from "../helpers/contract-errors";

interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
}
interface Product {
  id: string;
  name: string;
  price: number;
  stock: number;
}

const UNAUTHORIZED = { code: 401, type: "UNAUTHORIZED", name: "UnauthorizedError" };

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Every (route, non-path param) pair of the contract, from the services' own param schemas. */
function paramFields(): Array<{ alias: string; method: string; path: string; field: string }> {
  return Object.entries(API_ALIASES).flatMap(([alias, action]) => {
    const [service, name] = action.split(".");
    const schema = SERVICE_SCHEMAS[service]?.actions?.[name];
    const params = typeof schema === "object" && schema ? (schema as ActionSchema).params : {};
    const [method, path] = alias.split(" ");
    const inPath = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    return Object.keys(params ?? {})
      .filter((field) => !field.startsWith("$$") && !inPath.includes(field))
      .map((field) => ({ alias, method, path, field }));
  });
}

describe("security", () => {
  let sys: TestSystem;
  let admin: string;
  let adminId: string;
  let customer: { token: string; id: string; email: string };
  let product: Product;
  const secret = new TextEncoder().encode(config().auth.jwtSecret);
  const issuer = config().auth.jwtIssuer;

  beforeAll(async () => {
    sys = await startSystem();
    admin = await sys.adminToken();
    adminId = (await sys.http.get<User>("/api/users/me", { token: admin })).body.id;
    customer = await sys.customer("sec");
    product = (
      await sys.http.post<Product>("/api/products", {
        token: admin,
        json: { sku: "SEC-1", name: "Guarded", price: 500, stock: 3 },
      })
    ).body;
  });
  afterAll(() => sys.stop());

  const me = (token?: string, headers?: Record<string, string>) =>
    sys.http.get<ErrorBody>("/api/users/me", { token, headers });

  describe("tokens", () => {
    it("accepts a valid token (the baseline the attacks below differ from)", async () => {
      expect((await me(customer.token)).status).toBe(200);
    });

    it("401 without a token", async () => {
      const res = await me();
      expect(res.status).toBe(401);
      expectContractError(res.body, 401, "UNAUTHORIZED");
    });

    it("401 for an Authorization header that is not a bearer token", async () => {
      const res = await me(undefined, { authorization: `Basic ${btoa("admin:admin")}` });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject(UNAUTHORIZED);
    });

    it("401 for a malformed token", async () => {
      const res = await me("not-a.jwt.at-all");
      expect(res.status).toBe(401);
      expectContractError(res.body, 401, "UNAUTHORIZED");
    });

    it("401 (not 422) for an absurdly long token", async () => {
      expect((await me("a".repeat(10_000))).status).toBe(401);
    });

    it("401 for an expired token signed with the right key", async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ roles: ["customer", "admin"] })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(adminId)
        .setIssuer(issuer)
        .setIssuedAt(now - 7200)
        .setExpirationTime(now - 3600)
        .sign(secret);
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject(UNAUTHORIZED);
    });

    it("401 for a token signed with another key", async () => {
      const token = await new SignJWT({ roles: ["customer", "admin"] })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(adminId)
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode("another-secret-that-is-at-least-32-characters"));
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject(UNAUTHORIZED);
    });

    it("401 for a token from another issuer", async () => {
      const token = await new SignJWT({ roles: ["customer"] })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(customer.id)
        .setIssuer("someone-else")
        .setExpirationTime("1h")
        .sign(secret);
      expect((await me(token)).status).toBe(401);
    });

    it("401 for an unsigned `alg: none` token claiming the admin role", async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = `${base64url({ alg: "none", typ: "JWT" })}.${base64url({
        sub: adminId,
        roles: ["customer", "admin"],
        iss: issuer,
        iat: now,
        exp: now + 3600,
      })}.`;
      const res = await sys.http.post<ErrorBody>("/api/products", {
        token,
        json: { sku: "NONE-1", name: "x", price: 1, stock: 1 },
      });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject(UNAUTHORIZED);
    });
  });

  describe("a customer on admin routes", () => {
    it("403 for POST /api/products", async () => {
      const res = await sys.http.post<ErrorBody>("/api/products", {
        token: customer.token,
        json: { sku: "CUST-1", name: "Mine now", price: 1, stock: 1 },
      });
      expect(res.status).toBe(403);
      expectContractError(res.body, 403, "FORBIDDEN");
      const list = await sys.http.get<{ rows: Product[] }>("/api/products?q=Mine%20now");
      expect(list.body.rows).toHaveLength(0);
    });

    it("403 for PATCH /api/products/:id, and the product is unchanged", async () => {
      const res = await sys.http.patch(`/api/products/${product.id}`, {
        token: customer.token,
        json: { price: 1 },
      });
      expect(res.status).toBe(403);
      expect((await sys.http.get<Product>(`/api/products/${product.id}`)).body.price).toBe(500);
    });

    it("403 for DELETE /api/products/:id, and the product is still there", async () => {
      const res = await sys.http.del(`/api/products/${product.id}`, { token: customer.token });
      expect(res.status).toBe(403);
      expect((await sys.http.get(`/api/products/${product.id}`)).status).toBe(200);
    });

    it("403 on every alias whose action requires an admin, 401 anonymously", async () => {
      const admins = sys.broker.registry
        .getActionList({})
        .filter((a) => a.action?.auth === "admin")
        .map((a) => a.name);
      const routes = Object.entries(API_ALIASES).filter(([, action]) => admins.includes(action));
      // API.md's admin routes, written out: an action that lost its `auth: "admin"` would drop
      // out of the list above without this.
      expect(routes.map(([alias]) => alias).sort()).toEqual(
        [
          "DELETE /products/:id",
          "PATCH /products/:id",
          "POST /products",
          "GET /admin/nodes",
          "GET /admin/stream",
          "GET /admin/actions",
          "GET /admin/orders/board",
          "POST /admin/orders/:id/redrive",
          "GET /admin/faults",
          "PUT /admin/faults/:target",
          "DELETE /admin/faults/:target",
          "DELETE /admin/faults",
        ].sort(),
      );
      for (const [alias] of routes) {
        const [method, path] = alias.split(" ");
        const url = `/api${path.replace(/:\w+/g, product.id)}`;
        const json = method === "GET" ? undefined : {};
        const asCustomer = await sys.http.request(method, url, { token: customer.token, json });
        const anonymous = await sys.http.request(method, url, { json });
        expect([alias, asCustomer.status, anonymous.status]).toEqual([alias, 403, 401]);
      }
    });
  });

  describe("Mongo operators where a scalar is expected", () => {
    it.each(paramFields())(
      "422 for {$gt: ''} in $field of $alias",
      async ({ method, path, field }) => {
        const url = `/api${path.replace(/:\w+/g, product.id)}`;
        const res =
          method === "GET" || method === "DELETE"
            ? await sys.http.request<ErrorBody>(method, `${url}?${field}[$gt]=`, { token: admin })
            : await sys.http.request<ErrorBody>(method, url, {
                token: admin,
                json: { [field]: { $gt: "" } },
              });
        expect(res.status).toBe(422);
        expectContractError(res.body, 422, "VALIDATION_ERROR");
        expect(res.body.data!.map((d) => d.field)).toContain(field);
      },
    );

    it("422 for q[$ne]= on the product search", async () => {
      const res = await sys.http.get<ErrorBody>("/api/products?q[$ne]=nothing");
      expect(res.status).toBe(422);
      expect(res.body.data!.map((d) => d.field)).toEqual(["q"]);
    });

    it("422 for q[$regex]=.* on the product search", async () => {
      expect((await sys.http.get("/api/products?q[$regex]=.*")).status).toBe(422);
    });

    it("422 for a $where in a body field", async () => {
      const res = await sys.http.patch<ErrorBody>(`/api/products/${product.id}`, {
        token: admin,
        json: { name: { $where: "this.price > 0" } },
      });
      expect(res.status).toBe(422);
      expect((await sys.http.get<Product>(`/api/products/${product.id}`)).body.name).toBe(
        "Guarded",
      );
    });

    it("422 for an email object at login, never a session", async () => {
      const res = await sys.http.post<ErrorBody>("/api/auth/login", {
        json: { email: { $gt: "" }, password: { $gt: "" } },
      });
      expect(res.status).toBe(422);
      expect(res.body.data!.map((d) => d.field).sort()).toEqual(["email", "password"]);
      expect(res.body).not.toHaveProperty("token");
    });

    it("422 for an email object at register", async () => {
      const res = await sys.http.post<ErrorBody>("/api/auth/register", {
        json: { email: { $regex: ".*" }, password: "password-123", name: "x" },
      });
      expect(res.status).toBe(422);
    });

    it("ignores operator keys at the top level of a body: a wrong password stays a 401", async () => {
      const res = await sys.http.post("/api/auth/login", {
        json: { email: customer.email, password: "wrong-password", $where: "1 == 1", $ne: "" },
      });
      expect(res.status).toBe(401);
    });

    it("ignores unknown query keys such as a raw `query` or `$where` on the list", async () => {
      const plain = await sys.http.get<{ total: number }>("/api/products");
      const res = await sys.http.get<{ total: number }>(
        "/api/products?query[price][$gt]=0&$where=sleep(100)",
      );
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(plain.body.total);
    });

    it("an operator in the query cannot replace a path id", async () => {
      const res = await sys.http.get(`/api/products/missing?id[$ne]=missing`);
      expect(res.status).toBe(404);
    });
  });

  describe("privilege fields in bodies", () => {
    it("ignores roles and id at register: a customer is made, never an admin", async () => {
      const email = `priv-${Date.now()}@example.com`;
      const res = await sys.http.post<{ user: User; token: string }>("/api/auth/register", {
        json: {
          email,
          password: "password-123",
          name: "Mallory",
          roles: ["admin"],
          id: adminId,
          _id: adminId,
        },
      });
      expect(res.status).toBe(201);
      expect(res.body.user.roles).toEqual(["customer"]);
      expect(res.body.user.id).not.toBe(adminId);
      const mine = await sys.http.get<User>("/api/users/me", { token: res.body.token });
      expect(mine.body).toMatchObject({ email, roles: ["customer"] });
      expect(mine.body.id).not.toBe(adminId);
      const write = await sys.http.post("/api/products", {
        token: res.body.token,
        json: { sku: "PRIV-1", name: "x", price: 1, stock: 1 },
      });
      expect(write.status).toBe(403);
    });

    it("ignores a __proto__ carrying roles at register", async () => {
      const email = `proto-${Date.now()}@example.com`;
      const res = await sys.http.post<{ user: User; token: string }>("/api/auth/register", {
        raw: `{"email":"${email}","password":"password-123","name":"Proto","__proto__":{"roles":["admin"]}}`,
      });
      expect(res.status).toBe(201);
      const mine = await sys.http.get<User>("/api/users/me", { token: res.body.token });
      expect(mine.body.roles).toEqual(["customer"]);
    });

    it("ignores roles, id and email in PATCH /api/users/me", async () => {
      const res = await sys.http.patch<User>("/api/users/me", {
        token: customer.token,
        json: { name: "Renamed", roles: ["admin"], id: adminId, email: "admin@example.com" },
      });
      expect(res.status).toBe(200);
      const mine = await sys.http.get<User>("/api/users/me", { token: customer.token });
      expect(mine.body).toMatchObject({
        id: customer.id,
        email: customer.email,
        name: "Renamed",
        roles: ["customer"],
      });
      const adminView = await sys.http.get<User>("/api/users/me", { token: admin });
      expect(adminView.body.email).toBe(config().auth.adminEmail);
    });
  });

  describe("moleculer-db's generic actions and internal services", () => {
    it.each([
      ["GET", "/api/products/find?query=%7B%7D"],
      ["GET", "/api/products/count"],
      ["GET", "/api/users"],
      ["GET", "/api/users/list"],
      ["GET", "/api/users/find?query[email][$ne]=x"],
      ["POST", "/api/users"],
      ["GET", "/api/users/ADMIN"],
      ["GET", "/api/users/resolveToken?token=x"],
      ["GET", "/api/~node/actions"],
      ["GET", "/api/$node/list"],
      ["GET", "/api/list-aliases"],
      ["GET", "/api/api/rest"],
    ])("404 for %s %s", async (method, url) => {
      const res = await sys.http.request<ErrorBody>(method, url.replace("ADMIN", adminId), {
        token: admin,
      });
      expect(res.status).toBe(404);
      expectContractError(res.body, 404, "NOT_FOUND");
    });

    it("registers none of moleculer-db's generic actions that no alias names", () => {
      const names = sys.broker.registry.getActionList({}).map((a) => a.name);
      const routed = new Set(Object.values(API_ALIASES));
      const generic = ["find", "list", "count", "insert", "create", "get", "update", "remove"];
      const leftovers = ["users", "products"]
        .flatMap((service) => generic.map((action) => `${service}.${action}`))
        .filter((name) => !routed.has(name) && names.includes(name));
      expect(leftovers).toEqual([]);
    });
  });

  describe("request bodies", () => {
    it("400 for malformed JSON", async () => {
      const res = await sys.http.post<ErrorBody>("/api/auth/login", { raw: '{"email": "a@b.c",' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        name: "BadRequestError",
        message: "Malformed JSON body",
        code: 400,
        type: "INVALID_REQUEST",
      });
    });

    it("400 for a JSON body that is not an object or array", async () => {
      expect((await sys.http.post("/api/auth/login", { raw: '"just a string"' })).status).toBe(400);
    });

    it("413 for a body over the size limit", async () => {
      const res = await sys.http.post<ErrorBody>("/api/auth/register", {
        json: { email: "big@example.com", password: "password-123", name: "x".repeat(200_000) },
      });
      expect(res.status).toBe(413);
      expectContractError(res.body, 413, "INVALID_REQUEST");
    });
  });

  describe("login", () => {
    it("answers a wrong password and an unknown email identically", async () => {
      const wrongPassword = await sys.http.post("/api/auth/login", {
        json: { email: customer.email, password: "not-the-password" },
      });
      const unknownEmail = await sys.http.post("/api/auth/login", {
        json: { email: `nobody-${Date.now()}@example.com`, password: "not-the-password" },
      });
      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(wrongPassword.body).toEqual({
        name: "UnauthorizedError",
        message: "Invalid email or password",
        code: 401,
        type: "UNAUTHORIZED",
      });
    });
  });
});
