/** The floor as data: its layout (halls → rows → racks) and each rack's values for every measure. */
import type { KpiFrame } from "./kpi.ts";

/** An entity as the topology routes give it. */
export interface Entity {
  id: string;
  kind: string;
  name: string;
  type: string | null;
  parent: string | null;
  org: string | null;
  limitWatts: number | null;
  ordinal: number | null;
}

export interface Page<T> {
  total: number;
  items: T[];
}

export interface StrandedLevel {
  id: string;
  type: string | null;
  limitWatts: number;
  drawWatts: number | null;
  strandedWatts: number | null;
}

export interface FloorLayout {
  halls: { id: string; name: string; rows: { id: string; name: string; racks: Entity[] }[] }[];
  rackCount: number;
}

/** Values of one rack; undefined where nothing was measured yet. */
export interface RackValues {
  power?: number;
  headroom?: number;
  temperature?: number;
  tokensPerWatt?: number;
  tokensPerSecond?: number;
}

/** Racks grouped under their rows and rows under their halls; empty rows and halls left out. */
export function layoutOf(halls: Entity[], rows: Entity[], racks: Entity[]): FloorLayout {
  const racksOf = new Map<string, Entity[]>();
  for (const r of racks) {
    const key = r.parent ?? "";
    racksOf.set(key, [...(racksOf.get(key) ?? []), r]);
  }
  const rowsOf = new Map<string, Entity[]>();
  for (const r of rows) rowsOf.set(r.parent ?? "", [...(rowsOf.get(r.parent ?? "") ?? []), r]);
  return {
    rackCount: racks.length,
    halls: halls
      .map((h) => ({
        id: h.id,
        name: h.name,
        rows: (rowsOf.get(h.id) ?? [])
          .map((r) => ({ id: r.id, name: r.name.split("/").pop() ?? r.name, racks: racksOf.get(r.id) ?? [] }))
          .filter((r) => r.racks.length > 0),
      }))
      .filter((h) => h.rows.length > 0),
  };
}

/** Each rack's values from the rack PDUs' meters, the KPI stream and (when asked) GPU temperatures. */
export function rackValuesOf(
  stranded: StrandedLevel[] | undefined,
  parentOf: Map<string, string>,
  kpi: KpiFrame | undefined,
  temps: Map<string, number> | undefined,
): Map<string, RackValues> {
  const out = new Map<string, RackValues>();
  const at = (rack: string) => {
    const v = out.get(rack) ?? {};
    out.set(rack, v);
    return v;
  };
  for (const level of stranded ?? []) {
    const rack = parentOf.get(level.id);
    if (!rack?.startsWith("rack:") || level.drawWatts === null) continue;
    const v = at(rack);
    v.power = (v.power ?? 0) + level.drawWatts;
    // A rack's headroom is its tightest PDU's: that one trips first.
    const free = level.limitWatts - level.drawWatts;
    v.headroom = v.headroom === undefined ? free : Math.min(v.headroom, free);
  }
  for (const row of kpi?.rows ?? []) {
    const v = at(`rack:${row.key}`);
    v.tokensPerWatt = row.tokensPerJoule;
    v.tokensPerSecond = row.tokensPerSecond;
    if (v.power === undefined) v.power = row.meanPowerWatts;
  }
  for (const [rack, t] of temps ?? []) at(rack).temperature = t;
  return out;
}
