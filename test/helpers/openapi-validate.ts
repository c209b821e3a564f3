/**
 * Validates an OpenAPI document with @apidevtools/swagger-parser. The validator's dependencies
 * are ES modules, which Jest's module runtime cannot require on Node 22, so it runs in a child
 * Node process (where `require` of ES modules works) and reports back.
 */
import { spawn } from "node:child_process";
import path from "node:path";

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
