import { createTestProvider } from "../../services/payments/provider";

const charge = (token: string, idempotencyKey = `k-${Math.random()}`) => ({
  idempotencyKey,
  token,
  amount: 1299,
  currency: "USD",
});

describe("test payment provider", () => {
  it("charges tok_visa, declines tok_chargeDeclined and any unknown token", async () => {
    const provider = createTestProvider({ slowMs: 10 });
    const ok = await provider.charge(charge("tok_visa"));
    expect(ok.ok).toBe(true);
    expect(await provider.charge(charge("tok_chargeDeclined"))).toEqual({
      ok: false,
      reason: "card_declined",
    });
    expect(await provider.charge(charge("tok_other"))).toEqual({
      ok: false,
      reason: "invalid_token",
    });
    expect(provider.chargeCount).toBe(1);
  });

  it("charges tok_slow after PAYMENT_SLOW_MS, not before", async () => {
    jest.useFakeTimers();
    try {
      const provider = createTestProvider({ slowMs: 150 });
      let result: { ok: boolean } | null = null;
      const charged = provider.charge(charge("tok_slow")).then((r) => (result = r));
      await jest.advanceTimersByTimeAsync(149);
      expect(result).toBeNull();
      expect(provider.chargeCount).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      await charged;
      expect(result).toMatchObject({ ok: true });
      expect(provider.chargeCount).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it("answers a repeated idempotency key with the first outcome and no second charge", async () => {
    const provider = createTestProvider({ slowMs: 50 });
    const [a, b] = await Promise.all([
      provider.charge(charge("tok_slow", "order-1")),
      provider.charge(charge("tok_slow", "order-1")),
    ]);
    const c = await provider.charge(charge("tok_visa", "order-1"));
    expect(a).toEqual(b);
    expect(c).toEqual(a);
    expect(provider.chargeCount).toBe(1);
  });

  it("refuses an amount that is not an integer of minor units", async () => {
    const provider = createTestProvider({ slowMs: 0 });
    await expect(provider.charge({ ...charge("tok_visa"), amount: 12.5 })).rejects.toThrow(
      /integer/,
    );
  });

  it("refunds once per idempotency key: a repeated key gets the first refund back", async () => {
    const provider = createTestProvider({ slowMs: 0 });
    const first = await provider.refund({
      idempotencyKey: "refund:o1",
      chargeId: "ch_1",
      amount: 100,
    });
    // The same key with another charge: the provider answers the first refund, it does not
    // make a second one.
    const repeated = await provider.refund({
      idempotencyKey: "refund:o1",
      chargeId: "ch_2",
      amount: 100,
    });
    const other = await provider.refund({
      idempotencyKey: "refund:o2",
      chargeId: "ch_2",
      amount: 100,
    });
    expect(repeated).toEqual(first);
    expect(other.refundId).not.toBe(first.refundId);
  });
});
