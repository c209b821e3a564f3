/**
 * Password hashing with scrypt from node:crypto: a per-user random salt, the cost stored with
 * the hash (so it can be raised later without breaking old hashes), constant-time comparison.
 * Stored form: `scrypt$N$r$p$salt$hash` (salt and hash in base64url).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { ...opts, maxmem: 256 * opts.N! * opts.r! }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const opts = { N: cost, r: 8, p: 1 };
  const key = await derive(password, salt, opts);
  return [
    "scrypt",
    opts.N,
    opts.r,
    opts.p,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash to verify against when the email is unknown, so a login for a missing account costs
 * the same scrypt work as a wrong password and the two cannot be told apart by timing.
 */
export function decoyHash(cost: number): Promise<string> {
  return hashPassword(randomBytes(16).toString("hex"), cost);
}
