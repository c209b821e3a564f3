/**
 * Turns any error that reaches the gateway into the contract's error body (API.md, "Errors").
 * Client errors keep their type and message; infrastructure errors become a 503 without node
 * ids; anything unexpected is a bare 500. No stack, driver message or host ever leaves.
 */
export interface ErrorBody {
  name: string;
  message: string;
  code: number;
  type: string;
  data?: unknown;
}

interface AnyError {
  name?: string;
  message?: string;
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  data?: unknown;
  expose?: unknown;
}

const UNAVAILABLE_TYPES = new Set([
  "SERVICE_NOT_FOUND",
  "SERVICE_NOT_AVAILABLE",
  "REQUEST_TIMEOUT",
  "REQUEST_REJECTED",
  "REQUEST_SKIPPED",
  "QUEUE_FULL",
  "SERVICE_UNAVAILABLE",
  "BROKER_STOPPING",
]);

const UNAUTHORIZED_TYPES = new Set(["NO_TOKEN", "INVALID_TOKEN", "UNAUTHORIZED"]);

function unavailable(): ErrorBody {
  return {
    name: "ServiceUnavailableError",
    message: "A needed service is unavailable, try again shortly",
    code: 503,
    type: "SERVICE_UNAVAILABLE",
  };
}

function fieldErrors(data: unknown): Array<{ field: string; message: string; type: string }> {
  if (!Array.isArray(data)) return [];
  return data.map((d: { field?: unknown; message?: unknown; type?: unknown }) => ({
    field: String(d.field ?? ""),
    message: String(d.message ?? ""),
    type: String(d.type ?? ""),
  }));
}

export function toErrorBody(raw: unknown): ErrorBody {
  const err = (raw ?? {}) as AnyError;
  const type = typeof err.type === "string" ? err.type : "";
  const code = Number(err.code ?? err.status ?? err.statusCode);

  // body-parser's errors (http-errors objects: a numeric `status`, `expose`, a dotted `type`
  // such as "entity.parse.failed" or "charset.unsupported"). Their messages quote the body.
  const fromBodyParser = typeof err.expose === "boolean" || /^[a-z]+\.[a-z.]+$/.test(type);
  if (type === "entity.too.large" || type === "PAYLOAD_TOO_LARGE" || code === 413) {
    // API.md lists 413 in the INVALID_REQUEST row: a request the gateway refuses to read.
    return {
      name: "PayloadTooLargeError",
      message: "Request body too large",
      code: 413,
      type: "INVALID_REQUEST",
    };
  }
  // The gateway's own body errors (RequestBodyError) carry a message written for clients.
  const ours = type === "INVALID_REQUEST" && Boolean(err.message);
  if (code === 415) {
    return {
      name: "UnsupportedMediaTypeError",
      message: ours ? err.message! : "Unsupported media type or encoding",
      code: 415,
      type: "INVALID_REQUEST",
    };
  }
  if (fromBodyParser || type === "INVALID_REQUEST_BODY" || ours) {
    let message = "Unreadable request body";
    if (ours) message = err.message!;
    else if (type === "entity.parse.failed") message = "Malformed JSON body";
    return { name: "BadRequestError", message, code: 400, type: "INVALID_REQUEST" };
  }
  if (UNAVAILABLE_TYPES.has(type) || code === 503 || code === 504) return unavailable();
  if (UNAUTHORIZED_TYPES.has(type) || code === 401) {
    return {
      name: "UnauthorizedError",
      message: err.message && type === "UNAUTHORIZED" ? err.message : "Authentication required",
      code: 401,
      type: "UNAUTHORIZED",
    };
  }
  if (type === "VALIDATION_ERROR" || code === 422) {
    return {
      name: "ValidationError",
      // Ours ("Nothing to update") and moleculer's ("Parameters validation error!") are both
      // written for clients; the field list is rebuilt without the offending values.
      message: err.message || "Parameters validation error",
      code: 422,
      type: "VALIDATION_ERROR",
      data: fieldErrors(err.data),
    };
  }
  if (code === 404) {
    return {
      name: "NotFoundError",
      message: type === "NOT_FOUND" && err.message ? err.message : "Not found",
      code: 404,
      type: "NOT_FOUND",
    };
  }
  if (code === 429) {
    return {
      name: "RateLimitedError",
      message: "Too many requests",
      code: 429,
      type: "RATE_LIMITED",
    };
  }
  if (code === 403) {
    return {
      name: "ForbiddenError",
      message: err.message || "Not allowed",
      code: 403,
      type: "FORBIDDEN",
    };
  }
  if (code === 400) {
    return { name: "BadRequestError", message: "Bad request", code: 400, type: "INVALID_REQUEST" };
  }
  // The remaining client errors are ours (lib/errors.ts): their messages are written for users.
  if (Number.isInteger(code) && code >= 400 && code < 500) {
    const body: ErrorBody = {
      name: err.name ?? "ClientError",
      message: err.message ?? "Request failed",
      code,
      type: type || "CLIENT_ERROR",
    };
    if (err.data !== undefined) body.data = err.data;
    return body;
  }
  return {
    name: "InternalError",
    message: "Internal server error",
    code: 500,
    type: "INTERNAL_ERROR",
  };
}
