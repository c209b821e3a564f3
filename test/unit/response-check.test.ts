/**
 * The check the tests' HTTP client runs on every answer (test/helpers/openapi-validate.ts): the
 * status must be declared for the operation and the body must match its schema.
 */
import type { HttpResult } from "../helpers/http";
import { contractProblems } from "../helpers/openapi-validate";

const json = new Headers({ "content-type": "application/json; charset=utf-8" });
const answer = (status: number, body: unknown, headers = json): HttpResult => ({
  status,
  body,
  headers,
});

const product = {
  id: "p1",
  sku: "MUG-1",
  name: "Mug",
  description: "",
  price: 1999,
  currency: "USD",
  stock: 3,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
};

describe("checking an answer against the OpenAPI document", () => {
  it("accepts a declared status with a matching body", () => {
    expect(contractProblems("GET", "/api/products/p1", answer(200, product))).toEqual([]);
    const page = { rows: [product], total: 1, page: 1, pageSize: 20, totalPages: 1 };
    expect(contractProblems("GET", "/api/products?page=1", answer(200, page))).toEqual([]);
    const error = {
      name: "NotFoundError",
      message: "Product not found",
      code: 404,
      type: "NOT_FOUND",
    };
    expect(contractProblems("GET", "/api/products/nope", answer(404, error))).toEqual([]);
  });

  it("refuses a status the operation does not declare", () => {
    const error = { name: "X", message: "x", code: 409, type: "CONFLICT" };
    expect(contractProblems("GET", "/api/products", answer(409, error))).toEqual([
      expect.stringMatching(/^status 409 is not declared/),
    ]);
  });

  it("refuses a body that does not match the schema", () => {
    expect(
      contractProblems("GET", "/api/products/p1", answer(200, { ...product, price: "19.99" })),
    ).toEqual([expect.stringMatching(/^body\/price must be integer/)]);
    const noStock: Partial<typeof product> = { ...product };
    delete noStock.stock;
    expect(contractProblems("GET", "/api/products/p1", answer(200, noStock))).toEqual([
      expect.stringMatching(/must have required property 'stock'/),
    ]);
    expect(
      contractProblems("GET", "/api/orders/o1", answer(404, { code: 404, type: "GONE" })).length,
    ).toBeGreaterThan(0);
  });

  it("wants no body on a 204 and JSON where JSON is declared", () => {
    expect(contractProblems("DELETE", "/api/products/p1", answer(204, null))).toEqual([]);
    expect(contractProblems("DELETE", "/api/products/p1", answer(204, {}))).toEqual([
      "status 204 is declared without a body",
    ]);
    const html = new Headers({ "content-type": "text/html" });
    expect(contractProblems("GET", "/api/products/p1", answer(200, "<p>", html))).toEqual([
      "content type text/html is not application/json",
    ]);
  });

  it("leaves requests the document does not describe alone", () => {
    expect(contractProblems("GET", "/api/nowhere", answer(404, "x"))).toEqual([]);
    expect(contractProblems("OPTIONS", "/api/products", answer(204, null))).toEqual([]);
  });
});
