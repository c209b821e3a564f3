/**
 * Password guessing through `PATCH /api/users/me` (`currentPassword`) counts against the same
 * RATE_LIMIT_AUTH_MAX as login and register: a stolen token does not buy unlimited guesses at
 * the password behind it. Its own file: the gateway reads its limits when its module loads.
 */
import type { TestSystem } from "../helpers/system";

process.env.RATE_LIMIT_AUTH_MAX = "4";

describe("the auth rate limit covers password changes", () => {
  let sys: TestSystem;

  beforeAll(async () => {
    const { startSystem } = await import("../helpers/system");
    sys = await startSystem();
  });
  afterAll(() => sys.stop());

  it("wrong currentPassword attempts use up the auth limit, then login is refused too", async () => {
    const email = `guess-${process.pid}-${Date.now()}@example.com`;
    const password = "password-123";
    // 1 of 4.
    const reg = await sys.http.post<{ token: string }>("/api/auth/register", {
      json: { email, password, name: "Guessed" },
    });
    expect(reg.status).toBe(201);
    const guess = (n: number) =>
      sys.http.patch("/api/users/me", {
        token: reg.body.token,
        json: { password: "taken-over-1", currentPassword: `guess-${n}` },
      });
    // Requests 2-4 of 4: answered. The 5th is over the limit.
    expect((await guess(1)).status).toBe(401);
    expect((await guess(2)).status).toBe(401);
    expect((await guess(3)).status).toBe(401);
    const limited = await guess(4);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    // The same count: login is refused as well, even with the right password.
    expect((await sys.http.post("/api/auth/login", { json: { email, password } })).status).toBe(
      429,
    );
    // Other routes keep their own limit.
    expect((await sys.http.get("/api/users/me", { token: reg.body.token })).status).toBe(200);
  });
});
