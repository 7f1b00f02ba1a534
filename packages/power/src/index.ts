/**
 * The domain power service's core: the budget tree derived from a factory's power chain, and
 * the cap allocator that is exactly optimal over it (FACTS.md, "Power and performance").
 */
export {
  type AllocateOptions,
  type Allocation,
  type AllocationInput,
  allocate,
  type BudgetLimit,
  type BudgetUse,
  type GpuSlot,
  type Job,
  type JobAllocation,
} from "./allocate.ts";
export {
  type Budget,
  type BudgetOptions,
  type BudgetTree,
  deriveBudgets,
  type FacilityTarget,
  type LimitOverride,
} from "./budget.ts";
export {
  type ControlDecision,
  type ControlledJob,
  type ControllerOptions,
  DECODE_KNEE,
  type GpuExplanation,
  type LevelStatus,
  PLANNED_PSU_EFFICIENCY,
  PowerController,
  type PowerReadings,
} from "./controller.ts";
export { computeBoundCurve, decodeCurve, type ThroughputCurve } from "./curves.ts";
export {
  bmcOptionsFromEndpoints,
  type CapDriver,
  type CapReading,
  type CapState,
  type CapStatus,
  type CapTarget,
  createReconciler,
  createRedfishCapDriver,
  EnforceError,
  type EnforceErrorCode,
  parseCapTarget,
  type ReconcileResult,
  type Reconciler,
  type ReconcilerOptions,
  type RedfishCapDriverOptions,
} from "./enforce/index.ts";
export { PowerError, type PowerErrorCode } from "./errors.ts";
export { type AllocationChange, IncrementalAllocator } from "./incremental.ts";
export {
  applyProfile,
  applyProfiles,
  builtinProfileName,
  builtinProfiles,
  type CustomProfileInput,
  definePolicy,
  defineProfile,
  MAX_Q_CAP_FRACTION,
  type PolicyJob,
  type PowerProfile,
  ProfileError,
  type ProfileErrorCode,
  type ProfileMode,
  type ProfilePolicy,
  type ProfileRule,
  type Resolution,
  resolveProfile,
  type Sourced,
  type WorkloadKind,
} from "./profiles.ts";
export {
  DEFAULT_SAFETY_CONFIG,
  decideSafety,
  initialSafetyState,
  type SafetyAction,
  type SafetyConfig,
  type SafetyDecision,
  type SafetyGpu,
  type SafetyHold,
  type SafetyLevel,
  type SafetyLevelReport,
  type SafetyObservation,
  type SafetyReason,
  type SafetyRule,
  type SafetyState,
} from "./safety.ts";
