/** The floor's layout (halls → rows → racks) and each rack's live values for every measure. */
import { useMemo } from "react";
import { useList, useLive, usePoll } from "./hooks.tsx";
import { type XidEvent, xidsByRack } from "./model/events.ts";
import { type Entity, layoutOf, rackValuesOf, type StrandedLevel } from "./model/floor.ts";

/** The halls, rows and racks the user may see. */
export function useFloorLayout() {
  const halls = useList<Entity>("/v1/topology/halls");
  const rows = useList<Entity>("/v1/topology/rows");
  const racks = useList<Entity>("/v1/topology/racks");
  const layout = useMemo(
    () =>
      halls.data && rows.data && racks.data
        ? layoutOf(halls.data.items, rows.data.items, racks.data.items)
        : undefined,
    [halls.data, rows.data, racks.data],
  );
  return { layout, racks: racks.data?.items, error: halls.error ?? rows.error ?? racks.error };
}

/** Rack PDUs (power devices whose parent is a rack), for mapping meter readings to racks. */
export function usePowerParents(): Map<string, string> {
  const power = useList<Entity>("/v1/topology/power");
  return useMemo(
    () => new Map((power.data?.items ?? []).map((p) => [p.id, p.parent ?? ""] as [string, string])),
    [power.data],
  );
}

/** The hottest GPU of each rack over the last half minute (only while `on`). */
export function useRackTemperatures(on: boolean): Map<string, number> | undefined {
  const nodes = useList<Entity>(on ? "/v1/topology/nodes" : null);
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

/** How recent an Xid event must be to mark its rack on the floor. */
export const RECENT_XID_MS = 15 * 60_000;

/**
 * Racks with Xid events in the last RECENT_XID_MS, and how many. The nodes are read only once
 * there is an event to place.
 */
export function useRackXids(): Map<string, number> {
  const events = usePoll<{ events: XidEvent[] }>("/v1/telemetry/events?limit=10000", 5000);
  const any = (events.data?.events.length ?? 0) > 0;
  const nodes = useList<Entity>(any ? "/v1/topology/nodes" : null);
  return useMemo(() => {
    if (!events.data || !nodes.data) return new Map<string, number>();
    const rackOfNode = new Map(nodes.data.items.map((n) => [n.id, n.parent ?? ""]));
    return xidsByRack(events.data.events, rackOfNode, Date.now() - RECENT_XID_MS);
  }, [events.data, nodes.data]);
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
