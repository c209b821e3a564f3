/**
 * The card provider, simulated with API.md's test tokens. Shaped like a real payment service
 * provider: every request carries an idempotency key, and a repeated key gets the first
 * request's outcome without a second charge — the payments service uses the order id, so a
 * charge resumed after a crash is not a new charge. (This simulation remembers keys per
 * process; a real provider remembers them for days.)
 *
 * With a charge log (PAYMENT_CHARGE_LOG) it also writes down every charge it accepted, one
 * JSON line appended before the charge is answered, from every process sharing the file: the
 * provider's side of the books, which the stack tests and `npm run chaos` count per order.
 * The log is also its memory of keys across processes, as a real provider's is.
 */
import fs from "node:fs";

export type DeclineReason = "card_declined" | "invalid_token";

export type ChargeResult = { ok: true; chargeId: string } | { ok: false; reason: DeclineReason };

export interface ChargeRequest {
  idempotencyKey: string;
  token: string;
  amount: number;
  currency: string;
  /** Kept with the charge, like a real provider's metadata: which order, which attempt. */
  metadata?: { orderId: string; attempt: number };
}

/** One line of the charge log: a charge that hit a card. */
export interface ChargeLogEntry {
  idempotencyKey: string;
  chargeId: string;
  orderId: string | null;
  amount: number;
  currency: string;
  /** The payment's provider call that made it: 1, or more for a charge resumed after a crash. */
  attempt: number | null;
  /** The process that accepted it. */
  pid: number;
  at: string;
}

/** The entries of a charge log; none when the file does not exist yet. */
export function readChargeLog(file: string): ChargeLogEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as ChargeLogEntry);
}

export interface RefundRequest {
  idempotencyKey: string;
  chargeId: string;
  amount: number;
}

export interface PaymentProvider {
  charge(req: ChargeRequest): Promise<ChargeResult>;
  refund(req: RefundRequest): Promise<{ refundId: string }>;
  /** How many charges actually hit a card (idempotent repeats excluded), for tests. */
  readonly chargeCount: number;
}

export interface TestProviderOptions {
  /** How long `tok_slow` takes (PAYMENT_SLOW_MS). */
  slowMs: number;
  /** The charge log's path (PAYMENT_CHARGE_LOG); none by default. */
  chargeLog?: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createTestProvider(opts: TestProviderOptions): PaymentProvider {
  const charges = new Map<string, Promise<ChargeResult>>();
  const refunds = new Map<string, Promise<{ refundId: string }>>();
  let chargeCount = 0;
  let seq = 0;

  async function decide(req: ChargeRequest): Promise<ChargeResult> {
    switch (req.token) {
      case "tok_visa":
        break;
      case "tok_slow":
        await sleep(opts.slowMs);
        break;
      case "tok_chargeDeclined":
        return { ok: false, reason: "card_declined" };
      default:
        return { ok: false, reason: "invalid_token" };
    }
    chargeCount++;
    const chargeId = `ch_${Date.now().toString(36)}_${process.pid}_${++seq}`;
    if (opts.chargeLog) {
      const entry: ChargeLogEntry = {
        idempotencyKey: req.idempotencyKey,
        chargeId,
        orderId: req.metadata?.orderId ?? null,
        amount: req.amount,
        currency: req.currency,
        attempt: req.metadata?.attempt ?? null,
        pid: process.pid,
        at: new Date().toISOString(),
      };
      // Synchronous, one write per line: the line is in the file before anyone hears of the
      // charge, even if this process is killed right after.
      fs.appendFileSync(opts.chargeLog, `${JSON.stringify(entry)}\n`);
    }
    return { ok: true, chargeId };
  }

  /** A charge another process (or an earlier life of this one) accepted under this key. */
  function remembered(key: string): ChargeResult | undefined {
    if (!opts.chargeLog) return undefined;
    const entry = readChargeLog(opts.chargeLog).find((e) => e.idempotencyKey === key);
    return entry && { ok: true, chargeId: entry.chargeId };
  }

  return {
    charge(req) {
      if (!Number.isInteger(req.amount) || req.amount < 0) {
        return Promise.reject(new Error(`amount must be an integer in minor units: ${req.amount}`));
      }
      let result = charges.get(req.idempotencyKey);
      if (!result) {
        const earlier = remembered(req.idempotencyKey);
        result = earlier ? Promise.resolve(earlier) : decide(req);
        charges.set(req.idempotencyKey, result);
      }
      return result;
    },
    refund(req) {
      let result = refunds.get(req.idempotencyKey);
      if (!result) {
        result = Promise.resolve({ refundId: `re_${req.chargeId}` });
        refunds.set(req.idempotencyKey, result);
      }
      return result;
    },
    get chargeCount() {
      return chargeCount;
    },
  };
}
