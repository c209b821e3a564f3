/** Page arithmetic shared by every list endpoint: `{ rows, total, page, pageSize, totalPages }`. */
export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
  totalPages: number;
}

export const pagingParams = {
  page: { type: "number", integer: true, min: 1, convert: true, optional: true, default: 1 },
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
