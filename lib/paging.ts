/** Page arithmetic shared by every list endpoint (contracts/common.ts, `Page`). */
import type { Page } from "../contracts/common";

export type { Page };

export function pageOf<T>(rows: T[], total: number, page: number, pageSize: number): Page<T> {
  return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
}

/** Escapes a user's text for use inside a RegExp, so `.*` or `(` match themselves. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
