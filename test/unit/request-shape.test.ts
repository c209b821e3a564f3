import { shapeErrors } from "../../lib/validator";
import { jsonDepth } from "../../services/api/request-shape";

describe("shapeErrors: null and arrays for scalars, before fastest-validator", () => {
  const schema = {
    $$strict: "remove",
    name: { type: "string", optional: true },
    note: { type: "string", optional: true, nullable: true },
    page: { type: "number", convert: true, optional: true, default: 1 },
    tag: "string|optional",
    items: {
      type: "array",
      items: { type: "object", props: { quantity: { type: "number", convert: true } } },
    },
  };

  it("refuses null for an optional field, and keeps it where the rule says nullable", () => {
    expect(shapeErrors(schema, { name: null, note: null })).toEqual([
      { type: "required", field: "name", message: "The 'name' field must not be null." },
    ]);
  });

  it("refuses an array where a scalar is expected, in either rule form", () => {
    expect(shapeErrors(schema, { page: ["2"], tag: ["x"] }).map((e) => [e.field, e.type])).toEqual([
      ["page", "number"],
      ["tag", "string"],
    ]);
  });

  it("follows arrays and objects down to their fields, naming them as fastest-validator does", () => {
    const errors = shapeErrors(schema, { items: [{ quantity: 1 }, { quantity: [2] }, null] });
    expect(errors.map((e) => e.field)).toEqual(["items[1].quantity", "items[2]"]);
  });

  it("reads only the params' own keys, never their prototype's", () => {
    const params = Object.create({ name: null }) as Record<string, unknown>;
    expect(shapeErrors(schema, params)).toEqual([]);
  });

  it("lets through what fastest-validator decides (absent fields, wrong scalars)", () => {
    expect(shapeErrors(schema, { page: "x", name: 3 })).toEqual([]);
  });
});

describe("jsonDepth", () => {
  it("counts nesting of objects and arrays, the body itself being level 1", () => {
    expect(jsonDepth(Buffer.from("{}"))).toBe(1);
    expect(jsonDepth(Buffer.from('{"a":[{"b":[]}]}'))).toBe(4);
    expect(jsonDepth(Buffer.from("3"))).toBe(0);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepth(Buffer.from('{"a":"[[[{{{","b":"\\"[[["}'))).toBe(1);
  });
});
