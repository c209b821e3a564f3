/**
 * The provider's charge log (PAYMENT_CHARGE_LOG): the stack tests and `npm run chaos` count
 * charges per order in it, so it must hold exactly the charges that hit a card.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTestProvider, readChargeLog } from "../../services/payments/provider";

const request = (token: string, orderId: string, attempt = 1) => ({
  idempotencyKey: orderId,
  token,
  amount: 1299,
  currency: "USD",
  metadata: { orderId, attempt },
});

describe("the payment provider's charge log", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "charge-log-"));
    file = path.join(dir, "charges.jsonl");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("has one line per accepted charge, none for declines or repeated keys", async () => {
    const provider = createTestProvider({ slowMs: 0, chargeLog: file });
    expect(readChargeLog(file)).toEqual([]);
    const ok = await provider.charge(request("tok_visa", "order-1"));
    await provider.charge(request("tok_visa", "order-1", 2));
    await provider.charge(request("tok_chargeDeclined", "order-2"));
    await provider.charge(request("tok_unknown", "order-3"));

    expect(ok.ok).toBe(true);
    expect(readChargeLog(file)).toEqual([
      {
        idempotencyKey: "order-1",
        chargeId: ok.ok ? ok.chargeId : "",
        orderId: "order-1",
        amount: 1299,
        currency: "USD",
        attempt: 1,
        pid: process.pid,
        at: expect.any(String),
      },
    ]);
  });

  it("remembers a key accepted by another process sharing the log", async () => {
    const first = createTestProvider({ slowMs: 0, chargeLog: file });
    const charged = await first.charge(request("tok_visa", "order-1"));
    // A restarted payments process: a new provider with nothing in memory, the same log.
    const second = createTestProvider({ slowMs: 0, chargeLog: file });
    const resumed = await second.charge(request("tok_visa", "order-1", 2));

    expect(resumed).toEqual(charged);
    expect(second.chargeCount).toBe(0);
    expect(readChargeLog(file)).toHaveLength(1);
  });

  it("writes nothing without a log path", async () => {
    const provider = createTestProvider({ slowMs: 0 });
    expect((await provider.charge(request("tok_visa", "order-1"))).ok).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
