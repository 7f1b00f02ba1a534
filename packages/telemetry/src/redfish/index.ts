/**
 * Redfish reader: GPU EnvironmentMetrics, chassis power and power controls from BMCs, circuits
 * and summary metrics from PDUs and power shelves, found by following links from the service root.
 *
 * @example
 *   const client = createRedfishClient({ baseUrl: "https://bmc1", username, password });
 *   const poller = createRedfishPoller({ client });
 *   const snap = await poller.poll();
 *   const gpu = snap.gpus[0]!;
 *   await setGpuPowerLimit(client, gpu, 500);
 *   (await readBack(client, gpu)).setPointWatts; // 500 once the BMC took it
 */
export {
  createRedfishClient,
  type RedfishClient,
  type RedfishClientOptions,
  type RedfishDocument,
  type RedfishPatchResult,
} from "./client.ts";
export { discoverRedfish } from "./discover.ts";
export { parseRedfishErrorBody, RedfishError, type RedfishErrorCode, type RedfishMessage } from "./errors.ts";
export { createLimiter, type Limiter } from "./limit.ts";
export { pollRedfish } from "./poll.ts";
export { createRedfishPoller, type RedfishPoller, type RedfishPollerOptions } from "./poller.ts";
export {
  readBack,
  type SetPointOptions,
  type SetPointReadBack,
  type SetPointTarget,
  setControlSetPoint,
  setGpuPowerLimit,
} from "./setpoint.ts";
export type * from "./types.ts";
