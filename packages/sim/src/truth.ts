/**
 * The twin's ground truth, for tests and benchmarks to grade the control plane against: what
 * every power device really carries and how much energy the GPUs really used. A real factory has
 * no such endpoint; the control plane must never read it.
 */
import type { FaultRecord } from "./faults.ts";
import { type JobEngine, type JobTruth, jobsTruth } from "./jobs.ts";
import { PSU_EFFICIENCY } from "./power-tree.ts";
import type { FactoryState } from "./state.ts";

/** A fault the twin has injected: its record and whether its effect is still on. */
export interface TruthFault extends FaultRecord {
  active: boolean;
}

/** What a rack did since the twin started. */
export interface RackTruth {
  org: string | null;
  promptTokens: number;
  generatedTokens: number;
  trainingTokens: number;
  gpuEnergyJoules: number;
  /** Energy into the rack's PDUs or power shelves (what their meters count). */
  pduEnergyJoules: number;
}

/** The `/sim/truth` document. */
export interface Truth {
  /** Sim time since start and ticks taken. */
  timeSeconds: number;
  ticks: number;
  seed: number;
  gpuCount: number;
  /** Σ GPU power now, and Σ node input power (after power supply losses). */
  gpuPowerWatts: number;
  nodeInputWatts: number;
  /** Σ of every GPU's energy counter. */
  gpuEnergyJoules: number;
  /** Every power device by id (`power:NAME`) → watts it carries now. */
  power: Record<string, number>;
  /** Σ watts per device kind (feed, switchboard, floorPdu, rackPdu, busway, powerShelf, …). */
  levels: Record<string, number>;
  /** Every fault injected so far, in injection order. */
  faults: TruthFault[];
  /** Tokens of every job so far: prompt tokens prefilled, tokens generated, tokens trained. */
  tokens: { prompt: number; generated: number; training: number };
  /** Every job of the scenario, placed or not. */
  jobs: JobTruth[];
  /**
   * Per rack since start: tokens of its GPUs (each GPU's even share of its job's tokens), their
   * energy, and the energy into the rack's own power devices (rack PDUs or power shelves).
   */
  racks: Record<string, RackTruth>;
  /** Kernel log events dropped because the log was not drained (no syslog collector keeping up). */
  kernelLogDropped: number;
}

/** Reads the truth out of the state at this instant. */
export function truthOf(state: FactoryState, engine?: JobEngine): Truth {
  const { topo, gpu } = state;
  let gpuPowerWatts = 0;
  let energyMj = 0;
  for (let g = 0; g < topo.gpuCount; g++) {
    gpuPowerWatts += gpu.powerWatts[g]!;
    energyMj += gpu.energyMillijoules[g]!;
  }
  let nodeWatts = 0;
  for (let n = 0; n < topo.nodeCount; n++) nodeWatts += state.nodePowerWatts[n]!;
  const power: Record<string, number> = {};
  const levels: Record<string, number> = {};
  for (let d = 0; d < topo.powerCount; d++) {
    const watts = state.powerWatts[d]!;
    power[topo.powerIds[d]!] = watts;
    const kind = topo.graph.at(topo.powerEntity[d]!).type ?? "power";
    levels[kind] = (levels[kind] ?? 0) + watts;
  }
  const jobs = engine ? jobsTruth(engine, state) : [];
  const tokens = { prompt: 0, generated: 0, training: 0 };
  for (const j of jobs) {
    tokens.prompt += j.promptTokens ?? 0;
    tokens.generated += j.generatedTokens ?? 0;
    tokens.training += j.trainingTokens ?? 0;
  }
  return {
    racks: racksTruth(state),
    timeSeconds: state.timeSeconds,
    ticks: state.ticks,
    seed: state.seed,
    gpuCount: topo.gpuCount,
    gpuPowerWatts,
    nodeInputWatts: nodeWatts / PSU_EFFICIENCY,
    gpuEnergyJoules: energyMj / 1000,
    power,
    levels,
    faults: state.faults.records.map((f, i) => ({ ...f, active: state.faults.active[i]! })),
    tokens,
    jobs,
    kernelLogDropped: state.faults.kernelLogDropped,
  };
}

function racksTruth(state: FactoryState): Record<string, RackTruth> {
  const { topo, gpu } = state;
  const rows: RackTruth[] = topo.rackNames.map((_, r) => ({
    org: topo.graph.at(topo.rackEntity[r]!).org,
    promptTokens: 0,
    generatedTokens: 0,
    trainingTokens: 0,
    gpuEnergyJoules: 0,
    pduEnergyJoules: 0,
  }));
  for (let g = 0; g < topo.gpuCount; g++) {
    const r = topo.nodeRack[topo.gpuNode[g]!]!;
    if (r < 0) continue;
    const row = rows[r]!;
    row.promptTokens += gpu.promptTokens[g]!;
    row.generatedTokens += gpu.generatedTokens[g]!;
    row.trainingTokens += gpu.trainingTokens[g]!;
    row.gpuEnergyJoules += gpu.energyMillijoules[g]! / 1000;
  }
  const rackSlot = new Map<number, number>();
  topo.rackEntity.forEach((index, r) => {
    rackSlot.set(index, r);
  });
  for (let d = 0; d < topo.powerCount; d++) {
    const rack = topo.graph.enclosing(topo.powerEntity[d]!, "rack");
    const r = rack ? rackSlot.get(rack.index) : undefined;
    if (r !== undefined) rows[r]!.pduEnergyJoules += state.powerEnergyJoules[d]!;
  }
  return Object.fromEntries(topo.rackNames.map((name, r) => [name, rows[r]!]));
}
