/**
 * The card provider, simulated with API.md's test tokens. Shaped like a real payment service
 * provider: every request carries an idempotency key, and a repeated key gets the first
 * request's outcome without a second charge — the payments service uses the order id, so a
 * charge resumed after a crash is not a new charge. (This simulation remembers keys per
 * process; a real provider remembers them for days.)
 */
export type DeclineReason = "card_declined" | "invalid_token";

export type ChargeResult = { ok: true; chargeId: string } | { ok: false; reason: DeclineReason };

export interface ChargeRequest {
  idempotencyKey: string;
  token: string;
  amount: number;
  currency: string;
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
    return { ok: true, chargeId: `ch_${Date.now().toString(36)}_${++seq}` };
  }

  return {
    charge(req) {
      if (!Number.isInteger(req.amount) || req.amount < 0) {
        return Promise.reject(new Error(`amount must be an integer in minor units: ${req.amount}`));
      }
      let result = charges.get(req.idempotencyKey);
      if (!result) {
        result = decide(req);
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
