/** The contract's error body (contracts/common.ts) as the security suites check it. */
import type { ErrorBody as AnyErrorBody, FieldError } from "../../contracts/common";

/** The suites check validation errors: their `data` is the list of failed fields. */
export type ErrorBody = Omit<AnyErrorBody, "data"> & { data?: FieldError[] };

/** Only the contract's keys: no stack, no driver message, no node id. */
export function expectContractError(body: unknown, code: number, type: string): void {
  const err = body as ErrorBody;
  expect(err).toMatchObject({ code, type });
  expect(Object.keys(err).sort()).toEqual(
    (err.data === undefined ? [] : ["data"]).concat(["code", "message", "name", "type"]).sort(),
  );
  expect(JSON.stringify(err)).not.toMatch(/stack|at \w+ \(|node_modules|Mongo|nedb|nodeID/i);
}
