/**
 * The running jobs' placement: the power service lists every job it allocates for with its GPU
 * ids (scoped to what the user may see); grouped here by job, with nodes and racks. One request,
 * refreshed every 30 s.
 */
import { useMemo } from "react";
import type { ApiFailure } from "./api.ts";
import { useList, usePoll } from "./hooks.tsx";
import type { Entity } from "./model/floor.ts";
import { type Placement, placementsOf } from "./model/placement.ts";

export interface Placements {
  byJob: Map<string, Placement> | undefined;
  error: ApiFailure | undefined;
}

export function usePlacements(): Placements {
  const nodes = useList<Entity>("/v1/topology/nodes");
  const jobs = usePoll<{ jobs: { id: string; gpuIds: string[] }[] }>("/v1/power/jobs", 30_000);
  const byJob = useMemo(() => {
    if (!nodes.data || !jobs.data) return undefined;
    const rackOfNode = new Map(nodes.data.items.map((n) => [n.id, n.parent ?? ""]));
    const pairs: [string, string][] = jobs.data.jobs.flatMap((j) =>
      j.gpuIds.map((g): [string, string] => [g, j.id]),
    );
    return placementsOf(pairs, rackOfNode);
  }, [nodes.data, jobs.data]);
  return { byJob, error: jobs.error ?? nodes.error };
}
