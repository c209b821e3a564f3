import { TokenCache } from "../../services/api/token-cache";
import type { MetaUser } from "../../lib/auth";

/** An unsigned JWT-shaped string with the given `exp` (the cache only reads the claim). */
function tokenWithExp(exp: number, tag: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "HS256" })}.${part({ exp, tag })}.sig`;
}

const alice: MetaUser = { id: "alice", roles: ["customer"] };
const bob: MetaUser = { id: "bob", roles: ["customer"] };
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe("the gateway's token cache", () => {
  it("asks once for concurrent requests with one token, then answers from memory", async () => {
    const cache = new TokenCache(60_000, 100);
    const token = tokenWithExp(inAnHour(), "a");
    let calls = 0;
    const resolve = async () => {
      calls++;
      return alice;
    };
    const answers = await Promise.all([1, 2, 3].map(() => cache.resolve(token, resolve)));
    expect(answers).toEqual([alice, alice, alice]);
    expect(await cache.resolve(token, resolve)).toEqual(alice);
    expect(calls).toBe(1);
  });

  it("never keeps an entry past the token's exp", () => {
    const cache = new TokenCache(60_000, 100);
    const now = Date.now();
    const token = tokenWithExp(Math.floor(now / 1000) + 2, "b");
    cache.set(token, alice, now);
    expect(cache.get(token, now + 1000)).toEqual(alice);
    expect(cache.get(token, Math.floor(now / 1000) * 1000 + 2000)).toBeNull();
  });

  it("drops one user's tokens on revocation and keeps the others'", () => {
    const cache = new TokenCache(60_000, 100);
    const a = tokenWithExp(inAnHour(), "a");
    const b = tokenWithExp(inAnHour(), "b");
    cache.set(a, alice);
    cache.set(b, bob);
    cache.dropUser("alice");
    expect(cache.get(a)).toBeNull();
    expect(cache.get(b)).toEqual(bob);
  });

  it("does not keep an answer that was asked for before a revocation", async () => {
    const cache = new TokenCache(60_000, 100);
    const token = tokenWithExp(inAnHour(), "c");
    let answer!: (user: MetaUser) => void;
    const inFlight = cache.resolve(
      token,
      () => new Promise<MetaUser>((resolve) => (answer = resolve)),
    );
    cache.dropUser("alice");
    answer(alice);
    expect(await inFlight).toEqual(alice);
    expect(cache.get(token)).toBeNull();
  });
});
