import { buildOpenApi, openApiPath, toJsonSchema } from "../../services/api/openapi";

describe("fastest-validator rules as OpenAPI schemas", () => {
  it("maps strings with length, pattern and enum", () => {
    expect(toJsonSchema({ type: "string", min: 2, max: 5, pattern: /^[a-z]+$/ })).toEqual({
      schema: { type: "string", minLength: 2, maxLength: 5, pattern: "^[a-z]+$" },
      optional: false,
    });
    expect(toJsonSchema({ type: "string", enum: ["a", "b"], optional: true })).toEqual({
      schema: { type: "string", enum: ["a", "b"] },
      optional: true,
    });
  });

  it("maps the text and emailAddress rules (lengths in characters, as JSON Schema counts them)", () => {
    expect(toJsonSchema({ type: "text", min: 1, max: 100, trim: true })).toEqual({
      schema: { type: "string", minLength: 1, maxLength: 100 },
      optional: false,
    });
    expect(toJsonSchema({ type: "emailAddress" }).schema).toEqual({
      type: "string",
      format: "email",
      maxLength: 254,
    });
  });

  it("maps numbers, integers, emails, enums and defaults", () => {
    expect(toJsonSchema({ type: "number", integer: true, min: 1, max: 100, default: 20 })).toEqual({
      schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
      optional: true,
    });
    expect(toJsonSchema({ type: "number", positive: true }).schema).toEqual({
      type: "number",
      minimum: 0,
      exclusiveMinimum: true,
    });
    expect(toJsonSchema({ type: "email", max: 254 }).schema).toEqual({
      type: "string",
      format: "email",
      maxLength: 254,
    });
    expect(toJsonSchema({ type: "enum", values: ["price", "-price"] }).schema).toEqual({
      type: "string",
      enum: ["price", "-price"],
    });
  });

  it("maps nested objects, arrays and shorthand rules", () => {
    const items = toJsonSchema({
      type: "array",
      min: 1,
      max: 50,
      items: {
        type: "object",
        props: { productId: "string|min:1", quantity: { type: "number", integer: true } },
      },
    });
    expect(items.schema).toEqual({
      type: "array",
      minItems: 1,
      maxItems: 50,
      items: {
        type: "object",
        properties: {
          productId: { type: "string", minLength: 1 },
          quantity: { type: "integer" },
        },
        required: ["productId", "quantity"],
      },
    });
    expect(toJsonSchema("boolean|optional")).toEqual({
      schema: { type: "boolean" },
      optional: true,
    });
  });

  it("leaves out a pattern that arrived from a remote node as an empty object", () => {
    expect(toJsonSchema({ type: "string", pattern: {} }).schema).toEqual({ type: "string" });
  });

  it("turns :params into {params}", () => {
    expect(openApiPath("/api/orders/:id/cancel")).toEqual({
      path: "/api/orders/{id}/cancel",
      params: ["id"],
    });
  });

  it("documents an alias whose service is not running yet, without params", () => {
    const doc = buildOpenApi({
      title: "t",
      version: "1",
      aliases: { "GET /api/things/:id": "things.get" },
      actions: new Map(),
      rateLimited: false,
    }) as { paths: Record<string, Record<string, { parameters: unknown[] }>> };
    expect(doc.paths["/api/things/{id}"].get.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "string" } },
    ]);
  });
});
