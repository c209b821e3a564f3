/**
 * The gateway's memory of tokens the users service has accepted, so a hot token costs no call
 * (bench/README.md: me-read). Only accepted tokens are kept (a flood of forged ones cannot fill
 * it), each for at most `ttlMs` and never past the token's own `exp`.
 *
 * A token ends before its `exp` when its user changes password or role or is deleted
 * (users.resolveToken checks the user's record). The users service then broadcasts
 * `user.tokensRevoked` and, awaited, calls `api.forgetUser` on every live gateway: each drops
 * that user's entries (`dropUser`) before the change's answer reaches the client. A gateway
 * that misses both, or a user deleted behind the service's back (directly in the database),
 * still asks again within `ttlMs`: that TTL is the bound on how long an ended token can be
 * served, so it is kept at one second, long enough that a hot token costs one users call per
 * second per gateway. The gateway consults
 * this memory for reads only; a write always asks the users service (services/api.service.ts).
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
  /** Resolutions on their way: concurrent requests with one token share one users call. */
  private readonly pending = new Map<string, Promise<MetaUser | null>>();
  /**
   * Moves on at every revocation. An answer asked for before a revocation may describe the
   * user as it was, so it is returned to its request but not kept.
   */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The token's user: from memory, or from `resolve` (shared by concurrent callers). */
  async resolve(
    token: string,
    resolve: (token: string) => Promise<MetaUser | null>,
  ): Promise<MetaUser | null> {
    const known = this.get(token);
    if (known) return known;
    let answer = this.pending.get(token);
    if (!answer) {
      const generation = this.generation;
      const settled = () => {
        if (this.pending.get(token) === answer) this.pending.delete(token);
      };
      answer = resolve(token).then(
        (user) => {
          settled();
          if (user && generation === this.generation) this.set(token, user);
          return user;
        },
        (err: unknown) => {
          settled();
          throw err;
        },
      );
      this.pending.set(token, answer);
    }
    return answer;
  }

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

  /** Forgets every token of `userId`, and keeps no answer that was asked for before now. */
  dropUser(userId: string): void {
    this.generation++;
    // Requests from now on ask afresh instead of joining an answer asked for before.
    this.pending.clear();
    for (const [token, entry] of this.entries) {
      if (entry.user.id === userId) this.entries.delete(token);
    }
  }
}
