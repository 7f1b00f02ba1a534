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

/** A row of racks, and what each rack's tile calls it (see `shortNames`). */
export interface FloorRow {
  id: string;
  name: string;
  racks: Entity[];
  labels: string[];
}

export interface FloorLayout {
  halls: { id: string; name: string; rows: FloorRow[] }[];
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
  const groupBy = (items: Entity[]) => {
    const m = new Map<string, Entity[]>();
    for (const e of items) {
      const list = m.get(e.parent ?? "");
      if (list) list.push(e);
      else m.set(e.parent ?? "", [e]);
    }
    return m;
  };
  const racksOf = groupBy(racks);
  const rowsOf = groupBy(rows);
  return {
    rackCount: racks.length,
    halls: halls
      .map((h) => ({
        id: h.id,
        name: h.name,
        rows: (rowsOf.get(h.id) ?? [])
          .map((r) => {
            const inRow = racksOf.get(r.id) ?? [];
            return {
              id: r.id,
              name: r.name.split("/").pop() ?? r.name,
              racks: inRow,
              labels: shortNames(inRow.map((k) => k.name)),
            };
          })
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

/**
 * Rack names as a row's tiles show them: without the prefix every rack of the row shares, cut
 * after a separator (`h1-r01-07` in row `h1-r01` → `07`); whole names where nothing is shared.
 */
export function shortNames(names: string[]): string[] {
  if (names.length < 2) return names;
  let common = names[0]!;
  for (const n of names) while (!n.startsWith(common)) common = common.slice(0, -1);
  const cut = Math.max(...["-", "_", "/", ".", ":"].map((s) => common.lastIndexOf(s))) + 1;
  return cut > 0 ? names.map((n) => n.slice(cut) || n) : names;
}
