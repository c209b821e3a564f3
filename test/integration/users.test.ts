/**
 * Accounts through HTTP (API.md, "Auth"): a password change, a second registration with the
 * same email, and the gateway's memory of verified tokens.
 */
import type { Middleware, ServiceBroker } from "moleculer";
import { selectServices } from "../../services";
import { startSystem, type TestSystem } from "../helpers/system";
import { startTuned, type TunedSystem } from "../helpers/tuned-system";
import { waitFor } from "../helpers/wait";

interface Session {
  token: string;
  user: { id: string; email: string; name: string };
}

describe("accounts through the gateway", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await startSystem(["api", "users"]);
  });
  afterAll(() => sys?.stop());

  const register = (email: string, password = "password-123", name = "Ann") =>
    sys.http.post<Session>("/api/auth/register", { json: { email, password, name } });
  const login = (email: string, password: string) =>
    sys.http.post<Session>("/api/auth/login", { json: { email, password } });

  it("changes the password: the new one logs in, the old one no longer does", async () => {
    const email = `pw-${Date.now()}@example.com`;
    const registered = await register(email, "old-password-1");
    expect(registered.status).toBe(201);

    const changed = await sys.http.patch<Session["user"]>("/api/users/me", {
      token: registered.body.token,
      json: { currentPassword: "old-password-1", password: "new-password-2" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: registered.body.user.id, email });
    expect(changed.body).not.toHaveProperty("passwordHash");

    const fresh = await login(email, "new-password-2");
    expect(fresh.status).toBe(200);
    expect(fresh.body.user.id).toBe(registered.body.user.id);
    expect((await sys.http.get("/api/users/me", { token: fresh.body.token })).status).toBe(200);
    expect(await login(email, "old-password-1")).toMatchObject({
      status: 401,
      body: { code: 401, type: "UNAUTHORIZED" },
    });
  });

  it("refuses a PATCH of /users/me with no known field with 422, as its schema says (minProperties)", async () => {
    const registered = await register(`empty-${Date.now()}@example.com`);
    for (const json of [{}, { nickname: "x" }]) {
      const res = await sys.http.patch("/api/users/me", { token: registered.body.token, json });
      expect(res).toMatchObject({ status: 422, body: { type: "VALIDATION_ERROR" } });
    }
    const doc = await sys.http.get<{
      paths: Record<
        string,
        {
          patch: {
            requestBody: { content: Record<string, { schema: { minProperties?: number } }> };
          };
        }
      >;
    }>("/api/openapi.json");
    expect(
      doc.body.paths["/api/users/me"].patch.requestBody.content["application/json"].schema
        .minProperties,
    ).toBe(1);
  });

  it("refuses a second registration with the same email with 409 and keeps the first account", async () => {
    const email = `dup-${Date.now()}@example.com`;
    const first = await register(email, "first-password", "First");
    expect(first.status).toBe(201);
    const second = await register(email, "second-password", "Second");
    expect(second).toMatchObject({ status: 409, body: { code: 409, type: "CONFLICT" } });
    expect(second.body).not.toHaveProperty("token");

    expect((await login(email, "second-password")).status).toBe(401);
    const kept = await login(email, "first-password");
    expect(kept.status).toBe(200);
    expect(kept.body.user).toMatchObject({ id: first.body.user.id, name: "First" });
  });
});

describe("the gateway's token cache", () => {
  const TOKEN_LIFETIME = "3s";
  let sys: TunedSystem;
  /** users.resolveToken calls made through the broker (by the gateway), cached or not. */
  let resolveCalls = 0;

  const CountResolveCalls = {
    name: "CountResolveCalls",
    call(next: ServiceBroker["call"]) {
      return ((action: string, ...rest: unknown[]) => {
        if (action === "users.resolveToken") resolveCalls++;
        return (next as (...args: unknown[]) => unknown)(action, ...rest);
      }) as ServiceBroker["call"];
    },
  } as unknown as Middleware;

  beforeAll(async () => {
    sys = await startTuned(selectServices(["api", "users"]), {
      middlewares: [CountResolveCalls],
      env: { JWT_EXPIRES_IN: TOKEN_LIFETIME },
    });
  });
  afterAll(() => sys?.stop());

  it("answers a repeated token without asking the users service, and asks again after its exp", async () => {
    const registered = await sys.http.post<Session>("/api/auth/register", {
      json: { email: `cache-${Date.now()}@example.com`, password: "password-123", name: "C" },
    });
    expect(registered.status).toBe(201);
    const { token } = registered.body;
    const exp = (
      JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as { exp: number }
    ).exp;

    const before = resolveCalls;
    expect((await sys.http.get("/api/users/me", { token })).status).toBe(200);
    expect(resolveCalls - before).toBe(1);
    expect((await sys.http.get("/api/users/me", { token })).status).toBe(200);
    expect((await sys.http.get("/api/users/me", { token })).status).toBe(200);
    expect(resolveCalls - before).toBe(1);

    // Past the token's own exp the gateway's memory of it is gone: it asks again.
    await waitFor(
      async () => Date.now(),
      (now) => now > exp * 1000,
      10_000,
      100,
    );
    await sys.http.get("/api/users/me", { token });
    expect(resolveCalls - before).toBe(2);
  });
});
