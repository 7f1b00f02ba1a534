/**
 * The live state of the twin: one typed array per quantity, indexed by GPU, node, rack or power
 * device slot (see topology.ts). Counters are monotonic like their DCGM namesakes; `tick`
 * (physics.ts) is the only writer apart from the setters below and `injectFault` (faults.ts).
 */
import type { Catalog, FactoryGraph } from "@flightdeck/model";
import { createFaultState, type FaultState } from "./faults.ts";
import { nodeOverhead, rollUpPower } from "./power-tree.ts";
import { createPrng, nextFloat, type Prng } from "./prng.ts";
import { buildTopology, type SimTopology } from "./topology.ts";
import { assignWorkload, type WorkloadOptions, type WorkloadState } from "./workload.ts";

/** Workload power profiles (FACTS.md: NVML/DCGM/nvidia-smi/Redfish MAX-P and MAX-Q). */
export const PROFILE_MAX_P = 0;
export const PROFILE_MAX_Q = 1;

/** Per-GPU quantities, each indexed by GPU slot. */
export interface GpuState {
  /** 0–1, the share of time a kernel ran (DCGM_FI_DEV_GPU_UTIL ÷ 100). */
  utilization: Float32Array;
  /** Throughput relative to the same work uncapped and cool, 0–1. */
  throughputRel: Float32Array;
  capWatts: Float64Array;
  powerWatts: Float64Array;
  /** PROFILE_MAX_P or PROFILE_MAX_Q. */
  profile: Uint8Array;
  smClockMHz: Float32Array;
  memClockMHz: Float32Array;
  gpuTempC: Float32Array;
  memTempC: Float32Array;
  /** Monotonic since the twin started, as DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION. */
  energyMillijoules: Float64Array;
  eccSbeVolatile: Float64Array;
  eccDbeVolatile: Float64Array;
  eccSbeAggregate: Float64Array;
  eccDbeAggregate: Float64Array;
  retiredPagesSbe: Float64Array;
  retiredPagesDbe: Float64Array;
  retiredPagesPending: Float64Array;
  rowRemapCorrectable: Float64Array;
  rowRemapUncorrectable: Float64Array;
  /** 1 when row remapping has failed. */
  rowRemapFailure: Uint8Array;
  nvlinkCrcFlitErrors: Float64Array;
  nvlinkCrcDataErrors: Float64Array;
  nvlinkReplayErrors: Float64Array;
  nvlinkRecoveryErrors: Float64Array;
  nvlinkBytes: Float64Array;
  pcieReplays: Float64Array;
  /** Last Xid seen, 0 for none. */
  xidLast: Uint16Array;
  /**
   * Tokens each GPU has worked on: its even share of its job's (or replica's) prompt tokens
   * prefilled, tokens generated, and tokens trained. Ground truth for per-GPU KPIs.
   */
  promptTokens: Float64Array;
  generatedTokens: Float64Array;
  trainingTokens: Float64Array;
  /** Throttling time due to the power cap / temperature, in nanoseconds (DCGM fields 240/241). */
  powerViolationNs: Float64Array;
  thermalViolationNs: Float64Array;
}

/** The whole twin: static topology plus everything that changes. */
export interface FactoryState {
  readonly topo: SimTopology;
  readonly gpu: GpuState;
  /** Node draw inside the chassis (GPUs + overheads), before power supply losses. */
  readonly nodePowerWatts: Float64Array;
  /** Rack inlet air (or coolant supply) temperature. */
  readonly rackInletC: Float32Array;
  /** Input power of every power device, by power slot. */
  readonly powerWatts: Float64Array;
  /** Energy into every power device since start, by power slot (what a meter's kWh counts). */
  readonly powerEnergyJoules: Float64Array;
  /**
   * Energy carried by every circuit of the feed graph since start: entry k of
   * `topo.nodeFeedItems` (a node's supply from a device), then, after those, entry k of
   * `topo.powerUpItems` (a device's supply from the device above it).
   */
  readonly circuitEnergyJoules: Float64Array;
  readonly workload: WorkloadState;
  /** Injected faults and their effects (faults.ts). */
  readonly faults: FaultState;
  readonly prng: Prng;
  readonly seed: number;
  /** Cap changes ordered out of band (Redfish) that take effect after the control delay. */
  readonly pendingCaps: PendingCap[];
  /** Seconds of sim time since start. */
  timeSeconds: number;
  ticks: number;
}

/** Options for a new state. */
export interface StateOptions {
  seed?: number;
  /** Mean rack inlet temperature; each rack gets a seeded offset of up to ±1.5 °C. */
  inletC?: number;
  workload?: WorkloadOptions;
}

/**
 * A factory at rest: caps at each GPU's maximum (the default limit), temperatures at the idle
 * steady state, counters at zero, and a seeded workload assigned to every node.
 */
