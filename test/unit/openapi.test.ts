/**
 * The OpenAPI document built from the contracts (contracts/openapi.ts): the routes the gateway
 * serves, an explicit answer with a schema for every success and every error a route can give,
 * and a document that validates and lints clean.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildOpenApi, openApiPath } from "../../contracts/openapi";
import { API_ALIASES, publicAliases } from "../../services/api.service";
import { OPERATIONS } from "../../contracts/rest";
import { validateOpenApi } from "../helpers/openapi-validate";

type Json = Record<string, unknown>;
interface OperationObject {
  operationId: string;
  summary: string;
  description: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Json }>;
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { content?: Record<string, { schema: Json }>; headers?: Json }>;
}

const doc = buildOpenApi({ version: "1.0.0" }) as {
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, Json> };
  servers: unknown[];
};

function operations(): Array<[string, OperationObject]> {
  return Object.entries(doc.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(
      ([m, op]) => [`${m.toUpperCase()} ${p}`, op] as [string, OperationObject],
    ),
  );
}

/** The REST contract's routes, written out: a route added or dropped anywhere shows up here. */
const ROUTES = [
  "POST /api/auth/register",
  "POST /api/auth/login",
  "GET /api/users/me",
  "PATCH /api/users/me",
  "GET /api/products",
  "GET /api/products/{id}",
  "GET /api/products/{id}/recommendations",
  "POST /api/products",
  "PATCH /api/products/{id}",
  "DELETE /api/products/{id}",
  "POST /api/orders",
  "GET /api/orders",
  "GET /api/orders/stream",
  "GET /api/orders/{id}",
  "POST /api/orders/{id}/cancel",
  "GET /api/payments",
  "GET /api/notifications",
  "POST /api/notifications/{id}/read",
  "GET /api/admin/nodes",
  "GET /api/admin/stream",
  "GET /api/admin/actions",
  "GET /api/admin/orders/board",
  "POST /api/admin/orders/{id}/redrive",
  "GET /api/admin/faults",
  "PUT /api/admin/faults/{target}",
  "DELETE /api/admin/faults/{target}",
  "DELETE /api/admin/faults",
];

describe("the OpenAPI document", () => {
  it("documents exactly the gateway's aliases, and its own paths", () => {
    const aliased = Object.keys(publicAliases()).map((alias) => {
      const [method, p] = alias.split(" ");
      return `${method} ${openApiPath(p).path}`;
    });
    expect(aliased.sort()).toEqual([...ROUTES].sort());
    expect(
      operations()
        .map(([route]) => route)
        .sort(),
    ).toEqual(
      [
        ...ROUTES,
        "GET /health/live",
        "GET /health/ready",
        "GET /api/openapi.json",
        "GET /api/docs",
      ].sort(),
    );
  });

  it("declares each route with the action the gateway's alias calls", () => {
    expect(Object.fromEntries(OPERATIONS.map((op) => [op.route, op.action]))).toEqual(API_ALIASES);
  });

  it("gives each operation a unique camelCase id, a summary and a description", () => {
    const ids = operations().map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [route, op] of operations()) {
      expect([route, op.operationId]).toEqual([route, expect.stringMatching(/^[a-z][A-Za-z]+$/)]);
      expect(op.summary.length).toBeGreaterThan(3);
      expect(op.description.length).toBeGreaterThan(3);
    }
  });

  it("answers every success with a status and a schema with properties; DELETE with a bare 204", () => {
    for (const route of ROUTES) {
      const [method, p] = route.split(" ");
      const op = doc.paths[p][method.toLowerCase()];
      const successes = Object.keys(op.responses).filter((s) => s.startsWith("2"));
      expect([route, successes.length > 0]).toEqual([route, true]);
      for (const status of successes) {
        const content = op.responses[status].content;
        if (status === "204") {
          expect([route, content]).toEqual([route, undefined]);
          continue;
        }
        // An event stream (GET /api/orders/stream): text whose events the schema describes.
        if (content!["text/event-stream"]) {
          expect([route, Object.keys(content!)]).toEqual([route, ["text/event-stream"]]);
          expect(String(content!["text/event-stream"].schema.description)).toMatch(/ready/);
          continue;
        }
        const named = (ref: unknown) =>
          doc.components.schemas[String(ref).replace("#/components/schemas/", "")];
        let body = named(content!["application/json"].schema.$ref);
        // A list answer (the recommendations): its items must be such a schema.
        if (body.type === "array") body = named((body.items as Json).$ref);
        expect([route, Object.keys(body.properties as Json).length > 0]).toEqual([route, true]);
      }
    }
    expect(Object.keys(doc.paths["/api/products/{id}"].delete.responses)).toContain("204");
  });

  it("lists the errors each route can answer, all with the one error body", () => {
    const statuses = (route: string) => {
      const [method, p] = route.split(" ");
      return Object.keys(doc.paths[p][method.toLowerCase()].responses).filter((s) => s >= "4");
    };
    expect(statuses("POST /api/orders")).toEqual([
      "400",
      "401",
      "403",
      "404",
      "409",
      "413",
      "415",
      "422",
      "429",
      "503",
    ]);
    expect(statuses("DELETE /api/products/{id}")).toEqual([
      "400",
      "401",
      "403",
      "404",
      "422",
      "429",
      "503",
    ]);
    expect(statuses("GET /api/users/me")).toEqual(["400", "401", "403", "429", "503"]);
    for (const [route, op] of operations()) {
      if (route.includes("/health/")) continue;
      for (const [status, response] of Object.entries(op.responses)) {
        if (status < "4") continue;
        expect(response.content!["application/json"].schema).toEqual({
          $ref: "#/components/schemas/ErrorBody",
        });
      }
    }
    const conflict = doc.paths["/api/orders"].post.responses["409"] as unknown as Json;
    expect(String(conflict.description)).toMatch(/OUT_OF_STOCK.*IDEMPOTENCY_CONFLICT/);
  });

  it("marks public operations `security: []` and the others bearer-only", () => {
    expect(doc.paths["/api/products"].get.security).toEqual([]);
    expect(doc.paths["/api/auth/login"].post.security).toEqual([]);
    expect(doc.paths["/api/orders"].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths["/api/products"].post.security).toEqual([{ bearerAuth: [] }]);
  });

  it("documents the Idempotency-Key header, the test card tokens and a server", () => {
    const checkout = doc.paths["/api/orders"].post;
    expect(checkout.parameters).toEqual([
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }),
    ]);
    const token = (checkout.requestBody!.content["application/json"].schema.properties as Json)
      .paymentToken as Json;
    for (const t of ["tok_visa", "tok_chargeDeclined", "tok_slow"])
      expect(String(token.description)).toContain(t);
    // Relative: resolved against the document's own URL, so right behind TLS or a proxy.
    expect(doc.servers).toEqual([
      { url: "/", description: "The host this document was fetched from" },
    ]);
  });

  it("is a valid OpenAPI 3.0 document", async () => {
    await expect(validateOpenApi(doc)).resolves.toBe("valid");
  });

  it("passes `redocly lint` with no errors", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "openapi-")), "openapi.json");
    fs.writeFileSync(file, JSON.stringify(doc));
    const cli = path.resolve(__dirname, "../../node_modules/.bin/redocly");
    const run = spawnSync(cli, ["lint", "--format=json", file], { encoding: "utf8" });
    const report = JSON.parse(run.stdout) as { totals: { errors: number }; problems: unknown[] };
    expect(report.totals.errors === 0 ? [] : report.problems).toEqual([]);
    expect(run.status).toBe(0);
  });
});
