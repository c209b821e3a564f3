import { checkoutHash } from "../../services/orders/checkout";
import { formatMoney } from "../../services/notifications/templates";

describe("checkout body fingerprint", () => {
  const a = { productId: "a", quantity: 1 };
  const b = { productId: "b", quantity: 2 };

  it("is the same for the same lines in another order", () => {
    expect(checkoutHash({ items: [a, b], paymentToken: "tok_visa" })).toBe(
      checkoutHash({ items: [b, a], paymentToken: "tok_visa" }),
    );
  });

  it("differs when a quantity, a product or the token differs", () => {
    const base = checkoutHash({ items: [a, b], paymentToken: "tok_visa" });
    expect(checkoutHash({ items: [a, { ...b, quantity: 3 }], paymentToken: "tok_visa" })).not.toBe(
      base,
    );
    expect(checkoutHash({ items: [a], paymentToken: "tok_visa" })).not.toBe(base);
    expect(checkoutHash({ items: [a, b], paymentToken: "tok_slow" })).not.toBe(base);
  });
});

describe("money in notifications", () => {
  it("shows minor units without floating point", () => {
    expect(formatMoney(1299, "USD")).toBe("12.99 USD");
    expect(formatMoney(5, "EUR")).toBe("0.05 EUR");
    expect(formatMoney(100000, "USD")).toBe("1000.00 USD");
  });
});
