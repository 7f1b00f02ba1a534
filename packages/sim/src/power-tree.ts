/**
 * The power tree's totals: what every power device (rack PDU, power shelf, busway, floor PDU,
 * switchboard, feed) carries, from the nodes' draw.
 */
import type { FactoryState } from "./state.ts";

/**
 * AC-to-DC efficiency of node power supplies. An assumption, inside the band that 80 PLUS
 * Platinum and Titanium server supplies are certified for (roughly 90–96% from 20% to full load).
 */
export const PSU_EFFICIENCY = 0.94;

/** Share of a node's CPU/memory/NIC/fan overhead drawn when its GPUs idle (assumption). */
export const NODE_OVERHEAD_IDLE_SHARE = 0.5;

/** Node overhead (CPU, memory, NICs, fans) at a load between 0 and 1. */
export function nodeOverhead(fullLoadWatts: number, load: number): number {
  return fullLoadWatts * (NODE_OVERHEAD_IDLE_SHARE + (1 - NODE_OVERHEAD_IDLE_SHARE) * load);
}

/**
 * Power devices: each node's input power (draw ÷ PSU efficiency) splits evenly over the live
 * devices feeding it (its power supplies share the load; when one side of an A/B pair dies the
 * other carries it all); each device's total splits evenly over the live devices feeding it,
 * deepest first, so every feed carries the sum of what it feeds. Over a tick of `dtSeconds` every
 * device and circuit adds its energy (the power now, held for the tick, as the physics does).
 */
export function rollUpPower(state: FactoryState, dtSeconds = 0): void {
  const { topo, powerWatts, nodePowerWatts } = state;
  const dead = state.faults.powerDead;
  const circuitJ = state.circuitEnergyJoules;
  const deviceEdges = topo.nodeFeedItems.length;
  powerWatts.fill(0);
  for (let n = 0; n < topo.nodeCount; n++) {
    const a = topo.nodeFeedStart[n]!;
    const b = topo.nodeFeedStart[n + 1]!;
    const live = liveCount(topo.nodeFeedItems, a, b, dead);
    if (live === 0) continue;
    const share = nodePowerWatts[n]! / PSU_EFFICIENCY / live;
    for (let k = a; k < b; k++) {
      const d = topo.nodeFeedItems[k]!;
      if (dead[d] === 0) {
        powerWatts[d]! += share;
        circuitJ[k]! += share * dtSeconds;
      }
    }
  }
  for (let i = 0; i < topo.powerOrder.length; i++) {
    const d = topo.powerOrder[i]!;
    const a = topo.powerUpStart[d]!;
    const b = topo.powerUpStart[d + 1]!;
    const live = liveCount(topo.powerUpItems, a, b, dead);
    if (live === 0) continue;
    const share = powerWatts[d]! / live;
    for (let k = a; k < b; k++) {
      const u = topo.powerUpItems[k]!;
      if (dead[u] === 0) {
        powerWatts[u]! += share;
        circuitJ[deviceEdges + k]! += share * dtSeconds;
      }
    }
  }
  if (dtSeconds > 0)
    for (let d = 0; d < topo.powerCount; d++) state.powerEnergyJoules[d]! += powerWatts[d]! * dtSeconds;
}

function liveCount(items: Int32Array, a: number, b: number, dead: Uint8Array): number {
  let live = 0;
  for (let k = a; k < b; k++) if (dead[items[k]!] === 0) live++;
  return live;
}
