/** The contract's error body (API.md, "Errors") as the security suites check it. */
export interface ErrorBody {
  name: string;
  message: string;
  code: number;
  type: string;
  data?: Array<{ field: string; message: string; type: string }>;
}

/** Only the contract's keys: no stack, no driver message, no node id. */
export function expectContractError(body: unknown, code: number, type: string): void {
  const err = body as ErrorBody;
  expect(err).toMatchObject({ code, type });
  expect(Object.keys(err).sort()).toEqual(
    (err.data === undefined ? [] : ["data"]).concat(["code", "message", "name", "type"]).sort(),
  );
  expect(JSON.stringify(err)).not.toMatch(/stack|at \w+ \(|node_modules|Mongo|nedb|nodeID/i);
}
