/**
 * JWTs for the gateway: HS256 only (the algorithm is pinned on verify, so `alg: none` or an
 * RS/HS confusion is refused), with issuer and expiry checked.
 */
import { SignJWT, jwtVerify } from "jose";
import type { MetaUser, Role } from "../../lib/auth";

const ALG = "HS256";

export interface TokenSettings {
  secret: Uint8Array;
  issuer: string;
  expiresIn: string;
}

export function signToken(user: MetaUser, s: TokenSettings): Promise<string> {
  return new SignJWT({ roles: user.roles })
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setSubject(user.id)
    .setIssuer(s.issuer)
    .setIssuedAt()
    .setExpirationTime(s.expiresIn)
    .sign(s.secret);
}

/** The token's user, or `null` for anything not signed by us, expired or malformed. */
export async function verifyToken(token: string, s: TokenSettings): Promise<MetaUser | null> {
  try {
    const { payload } = await jwtVerify(token, s.secret, { algorithms: [ALG], issuer: s.issuer });
    const roles = payload.roles;
    if (typeof payload.sub !== "string" || !Array.isArray(roles)) return null;
    return {
      id: payload.sub,
      roles: roles.filter((r): r is Role => r === "customer" || r === "admin"),
    };
  } catch {
    return null;
  }
}
