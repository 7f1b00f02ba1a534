/**
 * Fault injection with ground truth: a fault changes what the twin's protocols show (a GPU that
 * falls off the bus, ECC and NVLink errors with their Xids, a slow GPU, a rack losing cooling),
 * and is recorded with the sim time it started and, when it has a duration, the time it clears.
 * Everything is driven by sim time and request order, never by the wall clock or a random draw, so
 * the same seed and the same faults at the same sim times give the same state.
 */
import type { FactoryState } from "./state.ts";
import { nodesUnderLeaves } from "./topology.ts";

/** The kinds of fault the twin can inject. */
export const FAULT_KINDS = [
  "xid79",
  "xid48",
  "xid94",
  "xid95",
  "xid74",
  "straggler",
  "cooling",
  "leafDegraded",
  "feedLoss",
  "bmcUnreachable",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault as recorded (and as `/sim/truth` lists it). */
export interface FaultRecord {
  /** `fault-1`, `fault-2`, … in injection order. */
  id: string;
  kind: FaultKind;
  /**
   * Entity id: `gpu:NODE/ORDINAL`; `rack:NAME` for cooling; `switch:NAME` (a leaf) for
   * leafDegraded; `power:NAME` for feedLoss; `node:NAME` for bmcUnreachable.
   */
  target: string;
  /** Sim time the fault started. */
  atSeconds: number;
  /** Sim time it clears; only for faults injected with a duration. */
  clearedAtSeconds?: number;
}

/** What a fault request asks for. */
export interface FaultRequest {
  kind: unknown;
  target: unknown;
  durationSeconds?: unknown;
}

/** A refused fault request: `status` is the HTTP status (400 bad field, 409 conflict). */
export class FaultError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "FaultError";
    this.status = status;
  }
}

/** Active faults as per-slot counts (several faults may hit one slot), plus the record. */
export interface FaultState {
  records: FaultRecord[];
  /** Slot of each record's target (GPU, rack, power device or node slot; graph index of a switch). */
  slots: number[];
  /** Whether each record's effect is still on. */
  active: boolean[];
  /** GPUs off the bus (Xid 79). */
  offBus: Uint16Array;
  /** GPUs running slow (stragglers). */
  straggler: Uint16Array;
  /** GPUs with failing NVLinks (Xid 74). */
  nvlinkFailing: Uint16Array;
  /** Racks that lost cooling. */
  coolingLost: Uint16Array;
  /** How far each rack's inlet sits above where it would be without cooling faults, °C. */
  rackInletRiseC: Float32Array;
  /** Degraded leaf switches, by graph index: every job with a node under one slows. */
  leafDegraded: Map<number, number>;
  /** Power devices that lost their input (feedLoss), by power slot. */
  powerLost: Uint16Array;
  /**
   * Power devices without power, by power slot: lost themselves, or every device feeding them
   * is dead. Recomputed when a feedLoss starts or clears.
   */
  powerDead: Uint8Array;
  /** Nodes whose every feeding device is dead: no power at all. */
  nodeUnpowered: Uint8Array;
  /** Nodes whose BMC does not answer (bmcUnreachable). */
  bmcUnreachable: Uint16Array;
  /** Kernel log events (Xid lines) not yet sent by the syslog sender, oldest first. */
  kernelLog: KernelLogEvent[];
  /** Events dropped because nobody drained the log in time. */
  kernelLogDropped: number;
}

/** A kernel log event a fault causes on its node: an NVRM Xid line for a GPU. */
export interface KernelLogEvent {
  atSeconds: number;
  nodeSlot: number;
  gpuSlot: number;
  xid: number;
  /** Id of the fault that caused it. */
  faultId: string;
}

/** Kernel log events kept for the syslog sender before the oldest are dropped. */
export const KERNEL_LOG_CAPACITY = 10_000;

/**
 * How much slower the collective communication of a job crossing a degraded leaf runs: a link
 * flapping or trained down to a quarter of its lanes (assumption) — step time grows with the
 * job's communication share (workload.ts).
 */
export const LEAF_DEGRADED_BANDWIDTH = 0.25;

/** A straggler's clock and throughput relative to a healthy GPU (assumption: "about half"). */
export const STRAGGLER_FACTOR = 0.5;
/** How fast a rack's inlet climbs without cooling, and back once it returns, in °C per second. */
export const COOLING_RISE_C_PER_S = 1;
/** How far the inlet climbs without cooling (assumption: room air recirculates at ~50 °C). */
export const COOLING_MAX_RISE_C = 25;
/** NVLink error counts per second on a failing link (synthetic): CRC flit, CRC data, replay. */
export const NVLINK_ERRORS_PER_S = [40, 8, 4] as const;

