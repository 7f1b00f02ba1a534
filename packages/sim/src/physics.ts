/**
 * One step of the factory's physics: utilization → power under the cap and profile → heat →
 * clocks, then node and power-tree totals. Deterministic: the only randomness is the state's
 * seeded generator, consumed in slot order. Sources and assumptions: docs/twin.md.
 */
import { CAP_DRAW_RATIO, relativeThroughput, THROUGHPUT_CURVE } from "./calibration.ts";
import { STRAGGLER_FACTOR, stepFaults } from "./faults.ts";
import { nodeOverhead, rollUpPower } from "./power-tree.ts";
import { applyPendingCaps, type FactoryState, MEM_TEMP_OFFSET_C, PROFILE_MAX_Q } from "./state.ts";
import { DECODE_POWER_SHARE, stepWorkload } from "./workload.ts";

/** Time constant of GPU temperature: tens of seconds for a heatsink or cold plate (assumption). */
export const THERMAL_TIME_CONSTANT_S = 30;

/**
 * MAX-Q holds a GPU at 85% of its maximum power: NVIDIA's Mission Control 3.0 claim is a data
 * center at 85% power with 7% throughput loss (FACTS.md).
 */
export const MAX_Q_POWER_FRACTION = 0.85;

/** Clock throttle per °C above the slowdown threshold, and its floor (assumption). */
const THROTTLE_PER_C = 0.05;
const THROTTLE_FLOOR = 0.5;

/** NVLink traffic at full utilization: a quarter of an H100's 900 GB/s (synthetic until jobs). */
const NVLINK_BYTES_PER_S = 225e9;

/** Advances the whole factory by `dtSeconds` of sim time. */
export function tick(state: FactoryState, dtSeconds: number): void {
  if (!(dtSeconds > 0) || !Number.isFinite(dtSeconds))
    throw new Error(`tick: dtSeconds must be > 0, got ${dtSeconds}`);
  const { topo, gpu, workload } = state;
  applyPendingCaps(state);
  stepFaults(state, dtSeconds);
  stepWorkload(workload, state.prng, dtSeconds, gpu.utilization);
  const { offBus, straggler, nodeUnpowered } = state.faults;

  const heat = 1 - Math.exp(-dtSeconds / THERMAL_TIME_CONSTANT_S);
  const dtNs = dtSeconds * 1e9;
  const mJ = dtSeconds * 1000;
  const models = topo.models;
  const rackUtil = new Float64Array(topo.rackCount);
  const rackGpus = new Float64Array(topo.rackCount);
  const { utilization, capWatts, powerWatts, profile, gpuTempC, memTempC, smClockMHz, throughputRel } = gpu;
  const { computeShare } = workload;

  for (let n = 0; n < topo.nodeCount; n++) {
    const start = topo.nodeGpuStart[n]!;
    const end = topo.nodeGpuStart[n + 1]!;
    const rack = topo.nodeRack[n]!;
    const inlet = rack >= 0 ? state.rackInletC[rack]! : 25;
    let gpuWatts = 0;
    let utilSum = 0;
    const unpowered = nodeUnpowered[n] === 1;
    for (let g = start; g < end; g++) {
      const { spec, info } = models[topo.gpuModel[g]!]!;
      const temp = gpuTempC[g]!;
      if (offBus[g]! > 0 || unpowered) {
        // Off the bus (Xid 79) or without power: no draw, no work, cooling toward the inlet.
        powerWatts[g] = 0;
        throughputRel[g] = 0;
        smClockMHz[g] = 0;
        gpuTempC[g] = temp + (inlet - temp) * heat;
        memTempC[g] = memTempC[g]! + (inlet - memTempC[g]!) * heat;
        continue;
      }
      const u = utilization[g]!;
      const share = computeShare[g]!;
      const hot = temp > info.slowdownTempC;
      const thermal = hot ? Math.max(THROTTLE_FLOOR, 1 - THROTTLE_PER_C * (temp - info.slowdownTempC)) : 1;
      const throttle = straggler[g]! > 0 ? thermal * STRAGGLER_FACTOR : thermal;
      const dynamic = u * (spec.maxWatts - spec.idleWatts) * (share + (1 - share) * DECODE_POWER_SHARE);
      const demand = spec.idleWatts + dynamic;
      const cap = capWatts[g]!;
      const effectiveCap =
        profile[g] === PROFILE_MAX_Q ? Math.min(cap, MAX_Q_POWER_FRACTION * spec.maxWatts) : cap;
      const bound = CAP_DRAW_RATIO * effectiveCap;
      const wanted = spec.idleWatts + dynamic * throttle;
      const watts = Math.min(wanted, bound);
      // Compute-bound work follows the fitted curve in cap ÷ max; decode is flat while the cap
      // stays above its own draw (FACTS.md), and follows the curve in cap ÷ draw below it. Mixed
      // work (an inference server's prefill and decode) weighs the two by its compute share.
      const computeSpeed = share > 0 ? relativeThroughput(effectiveCap / spec.maxWatts, THROUGHPUT_CURVE) : 1;
      const decodeSpeed =
        share < 1 && effectiveCap < demand ? relativeThroughput(effectiveCap / demand, THROUGHPUT_CURVE) : 1;
      const speed = share * computeSpeed + (1 - share) * decodeSpeed;
      throughputRel[g] = speed * throttle;
      powerWatts[g] = watts;
      gpu.energyMillijoules[g]! += watts * mJ;
      const steady = inlet + info.thermalResistanceCPerWatt * watts;
      gpuTempC[g] = temp + (steady - temp) * heat;
      const memTemp = memTempC[g]!;
      memTempC[g] = memTemp + (steady + MEM_TEMP_OFFSET_C - memTemp) * heat;
      smClockMHz[g] =
        u < 0.01 ? info.idleSmClockMHz : Math.max(info.idleSmClockMHz, info.maxSmClockMHz * speed * throttle);
      if (wanted > bound && u > 0) gpu.powerViolationNs[g]! += dtNs;
      if (hot) gpu.thermalViolationNs[g]! += dtNs;
      gpu.nvlinkBytes[g]! += u * NVLINK_BYTES_PER_S * dtSeconds;
      gpuWatts += watts;
      utilSum += u;
    }
    const gpus = end - start;
    if (unpowered) state.nodePowerWatts[n] = 0;
    else if (gpus > 0) {
      if (rack >= 0) {
        rackUtil[rack]! += utilSum;
        rackGpus[rack]! += gpus;
      }
      state.nodePowerWatts[n] = gpuWatts + nodeOverhead(topo.nodeOverheadWatts[n]!, utilSum / gpus);
    }
  }
  // Nodes without GPUs (NVLink switch trays, management) work as hard as their rack's GPUs.
  for (let n = 0; n < topo.nodeCount; n++) {
    if (topo.nodeGpuStart[n + 1]! > topo.nodeGpuStart[n]!) continue;
    if (nodeUnpowered[n] === 1) {
      state.nodePowerWatts[n] = 0;
      continue;
    }
    const rack = topo.nodeRack[n]!;
    const load = rack >= 0 && rackGpus[rack]! > 0 ? rackUtil[rack]! / rackGpus[rack]! : 0;
    state.nodePowerWatts[n] = nodeOverhead(topo.nodeOverheadWatts[n]!, load);
  }
  rollUpPower(state, dtSeconds);
  state.timeSeconds += dtSeconds;
  state.ticks++;
}
