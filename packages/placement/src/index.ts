/**
 * Admission and placement: power as a scheduling primitive. A job (GPU count, topology shape,
 * power profile, priority, org) gets nodes in its org's racks that fit its shape and have power
 * headroom on every level above them, or a queued / rejected answer naming the level at fault;
 * reservations hold nodes and power for future windows and steer other work away; the same
 * engine answers the Kubernetes scheduler-extender verbs.
 */
export {
  createPlacementEngine,
  type HoldingExplanation,
  type PlacementEngine,
  type PlacementEngineOptions,
} from "./engine.ts";
export { PLACEMENT_ERROR_STATUS, PlacementError, type PlacementErrorCode } from "./errors.ts";
export {
  type ExtenderArgs,
  type ExtenderBindingArgs,
  type ExtenderBindingResult,
  type ExtenderFilterResult,
  type HostPriority,
  MAX_EXTENDER_PRIORITY,
} from "./extender.ts";
export {
  ANNOTATION_PRIORITY,
  ANNOTATION_PROFILE,
  GPU_RESOURCE,
  LABEL_JOB,
  LABEL_TYPE,
} from "./pod.ts";
export {
  type Decision,
  type Explanation,
  type Holding,
  type JobTraits,
  type LevelUse,
  type Placed,
  type PlacementRequest,
  type Refused,
  type ReservationRequest,
  SHAPES,
  type Shape,
} from "./types.ts";
