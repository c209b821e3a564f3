/** Page arithmetic shared by every list endpoint: `{ rows, total, page, pageSize, totalPages }`. */
export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
  totalPages: number;
}

/**
 * The last page a client may ask for: deeper pages are a full scan to skip (page × pageSize rows)
 * and no user pages that far; without a bound `page=9e35` passed as an "integer".
 */
export const MAX_PAGE = 10_000;

export const pagingParams = {
  page: {
    type: "number",
    integer: true,
    min: 1,
    max: MAX_PAGE,
    convert: true,
    optional: true,
    default: 1,
  },
  pageSize: {
    type: "number",
    integer: true,
    min: 1,
    max: 100,
    convert: true,
    optional: true,
    default: 20,
  },
} as const;

export function pageOf<T>(rows: T[], total: number, page: number, pageSize: number): Page<T> {
  return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
}

/** Escapes a user's text for use inside a RegExp, so `.*` or `(` match themselves. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
