/**
 * The OpenAPI checks of the tests: a whole document's validity, and each answer against it.
 *
 * `validateOpenApi` validates a document with @apidevtools/swagger-parser. The validator's dependencies
 * are ES modules, which Jest's module runtime cannot require on Node 22, so it runs in a child
 * Node process (where `require` of ES modules works) and reports back.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { buildOpenApi } from "../../contracts/openapi";
import type { HttpResult } from "../../bench/http";

const SCRIPT = `
const SwaggerParser = require("@apidevtools/swagger-parser");
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  SwaggerParser.validate(JSON.parse(input)).then(
    () => process.stdout.write("valid"),
    (err) => {
      process.stdout.write(err.message);
      process.exitCode = 1;
    },
  );
});
`;

/** Resolves with `"valid"` or the validator's message. */
export function validateOpenApi(doc: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", SCRIPT], {
      cwd: path.resolve(__dirname, "../.."),
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(out));
    child.stdin.end(JSON.stringify(doc));
  });
}

/**
 * The document the gateway serves is `buildOpenApi` of the contracts (services/api.service.ts;
 * test/integration/gateway.test.ts checks the served one is this one), so the checks below
 * compile it once per test file instead of asking a gateway for it: that request would count
 * against the rate limits the tests measure.
 */
const DOC = buildOpenApi({ version: "1.0.0" }) as {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
};

interface ResponseObject {
  content?: Record<string, { schema: object }>;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(DOC, "openapi");

/** Each documented path as a matcher: `/api/orders/{id}` matches `/api/orders/o-1`. */
const MATCHERS = Object.keys(DOC.paths).map((template) => ({
  template,
  re: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

function pointer(...parts: string[]): string {
  return parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

/**
 * What is wrong with `result` as an answer to `method path`, by the served document: nothing
 * for a request the document does not describe (an unknown path, OPTIONS).
 */
export function contractProblems(method: string, path: string, result: HttpResult): string[] {
  const pathname = new URL(path, "http://x").pathname;
  const matched = MATCHERS.filter((m) => m.re.test(pathname));
  // A literal path wins over a template (`/api/openapi.json` is not `/api/{x}`).
  const template = (matched.find((m) => !m.template.includes("{")) ?? matched[0])?.template;
  const lower = method.toLowerCase();
  const operation = template ? DOC.paths[template][lower] : undefined;
  if (!template || !operation) return [];

  const status = String(result.status);
  const declared = operation.responses[status];
  if (!declared)
    return [`status ${status} is not declared (declared: ${Object.keys(operation.responses)})`];
  const contentType = result.headers.get("content-type") ?? "";
  if (!declared.content) {
    return result.body === null ? [] : [`status ${status} is declared without a body`];
  }
  const [mediaType] = Object.keys(declared.content);
  if (!contentType.startsWith(mediaType))
    return [`content type ${contentType || "(none)"} is not ${mediaType}`];
  if (mediaType !== "application/json") return [];
  const ref = `openapi#/${pointer("paths", template, lower, "responses", status, "content", mediaType, "schema")}`;
  const validate = ajv.getSchema(ref);
  if (!validate) return [`no schema at ${ref}`];
  if (validate(result.body)) return [];
  return (validate.errors ?? []).map(
    (e) => `body${e.instancePath} ${e.message ?? "is invalid"} (${JSON.stringify(e.params)})`,
  );
}
