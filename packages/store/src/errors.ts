/** Why a store operation was refused. */
export type StoreErrorCode = "conflict" | "not_found" | "invalid";

/** A refusal the caller can act on (map to 409 / 404 / 400), as opposed to a database failure. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = "StoreError";
    this.code = code;
  }
}
