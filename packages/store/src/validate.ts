import { StoreError } from "./errors.ts";

/** Listings return this many rows unless asked otherwise. */
export const DEFAULT_PAGE_LIMIT = 100;

/** Throws `invalid` unless `value` is a non-empty string. */
export function requireText(value: unknown, field: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new StoreError("invalid", `${field} must be a non-empty string`);
  }
  return value;
}

/** The page size to use; throws `invalid` for anything but a positive integer. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new StoreError("invalid", `limit must be a positive integer, got ${limit}`);
  }
  return limit;
}

/** Throws `invalid` unless `value` is a positive integer id. */
export function requireId(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new StoreError("invalid", `${field} must be a positive integer`);
  }
  return value;
}