/** No faults, for a state of `gpuCount` GPUs and `rackCount` racks. */
export function createFaultState(
  gpuCount: number,
  rackCount: number,
  powerCount = 0,
  nodeCount = 0,
): FaultState {
  return {
    records: [],
    slots: [],
    active: [],
    offBus: new Uint16Array(gpuCount),
    straggler: new Uint16Array(gpuCount),
    nvlinkFailing: new Uint16Array(gpuCount),
    coolingLost: new Uint16Array(rackCount),
    rackInletRiseC: new Float32Array(rackCount),
    leafDegraded: new Map(),
    powerLost: new Uint16Array(powerCount),
    powerDead: new Uint8Array(powerCount),
    nodeUnpowered: new Uint8Array(nodeCount),
    bmcUnreachable: new Uint16Array(nodeCount),
    kernelLog: [],
    kernelLogDropped: 0,
  };
}

/**
 * Injects a fault now (at `state.timeSeconds`) and returns its record. Throws FaultError: 400 for
 * an unknown kind or target, a target of the wrong type or a bad duration; 409 for a GPU that is
 * already off the bus.
 */
export function injectFault(state: FactoryState, request: FaultRequest): FaultRecord {
  const { kind, target, durationSeconds } = request;
  if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind))
    throw new FaultError(400, `kind: must be one of ${FAULT_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  if (typeof target !== "string") throw new FaultError(400, "target: must be an entity id string");
  if (
    durationSeconds !== undefined &&
    (typeof durationSeconds !== "number" || !(durationSeconds > 0) || !Number.isFinite(durationSeconds))
  )
    throw new FaultError(
      400,
      `durationSeconds: must be a positive number, got ${JSON.stringify(durationSeconds)}`,
    );
  const { topo } = state;
  const faults = state.faults;
  const entity = topo.graph.get(target);
  let slot: number;
  if (kind === "cooling") {
    slot = entity?.kind === "rack" ? topo.rackEntity.indexOf(entity.index) : -1;
    if (slot < 0) throw new FaultError(400, `target: ${JSON.stringify(target)} is not a rack (rack:NAME)`);
  } else if (kind === "leafDegraded") {
    const isLeaf = entity?.kind === "switch" && nodesUnderLeaves(topo).has(entity.index);
    if (!isLeaf)
      throw new FaultError(400, `target: ${JSON.stringify(target)} is not a leaf switch with nodes under it`);
    slot = entity.index;
  } else if (kind === "feedLoss") {
    slot = entity?.kind === "power" ? topo.powerEntity.indexOf(entity.index) : -1;
    if (slot < 0)
      throw new FaultError(400, `target: ${JSON.stringify(target)} is not a power device (power:NAME)`);
  } else if (kind === "bmcUnreachable") {
    slot = entity?.kind === "node" ? topo.nodeEntity.indexOf(entity.index) : -1;
    if (slot < 0) throw new FaultError(400, `target: ${JSON.stringify(target)} is not a node (node:NAME)`);
  } else {
    slot = entity?.kind === "gpu" ? topo.gpuEntity.indexOf(entity.index) : -1;
    if (slot < 0) throw new FaultError(400, `target: ${JSON.stringify(target)} is not a GPU (gpu:NODE/N)`);
    if (faults.offBus[slot]! > 0) throw new FaultError(409, `target: ${target} is off the bus`);
  }
  const record: FaultRecord = {
    id: `fault-${faults.records.length + 1}`,
    kind: kind as FaultKind,
    target,
    atSeconds: state.timeSeconds,
  };
  if (durationSeconds !== undefined)
    record.clearedAtSeconds = state.timeSeconds + (durationSeconds as number);
  faults.records.push(record);
  faults.slots.push(slot);
  faults.active.push(true);
  const { gpu } = state;
  const logXid = (xid: number) => {
    gpu.xidLast[slot] = xid;
    pushKernelLog(faults, {
      atSeconds: state.timeSeconds,
      nodeSlot: topo.gpuNode[slot]!,
      gpuSlot: slot,
      xid,
      faultId: record.id,
    });
  };
  switch (record.kind) {
    case "xid79":
      faults.offBus[slot]!++;
      logXid(79);
      break;
    case "xid48":
    case "xid94":
    case "xid95":
      gpu.eccDbeVolatile[slot]!++;
      gpu.eccDbeAggregate[slot]!++;
      gpu.rowRemapUncorrectable[slot]!++;
      logXid(Number(record.kind.slice(3)));
      break;
    case "xid74":
      faults.nvlinkFailing[slot]!++;
      gpu.nvlinkRecoveryErrors[slot]!++;
      logXid(74);
      break;
    case "leafDegraded":
      faults.leafDegraded.set(slot, (faults.leafDegraded.get(slot) ?? 0) + 1);
      break;
    case "feedLoss":
      faults.powerLost[slot]!++;
      updatePowerDead(state);
      break;
    case "bmcUnreachable":
      faults.bmcUnreachable[slot]!++;
      break;
    case "straggler":
      faults.straggler[slot]!++;
      break;
    case "cooling":
      faults.coolingLost[slot]!++;
      break;
  }
  return record;
}

/**
 * Called by `tick` before the physics: ends faults whose time has come, adds the per-second
 * effects (NVLink errors) and moves each rack's inlet toward its target.
 */
export function stepFaults(state: FactoryState, dtSeconds: number): void {
  const faults = state.faults;
  const { records, slots, active } = faults;
  for (let i = 0; i < records.length; i++) {
    const clearAt = records[i]!.clearedAtSeconds;
    if (!active[i] || clearAt === undefined || state.timeSeconds < clearAt) continue;
    active[i] = false;
    const slot = slots[i]!;
    const kind = records[i]!.kind;
    if (kind === "xid79") faults.offBus[slot]!--;
    else if (kind === "xid74") faults.nvlinkFailing[slot]!--;
    else if (kind === "straggler") faults.straggler[slot]!--;
    else if (kind === "cooling") faults.coolingLost[slot]!--;
    else if (kind === "bmcUnreachable") faults.bmcUnreachable[slot]!--;
    else if (kind === "leafDegraded") {
      const left = (faults.leafDegraded.get(slot) ?? 1) - 1;
      if (left > 0) faults.leafDegraded.set(slot, left);
      else faults.leafDegraded.delete(slot);
    } else if (kind === "feedLoss") {
      faults.powerLost[slot]!--;
      updatePowerDead(state);
    }
  }
  const { gpu } = state;
  for (let g = 0; g < faults.nvlinkFailing.length; g++) {
    if (faults.nvlinkFailing[g] === 0) continue;
    gpu.nvlinkCrcFlitErrors[g]! += NVLINK_ERRORS_PER_S[0] * dtSeconds;
    gpu.nvlinkCrcDataErrors[g]! += NVLINK_ERRORS_PER_S[1] * dtSeconds;
    gpu.nvlinkReplayErrors[g]! += NVLINK_ERRORS_PER_S[2] * dtSeconds;
  }
  const step = COOLING_RISE_C_PER_S * dtSeconds;
  for (let r = 0; r < faults.coolingLost.length; r++) {
    const rise = faults.rackInletRiseC[r]!;
    const goal = faults.coolingLost[r]! > 0 ? COOLING_MAX_RISE_C : 0;
    if (rise === goal) continue;
    const next = rise < goal ? Math.min(goal, rise + step) : Math.max(goal, rise - step);
    faults.rackInletRiseC[r] = next;
    state.rackInletC[r]! += next - rise;
  }
}

/** Appends a kernel log event, dropping the oldest beyond KERNEL_LOG_CAPACITY. */
export function pushKernelLog(faults: FaultState, event: KernelLogEvent): void {
  faults.kernelLog.push(event);
  if (faults.kernelLog.length > KERNEL_LOG_CAPACITY) {
    faults.kernelLog.shift();
    faults.kernelLogDropped++;
  }
}

/**
 * Recomputes which power devices and nodes have no power: a device is dead when it lost its
 * input, or when it has feeding devices and all of them are dead. Top-down over the roll-up order.
 */
export function updatePowerDead(state: FactoryState): void {
  const { topo, faults } = state;
  const { powerDead, powerLost, nodeUnpowered } = faults;
  for (let i = topo.powerOrder.length - 1; i >= 0; i--) {
    const d = topo.powerOrder[i]!;
    const a = topo.powerUpStart[d]!;
    const b = topo.powerUpStart[d + 1]!;
    let dead = powerLost[d]! > 0;
    if (!dead && b > a) {
      dead = true;
      for (let k = a; k < b; k++) if (powerDead[topo.powerUpItems[k]!] === 0) dead = false;
    }
    powerDead[d] = dead ? 1 : 0;
  }
  for (let n = 0; n < topo.nodeCount; n++) {
    const a = topo.nodeFeedStart[n]!;
    const b = topo.nodeFeedStart[n + 1]!;
    let dead = b > a;
    for (let k = a; k < b; k++) if (powerDead[topo.nodeFeedItems[k]!] === 0) dead = false;
    nodeUnpowered[n] = dead ? 1 : 0;
  }
}
