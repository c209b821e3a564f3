import { shapeErrors } from "../../lib/validator";
import { jsonDepth, plainQuery } from "../../services/api/request-shape";
// moleculer-web's query parser, which plainQuery stands in for on plain queries.
import qs from "qs";

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

describe("plainQuery: the gateway's common queries without qs", () => {
  it("parses plain name=value pairs as qs does", () => {
    for (const text of ["page=1", "page=2&pageSize=20&sort=price", "q=lamp&minPrice=&x-y_z=1.5"]) {
      expect(plainQuery(text)).toEqual(qs.parse(text));
    }
  });

  it("leaves to qs what needs its rules", () => {
    for (const text of [
      "page=1&page=2", // an array in qs
      "toString=1", // dropped by qs
      "__proto__=1",
      "a[b]=1",
      "q=red+lamp",
      "q=%C3%A9",
      "page",
      "=1",
      "page=1&",
      `${"a=1&".repeat(300)}b=2`,
    ]) {
      expect(plainQuery(text)).toBeNull();
    }
  });

  it("agrees with qs on every query it parses (random queries)", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const word = (alphabet: string) =>
      Array.from({ length: random(4) }, () => alphabet[random(alphabet.length)]).join("");
    let parsed = 0;
    for (let n = 0; n < 20_000; n++) {
      const pairs = Array.from({ length: 1 + random(4) }, () => {
        const name = word("aab_-.[]%+1");
        return random(8) === 0 ? name : `${name}=${word("xy_-.%+=2")}`;
      });
      const text = pairs.join("&");
      const mine = plainQuery(text);
      if (mine === null) continue;
      parsed += 1;
      expect(mine).toEqual(qs.parse(text));
    }
    expect(parsed).toBeGreaterThan(500);
  });
});