export function createState(graph: FactoryGraph, catalog: Catalog, options: StateOptions = {}): FactoryState {
  const topo = buildTopology(graph, catalog);
  const seed = options.seed ?? 1;
  const prng = createPrng(seed);
  const n = topo.gpuCount;
  const f64 = () => new Float64Array(n);
  const f32 = () => new Float32Array(n);
  const gpu: GpuState = {
    utilization: f32(),
    throughputRel: f32().fill(1),
    capWatts: f64(),
    powerWatts: f64(),
    profile: new Uint8Array(n),
    smClockMHz: f32(),
    memClockMHz: f32(),
    gpuTempC: f32(),
    memTempC: f32(),
    energyMillijoules: f64(),
    eccSbeVolatile: f64(),
    eccDbeVolatile: f64(),
    eccSbeAggregate: f64(),
    eccDbeAggregate: f64(),
    retiredPagesSbe: f64(),
    retiredPagesDbe: f64(),
    retiredPagesPending: f64(),
    rowRemapCorrectable: f64(),
    rowRemapUncorrectable: f64(),
    rowRemapFailure: new Uint8Array(n),
    nvlinkCrcFlitErrors: f64(),
    nvlinkCrcDataErrors: f64(),
    nvlinkReplayErrors: f64(),
    nvlinkRecoveryErrors: f64(),
    nvlinkBytes: f64(),
    pcieReplays: f64(),
    xidLast: new Uint16Array(n),
    promptTokens: f64(),
    generatedTokens: f64(),
    trainingTokens: f64(),
    powerViolationNs: f64(),
    thermalViolationNs: f64(),
  };
  // ASHRAE TC 9.9 recommends 18–27 °C server inlet air; 25 °C sits in that band.
  const inletC = options.inletC ?? 25;
  const rackInletC = new Float32Array(topo.rackCount);
  for (let r = 0; r < rackInletC.length; r++) rackInletC[r] = inletC + (nextFloat(prng) - 0.5) * 3;
  for (let g = 0; g < n; g++) {
    const { spec, info } = topo.models[topo.gpuModel[g]!]!;
    const rack = topo.nodeRack[topo.gpuNode[g]!]!;
    const inlet = rack >= 0 ? rackInletC[rack]! : inletC;
    gpu.capWatts[g] = spec.maxWatts;
    gpu.powerWatts[g] = spec.idleWatts;
    gpu.smClockMHz[g] = info.idleSmClockMHz;
    gpu.memClockMHz[g] = info.memClockMHz;
    gpu.gpuTempC[g] = inlet + info.thermalResistanceCPerWatt * spec.idleWatts;
    gpu.memTempC[g] = gpu.gpuTempC[g]! + MEM_TEMP_OFFSET_C;
  }
  const workload = assignWorkload(topo, prng, options.workload);
  const nodePowerWatts = new Float64Array(topo.nodeCount);
  for (let node = 0; node < topo.nodeCount; node++) {
    let watts = nodeOverhead(topo.nodeOverheadWatts[node]!, 0);
    for (let g = topo.nodeGpuStart[node]!; g < topo.nodeGpuStart[node + 1]!; g++) watts += gpu.powerWatts[g]!;
    nodePowerWatts[node] = watts;
  }
  const state: FactoryState = {
    topo,
    gpu,
    nodePowerWatts,
    rackInletC,
    powerWatts: new Float64Array(topo.powerCount),
    powerEnergyJoules: new Float64Array(topo.powerCount),
    circuitEnergyJoules: new Float64Array(topo.nodeFeedItems.length + topo.powerUpItems.length),
    workload,
    faults: createFaultState(n, topo.rackCount, topo.powerCount, topo.nodeCount),
    pendingCaps: [],
    prng,
    seed,
    timeSeconds: 0,
    ticks: 0,
  };
  rollUpPower(state);
  return state;
}

/**
 * HBM runs hotter than the GPU die: +8 °C in both the idle H100 capture (36/44 °C) and the loaded
 * A100 dcgm-exporter excerpt (61/69 °C) in fixtures/.
 */
export const MEM_TEMP_OFFSET_C = 8;

/** Sets a GPU's power limit, clamped to its model's [min, max] as the driver does. Returns it. */
export function setGpuCapWatts(state: FactoryState, gpuSlot: number, capWatts: number): number {
  const { spec } = state.topo.models[state.topo.gpuModel[gpuSlot]!]!;
  const clamped = Math.min(spec.maxWatts, Math.max(spec.minWatts, capWatts));
  state.gpu.capWatts[gpuSlot] = clamped;
  return clamped;
}

/** A cap change waiting for its control delay to pass. */
export interface PendingCap {
  gpuSlot: number;
  capWatts: number;
  /** Sim time it takes effect. */
  atSeconds: number;
}

/**
 * How long a power limit set through the BMC takes to act on the GPU: the BMC relays it to the
 * driver over its management channel, then the GPU's power controller settles. An assumption of a
 * few seconds, between the in-band NVML call (immediate) and the slowest out-of-band paths.
 */
export const BMC_CAP_DELAY_SECONDS = 2;

/**
 * Orders a GPU's power limit to change `delaySeconds` of sim time from now (a Redfish PATCH);
 * `tick` applies it, clamped as `setGpuCapWatts` does. A later order for the same GPU replaces an
 * earlier one still waiting.
 */
export function scheduleGpuCap(
  state: FactoryState,
  gpuSlot: number,
  capWatts: number,
  delaySeconds = BMC_CAP_DELAY_SECONDS,
): void {
  const pending = state.pendingCaps;
  for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.gpuSlot === gpuSlot) pending.splice(i, 1);
  pending.push({ gpuSlot, capWatts, atSeconds: state.timeSeconds + delaySeconds });
}

/** Applies the pending cap changes whose time has come (called by `tick`). */
export function applyPendingCaps(state: FactoryState): void {
  const pending = state.pendingCaps;
  if (pending.length === 0) return;
  let kept = 0;
  for (const p of pending) {
    if (p.atSeconds <= state.timeSeconds) setGpuCapWatts(state, p.gpuSlot, p.capWatts);
    else pending[kept++] = p;
  }
  pending.length = kept;
}

/** Sets a GPU's workload power profile (PROFILE_MAX_P or PROFILE_MAX_Q). */
export function setGpuProfile(state: FactoryState, gpuSlot: number, profile: number): void {
  if (profile !== PROFILE_MAX_P && profile !== PROFILE_MAX_Q)
    throw new Error(`unknown power profile ${profile}`);
  state.gpu.profile[gpuSlot] = profile;
}
