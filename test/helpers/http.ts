/**
 * The tests' JSON client: the bench's (compiled without test/), with every answer checked
 * against the OpenAPI document the gateway serves (test/helpers/openapi-validate.ts). A status
 * the document does not declare for the operation, or a body that does not match the declared
 * schema, fails the request and so the test.
 */
import { client as jsonClient } from "../../bench/http";
import { contractProblems } from "./openapi-validate";

export * from "../../bench/http";

export function client(baseUrl: string) {
  return jsonClient(baseUrl, (method, path, result) => {
    const problems = contractProblems(method, path, result);
    if (problems.length > 0)
      throw new Error(
        `${method} ${path} answered outside the OpenAPI document:\n${problems.join("\n")}`,
      );
  });
}
