/**
 * Tokens and accounts against an attacker (issue "Hardening", API.md "Hardening"): no cache
 * extends a token past `exp`, a token must carry `exp`, a password change, a role change and a
 * deleted user end earlier tokens, a password change needs the current password, emails are
 * normalised before they are compared, and lengths count characters. Runs in the embedded
 * default and, unchanged, in the stack run.
 */
import { SignJWT } from "jose";
import { config, resetConfig } from "../../lib/config";
import type { Store } from "../../mixins/db.mixin";
import { startSystem, type TestSystem } from "../helpers/system";
import { createProduct, type Product } from "../helpers/shop";
import { waitFor } from "../helpers/wait";

interface ErrorBody {
  code: number;
  type: string;
  data?: Array<{ field: string; type: string }>;
}
interface Session {
  token: string;
  user: { id: string; email: string; name: string; roles: string[] };
}

const PASSWORD = "password-123";
let seq = 0;

describe("tokens and accounts (security)", () => {
  let sys: TestSystem;
  let admin: string;
  let product: Product;
  const secret = new TextEncoder().encode(config().auth.jwtSecret);
  const issuer = config().auth.jwtIssuer;

  beforeAll(async () => {
    sys = await startSystem();
    admin = await sys.adminToken();
    product = await createProduct(sys.http, admin, 100);
  });
  afterAll(() => sys.stop());

  const storeOf = (service: string) => (sys.service(service) as unknown as { store: Store }).store;

  const uniqueEmail = (prefix: string) =>
    `${prefix}-${process.pid}-${Date.now()}-${++seq}@example.com`;

  async function register(email: string, name = "Tester"): Promise<Session> {
    const res = await sys.http.post<Session>("/api/auth/register", {
      json: { email, password: PASSWORD, name },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  const me = (token: string) => sys.http.get<ErrorBody>("/api/users/me", { token });

  /** A token signed with the system's own key, with the claims the case needs. */
  function signed(
    userId: string,
    claims: { exp?: number; nbf?: number; ver?: number } = {},
  ): Promise<string> {
    const { exp, nbf, ver = 0 } = claims;
    const jwt = new SignJWT({ ver })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(userId)
      .setIssuer(issuer)
      .setIssuedAt();
    if (exp !== undefined) jwt.setExpirationTime(exp);
    if (nbf !== undefined) jwt.setNotBefore(nbf);
    return jwt.sign(secret);
  }

  describe("expiry", () => {
    it("401 for a token used before and then past its exp: no cache extends it", async () => {
      const { user } = await register(uniqueEmail("exp"));
      const exp = Math.floor(Date.now() / 1000) + 2;
      const token = await signed(user.id, { exp });
      // Used (and so remembered by every cache on the way) while valid...
      expect((await me(token)).status).toBe(200);
      expect((await me(token)).status).toBe(200);
      // ...then past exp, long before any cache's TTL would end.
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 401, type: "UNAUTHORIZED" });
    });

    it("401 for a validly signed token without exp", async () => {
      const { user } = await register(uniqueEmail("noexp"));
      expect((await me(await signed(user.id))).status).toBe(401);
    });

    it("401 for a token whose nbf is in the future", async () => {
      const { user } = await register(uniqueEmail("nbf"));
      const now = Math.floor(Date.now() / 1000);
      const token = await signed(user.id, { exp: now + 3600, nbf: now + 600 });
      expect((await me(token)).status).toBe(401);
    });
  });

  describe("tokens end with the credentials they were issued for", () => {
    it("a password change ends the earlier tokens; the new password's token works", async () => {
      const email = uniqueEmail("pw");
      const first = await register(email);
      const login = await sys.http.post<Session>("/api/auth/login", {
        json: { email, password: PASSWORD },
      });
      expect(login.status).toBe(200);
      expect((await me(first.token)).status).toBe(200);
      expect((await me(login.body.token)).status).toBe(200);

      const changed = await sys.http.patch("/api/users/me", {
        token: first.token,
        json: { password: "new-password-456", currentPassword: PASSWORD },
      });
      expect(changed.status).toBe(200);

      for (const old of [first.token, login.body.token]) {
        expect((await me(old)).status).toBe(401);
        expect((await sys.http.get("/api/orders", { token: old })).status).toBe(401);
      }
      const relogin = await sys.http.post<Session>("/api/auth/login", {
        json: { email, password: "new-password-456" },
      });
      expect(relogin.status).toBe(200);
      expect((await me(relogin.body.token)).status).toBe(200);
    });

    it("a role change (the admin promotion at start) ends the earlier tokens", async () => {
      const email = uniqueEmail("promoted");
      const customer = await register(email);
      expect((await me(customer.token)).status).toBe(200);

      // ADMIN_EMAIL names this existing customer: the users service promotes it, as at start.
      const saved = process.env.ADMIN_EMAIL;
      process.env.ADMIN_EMAIL = email;
      resetConfig();
      try {
        const users = sys.service("users") as unknown as {
          ensureAdmin(): Promise<void>;
        };
        await users.ensureAdmin();
      } finally {
        process.env.ADMIN_EMAIL = saved;
        resetConfig();
      }

      expect((await me(customer.token)).status).toBe(401);
      const login = await sys.http.post<Session>("/api/auth/login", {
        json: { email, password: PASSWORD },
      });
      expect(login.body.user.roles).toContain("admin");
      const asAdmin = await sys.http.post("/api/products", {
        token: login.body.token,
        json: { sku: `PROMO-${++seq}`, name: "Admin made", price: 1, stock: 1 },
      });
      expect(asAdmin.status).toBe(201);
    });

    it("a deleted user's token is 401 (never 404) and places no order", async () => {
      const { token, user } = await register(uniqueEmail("gone"));
      const order = await sys.http.post("/api/orders", {
        token,
        json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
      });
      expect(order.status).toBe(201);
      // A read: the gateway remembers the token. The profile is never read before the deletion,
      // so no cached profile answers for it below.
      expect((await sys.http.get("/api/orders", { token })).status).toBe(200);

      // Removed behind the users service's back: no event tells the gateways.
      expect(await storeOf("users").removeById(user.id)).toBe(true);
      // A write asks the users service even though the gateway remembers the token.
      const placed = await sys.http.post<ErrorBody>("/api/orders", {
        token,
        json: { items: [{ productId: product.id, quantity: 1 }], paymentToken: "tok_visa" },
      });
      expect(placed.status).toBe(401);
      expect(placed.body).toMatchObject({ code: 401, type: "UNAUTHORIZED" });
      // A read may pass the gateway's memory; the profile is then the users service's 401.
      const gone = await me(token);
      expect(gone.status).toBe(401);
      expect(gone.body).toMatchObject({ code: 401, type: "UNAUTHORIZED" });

      // Any read is refused once the gateway asks again: within its one-second bound.
      const started = Date.now();
      await waitFor(
        async () => (await sys.http.get("/api/orders", { token })).status,
        (status) => status === 401,
        3000,
      );
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await storeOf("orders").count({ userId: user.id })).toBe(1);
    });
  });

  describe("changing the password", () => {
    it("422 without currentPassword, 401 with a wrong one; the password is unchanged", async () => {
      const email = uniqueEmail("cur");
      const { token } = await register(email);
      const missing = await sys.http.patch<ErrorBody>("/api/users/me", {
        token,
        json: { password: "new-password-456" },
      });
      expect(missing.status).toBe(422);
      expect(missing.body.data?.map((d) => d.field)).toContain("currentPassword");

      const wrong = await sys.http.patch<ErrorBody>("/api/users/me", {
        token,
        json: { password: "new-password-456", currentPassword: "not-the-password" },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: 401, type: "UNAUTHORIZED" });

      const login = await sys.http.post("/api/auth/login", { json: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      expect((await me(token)).status).toBe(200);
    });
  });

  describe("emails", () => {
    it.each([
      ["a zero-width space", "\u200B"],
      ["a zero-width joiner", "\u200D"],
      ["a control character", "\u0007"],
      ["a right-to-left override", "\u202E"],
      ["a soft hyphen", "\u00AD"],
    ])("422 for an existing address with %s inserted, and no account", async (_, hidden) => {
      const email = uniqueEmail("lookalike");
      await register(email);
      const lookalike = `${email.slice(0, 3)}${hidden}${email.slice(3)}`;
      const users = storeOf("users");
      const before = await users.count({});
      const res = await sys.http.post<ErrorBody>("/api/auth/register", {
        json: { email: lookalike, password: PASSWORD, name: "Mallory" },
      });
      expect(res.status).toBe(422);
      expect(res.body.data?.map((d) => d.field)).toEqual(["email"]);
      expect(await users.count({})).toBe(before);
    });

    it("409 for the NFKC / case form of an existing address; login with it finds the account", async () => {
      const local = `nfkc${process.pid}${++seq}`;
      const { user } = await register(`${local}@example.com`);
      // Full-width letters (NFKC folds them), an upper-case domain and surrounding spaces.
      const fullWidth = [...local]
        .map((c) => (/[a-z]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c))
        .join("");
      const variant = `  ${fullWidth}@EXAMPLE.COM `;
      const dup = await sys.http.post("/api/auth/register", {
        json: { email: variant, password: PASSWORD, name: "Twin" },
      });
      expect(dup.status).toBe(409);
      const login = await sys.http.post<Session>("/api/auth/login", {
        json: { email: variant, password: PASSWORD },
      });
      expect(login.status).toBe(200);
      expect(login.body.user.id).toBe(user.id);
    });

    it("stores the address trimmed, NFKC-normalised and with the domain lower-cased", async () => {
      const local = `Norm${process.pid}${++seq}`;
      const { user } = await register(` ${local}@Ｅxample.COM `);
      expect(user.email).toBe(`${local}@example.com`);
    });
  });

  describe("lengths count characters", () => {
    const emoji = "\u{1F600}";

    it("a name of 100 astral-plane characters is accepted, 101 is 422", async () => {
      const ok = await register(uniqueEmail("len"), emoji.repeat(100));
      expect(ok.user.name).toBe(emoji.repeat(100));
      const tooLong = await sys.http.post<ErrorBody>("/api/auth/register", {
        json: { email: uniqueEmail("len"), password: PASSWORD, name: emoji.repeat(101) },
      });
      expect(tooLong.status).toBe(422);
      expect(tooLong.body.data?.map((d) => d.field)).toEqual(["name"]);
    });

    it("a password of 8 astral-plane characters is accepted (16 UTF-16 units, 8 characters)", async () => {
      const email = uniqueEmail("pwlen");
      const res = await sys.http.post("/api/auth/register", {
        json: { email, password: emoji.repeat(8), name: "Emoji" },
      });
      expect(res.status).toBe(201);
      const short = await sys.http.post<ErrorBody>("/api/auth/register", {
        json: { email: uniqueEmail("pwlen"), password: emoji.repeat(7), name: "Emoji" },
      });
      expect(short.status).toBe(422);
    });

    it("a product name of 200 astral-plane characters is accepted", async () => {
      const res = await sys.http.post<Product & { name: string }>("/api/products", {
        token: admin,
        json: { sku: `LEN-${++seq}`, name: emoji.repeat(200), price: 1, stock: 1 },
      });
      expect(res.status).toBe(201);
      expect(res.body.name).toBe(emoji.repeat(200));
    });

    it("the OpenAPI document gives the same limits, in characters", async () => {
      const doc = await sys.http.get<{
        paths: Record<
          string,
          Record<
            string,
            {
              requestBody: {
                content: { "application/json": { schema: { properties: Record<string, object> } } };
              };
            }
          >
        >;
      }>("/api/openapi.json");
      const body = doc.body.paths["/api/auth/register"].post.requestBody;
      const { properties } = body.content["application/json"].schema;
      expect(properties.name).toMatchObject({ type: "string", minLength: 1, maxLength: 100 });
      expect(properties.email).toMatchObject({ type: "string", format: "email", maxLength: 254 });
    });
  });
});
