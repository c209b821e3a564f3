import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import { hashPassword, verifyPassword } from "../../services/users/passwords";
import { signToken, signingKey, verifyToken } from "../../services/users/tokens";

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

describe("the generated signing key (embedded default)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "jwt-secret-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

  it("is written to DATA_DIR/.jwt-secret readable by its owner only, and read back", () => {
    const warnings: string[] = [];
    const key = signingKey(undefined, dir, (m) => warnings.push(m));
    const file = path.join(dir, ".jwt-secret");
    expect(modeOf(file)).toBe(0o600);
    expect(Buffer.from(key).toString()).toBe(fs.readFileSync(file, "utf8"));
    expect(signingKey(undefined, dir, () => undefined)).toEqual(key);
    expect(warnings).toHaveLength(1);
  });

  it("narrows an existing key file that others can read to 0600, with a warning", () => {
    const file = path.join(dir, ".jwt-secret");
    fs.writeFileSync(file, "k".repeat(64), { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    expect(Buffer.from(signingKey(undefined, dir, (m) => warnings.push(m))).toString()).toBe(
      "k".repeat(64),
    );
    expect(modeOf(file)).toBe(0o600);
    expect(warnings.join()).toMatch(/readable by others/);
  });

  it("uses JWT_SECRET when set and writes nothing", () => {
    signingKey("s".repeat(32), dir, () => undefined);
    expect(fs.existsSync(path.join(dir, ".jwt-secret"))).toBe(false);
  });
});
