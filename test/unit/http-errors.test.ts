import { Errors } from "moleculer";
import { toErrorBody } from "../../lib/http-errors";
import { ConflictError, ServiceUnavailableError, ValidationError } from "../../lib/errors";

/** What body-parser throws (an http-errors object). */
function bodyParserError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, type, expose: true });
}

describe("error bodies of the contract", () => {
  it("turns a driver error into a bare 500 without its message", () => {
    const driver = Object.assign(new Error("E11000 duplicate key mongo-0.mongo.svc:27017"), {
      code: 11000,
    });
    expect(toErrorBody(driver)).toEqual({
      name: "InternalError",
      message: "Internal server error",
      code: 500,
      type: "INTERNAL_ERROR",
    });
  });

  it("turns infrastructure errors into a 503 without node ids", () => {
    const timeout = new Errors.RequestTimeoutError({ action: "products.get", nodeID: "pod-7" });
    const gone = new Errors.ServiceNotAvailableError({ action: "users.me", nodeID: "pod-3" });
    for (const err of [timeout, gone, new ServiceUnavailableError("down", { host: "10.1.2.3" })]) {
      const body = toErrorBody(err);
      expect(body).toEqual({
        name: "ServiceUnavailableError",
        message: "A needed service is unavailable, try again shortly",
        code: 503,
        type: "SERVICE_UNAVAILABLE",
      });
    }
  });

  it("maps body-parser's errors to 400 and 413 of type INVALID_REQUEST, without quoting the body", () => {
    expect(
      toErrorBody(bodyParserError(400, "entity.parse.failed", "Unexpected token } in {x")),
    ).toEqual({
      name: "BadRequestError",
      message: "Malformed JSON body",
      code: 400,
      type: "INVALID_REQUEST",
    });
    expect(
      toErrorBody(bodyParserError(415, "charset.unsupported", 'unsupported charset "X"')),
    ).toMatchObject({ code: 400, type: "INVALID_REQUEST", message: "Unreadable request body" });
    expect(
      toErrorBody(bodyParserError(413, "entity.too.large", "request entity too large")),
    ).toEqual({
      name: "PayloadTooLargeError",
      message: "Request body too large",
      code: 413,
      type: "INVALID_REQUEST",
    });
  });

  it("keeps a validation error's field list, without the rejected values", () => {
    const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
      {
        field: "email",
        message: "The 'email' field must be a string.",
        type: "string",
        actual: { $gt: "" },
      },
    ]);
    expect(toErrorBody(err)).toEqual({
      name: "ValidationError",
      message: "Parameters validation error!",
      code: 422,
      type: "VALIDATION_ERROR",
      data: [{ field: "email", message: "The 'email' field must be a string.", type: "string" }],
    });
    expect(toErrorBody(new ValidationError("Nothing to update", [])).message).toBe(
      "Nothing to update",
    );
  });

  it("passes the contract's own client errors through with their type", () => {
    expect(toErrorBody(new ConflictError("taken"))).toEqual({
      name: "ConflictError",
      message: "taken",
      code: 409,
      type: "CONFLICT",
    });
  });
});
