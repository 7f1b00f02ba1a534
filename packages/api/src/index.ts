/** The HTTP API of Flightdeck. */
export { ADMIN_TOKEN_FILE, ensureAdminToken } from "./bootstrap.ts";
export {
  type DemandResponseEvent,
  type PowerJob,
  type PowerLogEntry,
  PowerRequestError,
  PowerService,
  type PowerServiceOptions,
  type ScheduleStep,
  type TargetInput,
  type TargetStatus,
} from "./power.ts";
export { ApiError } from "./problems.ts";
export { createServer, DEFAULT_BODY_LIMIT_BYTES, type ServerOptions } from "./server.ts";
export { type ApplyOutcome, type CurrentFactory, FactoryState } from "./state.ts";
export { Telemetry, type TelemetryOptions, XID_EVENTS_KEPT } from "./telemetry.ts";
