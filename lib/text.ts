/**
 * Text params as people mean them. fastest-validator's `string` counts `.length`, UTF-16 code
 * units: a name of 100 emoji is 200 units and was refused by `max: 100`. The `text` rule counts
 * characters (code points), as JSON Schema's `minLength`/`maxLength` do, so the OpenAPI document
 * and the validator agree. The `emailAddress` rule normalises an address before anything
 * compares it, so a look-alike (a zero-width space, a control character, a full-width letter)
 * is either refused or becomes the address it imitates.
 *
 * Registered on the broker's validator (moleculer.config.ts); used in param schemas as
 * `{ type: "text", min, max, trim? }` and `{ type: "emailAddress", max? }`.
 */

/**
 * Characters that cannot be seen or that steer rendering: controls (Cc), format characters (Cf:
 * zero-width spaces and joiners, bidi overrides, the BOM), line and paragraph separators, lone
 * surrogates, private use, and everything Unicode marks as ignorable by default (e.g. the
 * Hangul filler, variation selectors).
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Default_Ignorable_Code_Point}]/u;

/** fastest-validator's own (non-precise) email pattern, applied to the normalised form. */
const EMAIL_FORMAT = /^\S+@\S+\.\S+$/;

export const EMAIL_MAX = 254;

/** Characters (code points) in `s`; a lone surrogate counts as one. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function hasHiddenCharacters(s: string): boolean {
  return HIDDEN.test(s);
}

export type EmailCheck =
  { ok: true; email: string } | { ok: false; reason: "hidden" | "length" | "format" };

/**
 * The address as stored and compared: trimmed, NFKC-normalised (full-width and other
 * compatibility forms become their plain letters), the domain lower-cased. The uniqueness key
 * is this form lower-cased as a whole.
 */
export function normalizeEmail(raw: string): EmailCheck {
  const nfkc = raw.trim().normalize("NFKC");
  if (hasHiddenCharacters(nfkc)) return { ok: false, reason: "hidden" };
  if (codePoints(nfkc) > EMAIL_MAX) return { ok: false, reason: "length" };
  if (!EMAIL_FORMAT.test(nfkc)) return { ok: false, reason: "format" };
  const at = nfkc.lastIndexOf("@");
  return { ok: true, email: `${nfkc.slice(0, at)}@${nfkc.slice(at + 1).toLowerCase()}` };
}

/** The uniqueness key of a normalised address. */
export function emailKey(normalised: string): string {
  return normalised.toLowerCase();
}

/** What the rules below use of fastest-validator's rule-compiler `this`. */
interface RuleCompiler {
  makeError(opts: { type: string; actual?: string; expected?: unknown; messages: unknown }): string;
}
interface RuleInput {
  schema: Record<string, unknown>;
  messages: unknown;
}

/** A limit from our own schema, as a number literal in the generated checker. */
function limit(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function notString(c: RuleCompiler, messages: unknown): string {
  return `if (typeof value !== "string") {
    ${c.makeError({ type: "string", actual: "value", messages })}
    return value;
  }`;
}

/** `{ type: "text", min?, max?, trim? }`: a string whose lengths count characters. */
function textRule(this: RuleCompiler, { schema, messages }: RuleInput) {
  const min = limit(schema.min);
  const max = limit(schema.max);
  const src = [notString(this, messages)];
  if (schema.trim === true) src.push("value = value.trim();");
  src.push("var chars = context.customFunctions.codePoints(value);");
  if (min !== undefined) {
    src.push(`if (chars < ${min}) {
      ${this.makeError({ type: "stringMin", expected: min, actual: "chars", messages })}
    }`);
  }
  if (max !== undefined) {
    src.push(`if (chars > ${max}) {
      ${this.makeError({ type: "stringMax", expected: max, actual: "chars", messages })}
    }`);
  }
  src.push("return value;");
  return { sanitized: schema.trim === true, source: src.join("\n") };
}

/** `{ type: "emailAddress" }`: a normalised address (see `normalizeEmail`), or a 422. */
function emailAddressRule(this: RuleCompiler, { messages }: RuleInput) {
  return {
    sanitized: true,
    source: `${notString(this, messages)}
      var checked = context.customFunctions.normalizeEmail(value);
      if (checked.ok) return checked.email;
      if (checked.reason === "hidden") {
        ${this.makeError({ type: "textHidden", actual: "value", messages })}
      } else if (checked.reason === "length") {
        ${this.makeError({ type: "stringMax", expected: EMAIL_MAX, actual: "value.length", messages })}
      } else {
        ${this.makeError({ type: "email", actual: "value", messages })}
      }
      return value;`,
  };
}

/** fastest-validator options that add the rules above (merged into the broker's validator). */
export const textValidatorOptions = {
  customRules: { text: textRule, emailAddress: emailAddressRule },
  customFunctions: { codePoints, normalizeEmail },
  messages: {
    textHidden: "The '{field}' field must not contain control, format or invisible characters.",
  },
};
