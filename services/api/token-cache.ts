/**
 * The gateway's memory of tokens it has already had verified by the users service, so a hot
 * token costs no call at all (bench/README.md: me-read). Only accepted tokens are kept (a flood
 * of forged ones cannot fill it), each for at most `ttlMs` and never past the token's own `exp`.
 * This weakens nothing: tokens are stateless JWTs whose user and roles are in the token, and the
 * users service's own cache of the same answer already lives 30 s.
 */
import type { MetaUser } from "../../lib/auth";

interface Entry {
  user: MetaUser;
  until: number;
}

/** The `exp` claim (seconds) of a JWT already verified elsewhere; `null` if absent or unreadable. */
function expiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const exp = (
      JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }
    ).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(token: string, now = Date.now()): MetaUser | null {
    const entry = this.entries.get(token);
    if (!entry) return null;
    if (entry.until > now) return entry.user;
    this.entries.delete(token);
    return null;
  }

  set(token: string, user: MetaUser, now = Date.now()): void {
    const exp = expiry(token);
    if (exp === null) return;
    const until = Math.min(now + this.ttlMs, exp * 1000);
    if (until <= now) return;
    // Map keeps insertion order: the oldest entry goes first when full.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, { user, until });
  }
}
