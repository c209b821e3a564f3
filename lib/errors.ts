/**
 * The contract's error types (../shared/API.md, "Errors"), thrown from this one module so a grep
 * for a type finds every producer. All are client errors: the gateway passes them through with
 * their status; anything else becomes a bare 500 without its message.
 */
import { Errors } from "moleculer";

export interface FieldError {
  field: string;
  message: string;
  type: string;
}

export class NotFoundError extends Errors.MoleculerClientError {
  constructor(what = "Resource") {
    super(`${what} not found`, 404, "NOT_FOUND");
    this.name = "NotFoundError";
  }
}

export class ConflictError extends Errors.MoleculerClientError {
  constructor(message: string, type = "CONFLICT", data?: unknown) {
    super(message, 409, type, data);
    this.name = "ConflictError";
  }
}

export class OutOfStockError extends ConflictError {
  constructor(data?: unknown) {
    super("Not enough stock for one or more items", "OUT_OF_STOCK", data);
    this.name = "OutOfStockError";
  }
}

export class IdempotencyConflictError extends ConflictError {
  constructor() {
    super("This Idempotency-Key was used with a different request body", "IDEMPOTENCY_CONFLICT");
    this.name = "IdempotencyConflictError";
  }
}

export class InvalidStateError extends ConflictError {
  constructor(message: string) {
    super(message, "INVALID_STATE");
    this.name = "InvalidStateError";
  }
}

export class ValidationError extends Errors.MoleculerClientError {
  constructor(message: string, data: FieldError[]) {
    super(message, 422, "VALIDATION_ERROR", data);
    this.name = "ValidationError";
  }
}

export class UnauthorizedError extends Errors.MoleculerClientError {
  constructor(message = "Authentication required") {
    super(message, 401, "UNAUTHORIZED");
    this.name = "UnauthorizedError";
  }
}

export class ForbiddenError extends Errors.MoleculerClientError {
  constructor(message = "Not allowed") {
    super(message, 403, "FORBIDDEN");
    this.name = "ForbiddenError";
  }
}

/** A method the path does not have (405); the gateway sends `Allow` with it. */
export class MethodNotAllowedError extends Errors.MoleculerClientError {
  constructor(method: string, allowed: string[]) {
    super(
      `${method} is not allowed here; allowed: ${allowed.join(", ")}`,
      405,
      "METHOD_NOT_ALLOWED",
      {
        allowed,
      },
    );
    this.name = "MethodNotAllowedError";
  }
}

export class ServiceUnavailableError extends Errors.MoleculerError {
  constructor(message = "A needed service is unavailable", data?: unknown) {
    super(message, 503, "SERVICE_UNAVAILABLE", data);
    this.name = "ServiceUnavailableError";
  }
}

/**
 * The provider refused a charge. Never thrown to a client (a declined payment cancels the order,
 * API.md); it marks the provider call's span as failed, so a declined checkout shows in Jaeger.
 */
export class PaymentDeclinedError extends Errors.MoleculerError {
  constructor(reason: string) {
    super(`Payment declined: ${reason}`, 402, "PAYMENT_DECLINED", { reason });
    this.name = "PaymentDeclinedError";
  }
}

const BODY_ERROR_NAMES: Record<400 | 413 | 415, string> = {
  400: "BadRequestError",
  413: "PayloadTooLargeError",
  415: "UnsupportedMediaTypeError",
};

/** A request body the gateway refuses to read: malformed (400), too large (413), unsupported (415). */
export class RequestBodyError extends Errors.MoleculerClientError {
  constructor(status: 400 | 413 | 415, message: string) {
    super(message, status, "INVALID_REQUEST");
    this.name = BODY_ERROR_NAMES[status];
  }
}
