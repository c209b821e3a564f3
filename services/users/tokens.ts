/**
 * JWTs for the gateway: HS256 only (the algorithm is pinned on verify, so `alg: none` or an
 * RS/HS confusion is refused), with issuer, expiry and not-before checked. A token without
 * `exp` would never expire, so one is refused. The token names its user and the user's token
 * version (`ver`); whether that user still exists, with that version, is the users service's
 * check (users.resolveToken), and the roles come from the user's record, not from the token.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SignJWT, jwtVerify } from "jose";

const ALG = "HS256";

export interface TokenSettings {
  secret: Uint8Array;
  issuer: string;
  expiresIn: string;
}

/** What a verified token says: whose it is, and which of the user's token versions it carries. */
export interface TokenClaims {
  userId: string;
  version: number;
}

export function signToken(claims: TokenClaims, s: TokenSettings): Promise<string> {
  return new SignJWT({ ver: claims.version })
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuer(s.issuer)
    .setIssuedAt()
    .setExpirationTime(s.expiresIn)
    .sign(s.secret);
}

/** The token's claims, or `null` for anything not signed by us, expired, not yet valid or malformed. */
export async function verifyToken(token: string, s: TokenSettings): Promise<TokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, s.secret, {
      algorithms: [ALG],
      issuer: s.issuer,
      requiredClaims: ["exp", "sub"],
    });
    const version = payload.ver;
    if (typeof payload.sub !== "string" || !Number.isSafeInteger(version)) return null;
    return { userId: payload.sub, version: version as number };
  } catch {
    return null;
  }
}

/**
 * The signing key: JWT_SECRET when set (required in production and for several users
 * replicas); otherwise one random key per data dir, kept in `DATA_DIR/.jwt-secret` so tokens
 * survive a restart of the embedded default, or per process when data is in memory. Whoever can
 * read that file can mint tokens for any user: it is written owner-only (0600), and a file found
 * readable by others is narrowed to 0600 with a warning.
 */
export function signingKey(
  jwtSecret: string | undefined,
  dataDir: string | null,
  warn: (message: string) => void,
): Uint8Array {
  if (jwtSecret) return new TextEncoder().encode(jwtSecret);
  if (dataDir === null) return randomBytes(32);
  const file = path.join(dataDir, ".jwt-secret");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
      warn(`JWT_SECRET is not set: generated a random signing key in ${file}`);
    } catch (err) {
      // Another process of this data dir wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    fs.chmodSync(file, 0o600);
    warn(`${file} was readable by others (mode ${mode.toString(8)}); narrowed it to 0600`);
  }
  return new TextEncoder().encode(fs.readFileSync(file, "utf8").trim());
}
