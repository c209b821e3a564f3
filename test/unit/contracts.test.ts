/**
 * One declaration per contract (contracts/schema.ts): the broker's validator and the OpenAPI's
 * JSON Schema come from the same builder call, so they must accept and refuse the same bodies.
 * Each case runs through both: the rule through the broker's own validator (StrictValidator with
 * the text rules), the schema through ajv, as a client's validator would.
 */
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { StrictValidator } from "../../lib/validator";
import { textValidatorOptions } from "../../lib/text";
import { params, s, type InferParams, type ParamRules } from "../../contracts/schema";
import * as orders from "../../contracts/orders";
import * as products from "../../contracts/products";
import * as users from "../../contracts/users";
import * as notifications from "../../contracts/notifications";

const validator = new StrictValidator(textValidatorOptions);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

/** Runs the broker's validator on `value` (which it may sanitise in place, as in a call). */
function validate(rule: ParamRules, value: unknown): boolean {
  return (
    validator.compile(rule as Record<string, unknown>)(value as Record<string, unknown>) === true
  );
}

function brokerAccepts(rule: ParamRules, value: unknown): boolean {
  return validate(rule, structuredClone(value));
}

function schemaAccepts(json: object, value: unknown): boolean {
  return ajv.validate(json, value);
}

const cases: Array<{
  name: string;
  contract: { rule: ParamRules; json: object };
  accepted: unknown[];
  refused: unknown[];
}> = [
  {
    name: "products.create",
    contract: products.createParams,
    accepted: [
      { sku: "MUG-1", name: "Mug", price: 0, stock: 3 },
      { sku: "a.b_c-1", name: "😀".repeat(200), price: 5, stock: 0, currency: "EUR" },
    ],
    refused: [
      {},
      { sku: "MUG 1", name: "Mug", price: 1, stock: 1 },
      { sku: "MUG-1", name: "", price: 1, stock: 1 },
      { sku: "MUG-1", name: "Mug", price: -1, stock: 1 },
      { sku: "MUG-1", name: "Mug", price: 1.5, stock: 1 },
      { sku: "MUG-1", name: "Mug", price: 1, stock: 1, currency: "usd" },
      { sku: "MUG-1", name: "😀".repeat(201), price: 1, stock: 1 },
      { sku: "MUG-1", name: "Mug", price: null, stock: 1 },
    ],
  },
  {
    name: "orders.create",
    contract: orders.createParams,
    accepted: [
      { items: [{ productId: "p1", quantity: 1 }], paymentToken: "tok_visa" },
      {
        items: Array.from({ length: 50 }, (_, i) => ({ productId: `p${i}`, quantity: 100 })),
        paymentToken: "t",
      },
    ],
    refused: [
      { items: [], paymentToken: "tok_visa" },
      { items: [{ productId: "p1", quantity: 0 }], paymentToken: "tok_visa" },
      { items: [{ productId: "p1", quantity: 101 }], paymentToken: "tok_visa" },
      { items: [{ productId: "", quantity: 1 }], paymentToken: "tok_visa" },
      { items: [{ productId: "p1", quantity: 1 }], paymentToken: "" },
      { items: [{ productId: "p1", quantity: 1 }] },
      { items: [{ productId: "p1", quantity: [1] }], paymentToken: "tok_visa" },
    ],
  },
  {
    name: "users.register",
    contract: users.registerParams,
    accepted: [{ email: "ada@example.com", password: "12345678", name: "Ada" }],
    refused: [
      { email: "not-an-address", password: "12345678", name: "Ada" },
      { email: "ada@example.com", password: "1234567", name: "Ada" },
      { email: "ada@example.com", password: "12345678", name: "" },
      { email: "ada@example.com", password: "12345678" },
    ],
  },
  {
    name: "notifications.list",
    contract: notifications.listParams,
    accepted: [{}, { page: 2, pageSize: 100, unread: true }],
    refused: [{ page: 0 }, { pageSize: 101 }, { page: 10_001 }, { unread: null }],
  },
];

describe("a contract's validator rule and its JSON Schema", () => {
  for (const { name, contract, accepted, refused } of cases) {
    it(`agree on what ${name} accepts`, () => {
      for (const value of accepted) {
        expect([value, brokerAccepts(contract.rule, value)]).toEqual([value, true]);
        expect([value, schemaAccepts(contract.json, value)]).toEqual([value, true]);
      }
    });

    it(`agree on what ${name} refuses`, () => {
      for (const value of refused) {
        expect([value, brokerAccepts(contract.rule, value)]).toEqual([value, false]);
        expect([value, schemaAccepts(contract.json, value)]).toEqual([value, false]);
      }
    });
  }
});

describe("the builder", () => {
  it("fills defaults in for the handler, leaves them out of the schema's required list", () => {
    const list = params({ page: s.withDefault(s.int({ min: 1 }), 1), q: s.optional(s.string()) });
    const value: Record<string, unknown> = {};
    expect(validate(list.rule, value)).toBe(true);
    expect(value).toEqual({ page: 1 });
    expect(list.json).toEqual({
      type: "object",
      properties: { page: { type: "integer", minimum: 1, default: 1 }, q: { type: "string" } },
    });
    // The handler's type: `page` is there, `q` may not be.
    const typed: InferParams<typeof list> = { page: 1 };
    expect(typed.q).toBeUndefined();
  });

  it("drops unknown keys when asked to, as the broker's strict mode does", () => {
    const value: Record<string, unknown> = { sku: "A", name: "A", price: 1, stock: 1, x: 1 };
    expect(validate(products.createParams.rule, value)).toBe(true);
    expect(value).not.toHaveProperty("x");
  });

  it("builds each event id the one way: `<event>:<key>`", () => {
    const event = orders.orderCreated.build("o1", {
      orderId: "o1",
      userId: "u1",
      amount: 5,
      currency: "USD",
      paymentToken: "tok_visa",
    });
    expect(event.eventId).toBe("order.created:o1");
    expect(brokerAccepts(orders.orderCreated.params.rule, event)).toBe(true);
    expect(users.userTokensRevoked.eventId("u1", "7")).toBe("user.tokensRevoked:u1:7");
  });
});
