/**
 * The digital twin: brings a factory description to life in a separate process and speaks only
 * the protocols real equipment speaks (dcgm-exporter, vLLM and trainer pages, Redfish, syslog).
 * Imports only @flightdeck/model;
 * the control plane never imports this package.
 *
 * @example Run it as a service:
 *   const sim = await startSim({ factoryFile: "examples/factories/lab.yaml", port: 0, targetsFile: "targets.json" });
 *   await fetch(`${sim.url}/nodes/r01-dgx1/metrics`);
 *   await sim.stop();
 *
 * @example Drive it by hand (benchmarks):
 *   const state = createState(graph, catalog, { seed: 1 });
 *   tick(state, 1);
 *   const bytes = renderAllNodePages(state, createDcgmExporter(state));
 */
import type { DcgmExporter } from "./exporters/dcgm.ts";
import type { FactoryState } from "./state.ts";

export {
  A40_CURVE,
  CAP_DRAW_RATIO,
  type CurveParams,
  relativeThroughput,
  THROUGHPUT_CURVE,
  V100_CURVE,
} from "./calibration.ts";
export {
  type CurveFit,
  calibrate,
  calibrateZeusFile,
  parseZeusCsv,
  type SweepPoint,
} from "./calibration-fit.ts";
export { DRIVER_VERSION, gpuUuid, pciBusId } from "./devices.ts";
export { createDcgmExporter, type DcgmExporter, type DcgmExporterOptions } from "./exporters/dcgm.ts";
export { DCGM_FIELDS, type DcgmField, type DcgmFieldSet, dcgmFields } from "./exporters/dcgm-fields.ts";
export { renderTrainingPage } from "./exporters/training.ts";
export {
  createVllmStats,
  recordFinishedRequest,
  recordIteration,
  renderVllmPage,
  setLoad,
  type VllmServerOptions,
  type VllmServerStats,
} from "./exporters/vllm.ts";
export { extenderPlacer, podFor } from "./extender.ts";
export {
  COOLING_MAX_RISE_C,
  COOLING_RISE_C_PER_S,
  FAULT_KINDS,
  FaultError,
  type FaultKind,
  type FaultRecord,
  type FaultRequest,
  type FaultState,
  injectFault,
  NVLINK_ERRORS_PER_S,
  STRAGGLER_FACTOR,
} from "./faults.ts";
export { createJobService } from "./job-service.ts";
export {
  candidateNodes,
  createJobEngine,
  firstFit,
  idealStepSeconds,
  type JobEngine,
  type JobRuntime,
  type JobTruth,
  jobsTruth,
  type Placer,
  type Replica,
  stepJobs,
} from "./jobs.ts";
export { MAX_Q_POWER_FRACTION, THERMAL_TIME_CONSTANT_S, tick } from "./physics.ts";
export { PSU_EFFICIENCY } from "./power-tree.ts";
export {
  advance,
  attachModelServers,
  type RunningSim,
  SimLoadError,
  type SimOptions,
  startSim,
  TICK_SECONDS,
} from "./run.ts";
export {
  type JobSpec,
  loadScenario,
  loadScenarioFile,
  type Scenario,
  ScenarioError,
  scenarioSchema,
} from "./scenario.ts";
export { createSimServer, PROMETHEUS_TEXT, type SimHandler, type SimServerSources } from "./server.ts";
export {
  BMC_CAP_DELAY_SECONDS,
  createState,
  type FactoryState,
  type GpuState,
  PROFILE_MAX_P,
  PROFILE_MAX_Q,
  type StateOptions,
  scheduleGpuCap,
  setGpuCapWatts,
  setGpuProfile,
} from "./state.ts";
export {
  createSyslogSender,
  type SyslogFormat,
  type SyslogSender,
  type SyslogSenderOptions,
} from "./syslog.ts";
export { endpointsSection, type FileSdGroup, fileSdGroups, writeFileSd } from "./targets.ts";
export type { SimTopology } from "./topology.ts";
export { parseAzureTrace, readAzureTrace, TraceError } from "./trace.ts";
export { type RackTruth, type Truth, type TruthFault, truthOf } from "./truth.ts";
export { WORK_COMPUTE, WORK_DECODE, WORK_IDLE, WORK_JOB, type WorkloadOptions } from "./workload.ts";

/** Renders every GPU node's dcgm page once (as a scrape of the whole factory would); returns the bytes. */
export function renderAllNodePages(state: FactoryState, exporter: DcgmExporter): number {
  let bytes = 0;
  for (let n = 0; n < state.topo.nodeCount; n++) bytes += exporter.render(n).length;
  return bytes;
}
