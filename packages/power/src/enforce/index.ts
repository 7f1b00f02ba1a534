/**
 * Enforcement: caps decided by the power service pushed to equipment and read back. A driver
 * speaks one protocol (Redfish here); the reconciler diffs decisions against what the drivers
 * confirmed and counts every unconfirmed cap at its maximum.
 */
export type { CapDriver, CapReading } from "./driver.ts";
export { EnforceError, type EnforceErrorCode } from "./errors.ts";
export {
  type CapState,
  type CapStatus,
  createReconciler,
  type ReconcileResult,
  type Reconciler,
  type ReconcilerOptions,
} from "./reconciler.ts";
export { bmcOptionsFromEndpoints, createRedfishCapDriver, type RedfishCapDriverOptions } from "./redfish.ts";
export { type CapTarget, parseCapTarget } from "./target.ts";
