import { SignJWT } from "jose";
import { hashPassword, verifyPassword } from "../../services/users/passwords";
import { signToken, verifyToken } from "../../services/users/tokens";

const settings = {
  secret: new TextEncoder().encode("k".repeat(32)),
  issuer: "commerce-mesh",
  expiresIn: "1h",
};

describe("passwords", () => {
  it("hashes with a per-user salt and verifies only the right password", async () => {
    const a = await hashPassword("correct horse", 1024);
    const b = await hashPassword("correct horse", 1024);
    expect(a).not.toBe(b);
    expect(a.startsWith("scrypt$1024$8$1$")).toBe(true);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horsf", a)).toBe(false);
    expect(await verifyPassword("correct horse", "garbage")).toBe(false);
  });
});

describe("tokens", () => {
  it("round-trips the user and the token version", async () => {
    const token = await signToken({ userId: "u1", version: 3 }, settings);
    expect(await verifyToken(token, settings)).toEqual({ userId: "u1", version: 3 });
  });

  it("refuses another key, another issuer, an expired token and alg none", async () => {
    const token = await signToken({ userId: "u1", version: 0 }, settings);
    expect(
      await verifyToken(token, { ...settings, secret: new TextEncoder().encode("x".repeat(32)) }),
    ).toBeNull();
    expect(await verifyToken(token, { ...settings, issuer: "someone-else" })).toBeNull();

    const expired = await new SignJWT({ ver: 0 })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u1")
      .setIssuer("commerce-mesh")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(settings.secret);
    expect(await verifyToken(expired, settings)).toBeNull();

    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "u1", roles: ["admin"], iss: "commerce-mesh" })}.`;
    expect(await verifyToken(none, settings)).toBeNull();
  });
});
