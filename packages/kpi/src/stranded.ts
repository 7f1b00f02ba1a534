/**
 * Stranded power: at every level of the power tree, the budget (rating × derating) less what the
 * level draws now, as its Redfish meter reads it. Power a level could carry but nothing uses is
 * what a power-aware scheduler can hand to more work.
 */
import type { FactoryGraph } from "@flightdeck/model";
import { type KpiReader, METRICS } from "./engine.ts";

/** One power device's budget against its draw. */
export interface StrandedRow {
  id: string;
  /** Device type: feed, switchboard, floorPdu, rackPdu, powerShelf, busway, … */
  type: string | null;
  limitWatts: number;
  /** Undefined when no meter reading is at hand (the device is not read, or its reading is stale). */
  drawWatts: number | undefined;
  strandedWatts: number | undefined;
  /** draw ÷ limit. */
  utilization: number | undefined;
}

/** Every power device with a limit, at `atMs`. */
export function strandedPower(graph: FactoryGraph, reader: KpiReader, atMs: number): StrandedRow[] {
  const out: StrandedRow[] = [];
  for (const device of graph.ofKind("power")) {
    if (device.limitWatts === null) continue;
    let draw: number | undefined;
    for (const ref of reader.find(METRICS.devicePowerWatts, device.id)) {
      const v = reader.instant(ref, atMs);
      if (v !== undefined) draw = (draw ?? 0) + v;
    }
    out.push({
      id: device.id,
      type: device.type,
      limitWatts: device.limitWatts,
      drawWatts: draw,
      strandedWatts: draw === undefined ? undefined : device.limitWatts - draw,
      utilization: draw === undefined ? undefined : draw / device.limitWatts,
    });
  }
  return out;
}
