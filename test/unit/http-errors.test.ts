import { Errors } from "moleculer";
import { toErrorBody } from "../../lib/http-errors";
import {
  ConflictError,
  NotFoundError,
  OutOfStockError,
  RequestBodyError,
  ServiceUnavailableError,
  ValidationError,
} from "../../lib/errors";

/** What body-parser throws (an http-errors object). */
function bodyParserError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, type, expose: true });
}

describe("gateway error bodies", () => {
  it("keeps the contract's client errors as they are", () => {
    expect(toErrorBody(new OutOfStockError({ productId: "p1" }))).toEqual({
      name: "OutOfStockError",
      message: "Not enough stock for one or more items",
      code: 409,
      type: "OUT_OF_STOCK",
      data: { productId: "p1" },
    });
    expect(toErrorBody(new ConflictError("dup"))).toMatchObject({ code: 409, type: "CONFLICT" });
    expect(toErrorBody(new NotFoundError("Order"))).toMatchObject({
      code: 404,
      message: "Order not found",
    });
  });

  it("reduces validation errors to field, message and type (no echo of the input)", () => {
    const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
      {
        type: "string",
        field: "email",
        message: "The 'email' field must be a string.",
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
    // Our own validation messages are written for clients and kept.
    expect(toErrorBody(new ValidationError("Nothing to update", [])).message).toBe(
      "Nothing to update",
    );
  });

  it("turns infrastructure failures into a 503 that names no node", () => {
    for (const err of [
      new Errors.ServiceNotFoundError({ action: "products.get", nodeID: "node-7" }),
      new Errors.ServiceNotAvailableError({ action: "products.get", nodeID: "node-7" }),
      new Errors.RequestTimeoutError({ action: "products.get", nodeID: "node-7" }),
      new ServiceUnavailableError("down", { nodeID: "node-7" }),
    ]) {
      const body = toErrorBody(err);
      expect(body).toMatchObject({ code: 503, type: "SERVICE_UNAVAILABLE" });
      expect(JSON.stringify(body)).not.toContain("node-7");
    }
  });

  it("hides the message of anything unexpected", () => {
    const body = toErrorBody(new Error("connect ECONNREFUSED 10.0.0.5:27017"));
    expect(body).toEqual({
      name: "InternalError",
      message: "Internal server error",
      code: 500,
      type: "INTERNAL_ERROR",
    });
  });

  it("maps every body-parser error to INVALID_REQUEST without quoting the body", () => {
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
    ).toEqual({
      name: "UnsupportedMediaTypeError",
      message: "Unsupported media type or encoding",
      code: 415,
      type: "INVALID_REQUEST",
    });
    // Recognised by the type alone, without body-parser's `expose` flag.
    expect(
      toErrorBody({ status: 400, type: "entity.parse.failed", message: "Unexpected" }),
    ).toEqual({
      name: "BadRequestError",
      message: "Malformed JSON body",
      code: 400,
      type: "INVALID_REQUEST",
    });
    // API.md lists 413 in the INVALID_REQUEST row.
    expect(
      toErrorBody(bodyParserError(413, "entity.too.large", "request entity too large")),
    ).toEqual({
      name: "PayloadTooLargeError",
      message: "Request body too large",
      code: 413,
      type: "INVALID_REQUEST",
    });
  });

  it("keeps the gateway's own body errors with their status and message", () => {
    for (const status of [400, 413, 415] as const) {
      const body = toErrorBody(new RequestBodyError(status, `refused with ${status}`));
      expect(body).toMatchObject({ code: status, type: "INVALID_REQUEST" });
      if (status !== 413) expect(body.message).toBe(`refused with ${status}`);
    }
  });
});
