/** Why the placement engine refused an input: one error type with a stable code and the field at fault. */

export type PlacementErrorCode =
  /** The request's org owns no racks in the factory. */
  | "unknown-org"
  /** A field is missing or out of range (GPU count, shape, kind, window). */
  | "bad-request"
  /** No built-in or custom profile by that name, or none for a GPU type the org has. */
  | "unknown-profile"
  /** A profile's cap lies outside a GPU's settable range. */
  | "bad-profile"
  /** An id that names no job, reservation or node. */
  | "unknown-job"
  | "unknown-reservation"
  | "unknown-node"
  /** An id already in use, or nodes another job holds. */
  | "conflict";

/** HTTP status a front end should answer for each code. */
export const PLACEMENT_ERROR_STATUS: Readonly<Record<PlacementErrorCode, number>> = {
  "unknown-org": 400,
  "bad-request": 400,
  "unknown-profile": 400,
  "bad-profile": 400,
  "unknown-job": 404,
  "unknown-reservation": 404,
  "unknown-node": 400,
  conflict: 409,
};

/** A refused placement input; `field` is the request field at fault ("" when none). */
export class PlacementError extends Error {
  readonly code: PlacementErrorCode;
  readonly field: string;
  constructor(code: PlacementErrorCode, field: string, message: string) {
    super(message);
    this.name = "PlacementError";
    this.code = code;
    this.field = field;
  }
}
