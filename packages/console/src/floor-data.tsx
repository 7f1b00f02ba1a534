/** The floor's layout (halls → rows → racks) and each rack's live values for every measure. */
import { useMemo } from "react";
import { type KpiFrame, useLive, usePoll } from "./hooks.tsx";

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

const ALL = "limit=10000";

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

/** The halls, rows and racks the user may see. */
export function useFloorLayout() {
  const halls = usePoll<Page<Entity>>(`/v1/topology/halls?${ALL}`);
  const rows = usePoll<Page<Entity>>(`/v1/topology/rows?${ALL}`);
  const racks = usePoll<Page<Entity>>(`/v1/topology/racks?${ALL}`);
  const layout = useMemo(
    () =>
      halls.data && rows.data && racks.data
        ? layoutOf(halls.data.items, rows.data.items, racks.data.items)
        : undefined,
    [halls.data, rows.data, racks.data],
  );
  return { layout, racks: racks.data?.items, error: halls.error ?? rows.error ?? racks.error };
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

/** Rack PDUs (power devices whose parent is a rack), for mapping meter readings to racks. */
export function usePowerParents(): Map<string, string> {
  const power = usePoll<Page<Entity>>(`/v1/topology/power?${ALL}`);
  return useMemo(
    () => new Map((power.data?.items ?? []).map((p) => [p.id, p.parent ?? ""] as [string, string])),
    [power.data],
  );
}

/** The hottest GPU of each rack over the last half minute (only while `on`). */
export function useRackTemperatures(on: boolean): Map<string, number> | undefined {
  const nodes = usePoll<Page<Entity>>(on ? `/v1/topology/nodes?${ALL}` : null);
  const series = usePoll<{ series: { labels: Record<string, string>; values: (number | string)[] }[] }>(
    on ? `/v1/telemetry/series?selector=DCGM_FI_DEV_GPU_TEMP&windowSeconds=30&limit=10000` : null,
    5000,
  );
  return useMemo(() => {
    if (!nodes.data || !series.data) return undefined;
    const rackOfNode = new Map(nodes.data.items.map((n) => [n.id, n.parent ?? ""]));
    const out = new Map<string, number>();
    for (const s of series.data.series) {
      const m = /^gpu:(.+)\/\d+$/.exec(s.labels.entity ?? "");
      const rack = m ? rackOfNode.get(`node:${m[1]}`) : undefined;
      const last = s.values.at(-1);
      if (!rack || typeof last !== "number") continue;
      out.set(rack, Math.max(out.get(rack) ?? -Infinity, last));
    }
    return out;
  }, [nodes.data, series.data]);
}

/** Everything the floor shows, live. */
export function useFloor(measure: string) {
  const { layout, racks, error } = useFloorLayout();
  const parents = usePowerParents();
  const stranded = usePoll<{ levels: StrandedLevel[] }>("/v1/kpi/stranded", 2000);
  const live = useLive();
  const temps = useRackTemperatures(measure === "temperature");
  const values = useMemo(
    () => rackValuesOf(stranded.data?.levels, parents, live.racks, temps),
    [stranded.data, parents, live.racks, temps],
  );
  return { layout, racks, values, error };
}
