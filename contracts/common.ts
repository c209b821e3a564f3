/** What every service's contract shares: ids, paging, the error body. */
import { params, s, type Infer, type Schema } from "./schema";

/** A document id as it arrives in a path or a body. */
export const id = (description = "Id") => s.string({ min: 1, max: 64, description });

/**
 * The last page a client may ask for: deeper pages are a full scan to skip (page × pageSize rows)
 * and no user pages that far; without a bound `page=9e35` passed as an "integer".
 */
export const MAX_PAGE = 10_000;

export const pagingProps = {
  page: s.withDefault(
    s.int({ min: 1, max: MAX_PAGE, convert: true, description: "1-based page number" }),
    1,
  ),
  pageSize: s.withDefault(
    s.int({ min: 1, max: 100, convert: true, description: "Rows per page" }),
    20,
  ),
};

export const pagingParams = params(pagingProps);

/** Every list endpoint answers `{ rows, total, page, pageSize, totalPages }`. */
export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
  totalPages: number;
}

/** A page of `item` (a component reference), as the OpenAPI document describes it. */
export function pageOf<T>(item: Schema<T, "required">): Schema<Page<T>, "required"> {
  return s.object({
    rows: s.array(item),
    total: s.int({ min: 0, description: "Rows matching the query, on all pages" }),
    page: s.int({ min: 1 }),
    pageSize: s.int({ min: 1 }),
    totalPages: s.int({ min: 0 }),
  });
}

/** The error `type`s a client can branch on, with the status each comes with. */
export const ERROR_TYPES = {
  INVALID_REQUEST: [400, 413, 415],
  UNAUTHORIZED: [401],
  FORBIDDEN: [403],
  NOT_FOUND: [404],
  CONFLICT: [409],
  OUT_OF_STOCK: [409],
  IDEMPOTENCY_CONFLICT: [409],
  INVALID_STATE: [409],
  VALIDATION_ERROR: [422],
  RATE_LIMITED: [429],
  SERVICE_UNAVAILABLE: [503],
} as const;

export type ErrorType = keyof typeof ERROR_TYPES;

const fieldError = s.object({
  field: s.string({ example: "price" }),
  message: s.string({ example: "The 'price' field must be greater than or equal to 0." }),
  type: s.string({ example: "numberMin" }),
});

const stockShortage = s.object({
  productId: s.string(),
  requested: s.int({ min: 1 }),
  available: s.int({ min: 0 }),
});

/** Every error the gateway answers has this body (lib/http-errors.ts writes it). */
export const errorBody = s.object({
  name: s.string({ example: "ValidationError" }),
  message: s.string({ description: "Written for people; safe to show", example: "Not found" }),
  code: s.int({ min: 400, max: 599, description: "The HTTP status" }),
  type: s.enum(Object.keys(ERROR_TYPES) as ErrorType[], {
    description: "What went wrong, for a program to branch on",
  }),
  data: s.optional(
    s.oneOf(s.array(fieldError), stockShortage, {
      description:
        "For VALIDATION_ERROR one entry per failed field; for OUT_OF_STOCK the first short line",
    }),
  ),
});

export type ErrorBody = Infer<typeof errorBody>;
export type FieldError = Infer<typeof fieldError>;
