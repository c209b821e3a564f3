import { codePoints, emailKey, normalizeEmail } from "../../lib/text";

describe("text rules", () => {
  it("counts code points, not UTF-16 units", () => {
    expect(codePoints("abc")).toBe(3);
    expect(codePoints("\u{1F600}".repeat(100))).toBe(100);
    expect(codePoints("\uD83D")).toBe(1); // a lone surrogate is one
  });

  it("normalises an address: trimmed, NFKC, the domain lower-cased", () => {
    expect(normalizeEmail("  Ａlice@ＥXAMPLE.com ")).toEqual({
      ok: true,
      email: "Alice@example.com",
    });
    expect(emailKey("Alice@example.com")).toBe("alice@example.com");
  });

  it.each([
    ["zero-width space", "al\u200Bice@example.com"],
    ["word joiner", "al\u2060ice@example.com"],
    ["BEL", "al\u0007ice@example.com"],
    ["bidi override", "\u202Ealice@example.com"],
    ["BOM", "alice@exam\uFEFFple.com"],
    ["Hangul filler", "al\u3164ice@example.com"],
  ])("refuses a %s", (_, email) => {
    expect(normalizeEmail(email)).toEqual({ ok: false, reason: "hidden" });
  });

  it("refuses what is not an address, or too long", () => {
    expect(normalizeEmail("not an address")).toEqual({ ok: false, reason: "format" });
    expect(normalizeEmail(`${"a".repeat(250)}@example.com`)).toEqual({
      ok: false,
      reason: "length",
    });
  });
});
