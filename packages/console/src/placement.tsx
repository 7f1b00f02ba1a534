/**
 * The running jobs' placement, read from the power service's explanation of each GPU the user may
 * see (which job holds it). One request per GPU, so only for factories of up to MAX_GPUS visible
 * GPUs, refreshed every 30 s; beyond that the views say placement is not shown.
 */
import { useEffect, useState } from "react";
import type { ApiFailure } from "./api.ts";
import { useList, usePoll } from "./hooks.tsx";
import type { Entity, Page } from "./model/floor.ts";
import { type Placement, placementsOf } from "./model/placement.ts";
import { useSession } from "./session.tsx";

export const MAX_GPUS = 1024;
const PARALLEL = 16;

export interface Placements {
  byJob: Map<string, Placement> | undefined;
  /** More GPUs than MAX_GPUS: nothing was read. */
  tooMany: boolean;
  error: ApiFailure | undefined;
}

export function usePlacements(): Placements {
  const { api } = useSession();
  const nodes = useList<Entity>("/v1/topology/nodes");
  const gpus = usePoll<Page<Entity>>(`/v1/topology/gpus?limit=${MAX_GPUS}`);
  const [state, setState] = useState<{ byJob?: Map<string, Placement>; error?: ApiFailure }>({});
  const tooMany = (gpus.data?.total ?? 0) > MAX_GPUS;
  useEffect(() => {
    if (!nodes.data || !gpus.data || tooMany) return;
    const abort = new AbortController();
    const rackOfNode = new Map(nodes.data.items.map((n) => [n.id, n.parent ?? ""]));
    const ids = gpus.data.items.map((g) => g.id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      const jobs: [string, string | null][] = [];
      for (let i = 0; i < ids.length; i += PARALLEL) {
        const batch = ids.slice(i, i + PARALLEL);
        const answers = await Promise.all(
          batch.map((id) =>
            api.get<{ job: string | null }>(`/v1/power/gpus/${encodeURIComponent(id)}`, abort.signal),
          ),
        );
        for (const [k, a] of answers.entries()) jobs.push([batch[k]!, a.job]);
      }
      setState({ byJob: placementsOf(jobs, rackOfNode) });
    };
    const loop = () => {
      read()
        .catch((error: ApiFailure) => {
          if (!abort.signal.aborted) setState((s) => ({ ...s, error }));
        })
        .finally(() => {
          if (!abort.signal.aborted) timer = setTimeout(loop, 30_000);
        });
    };
    loop();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [api, nodes.data, gpus.data, tooMany]);
  return { byJob: state.byJob, tooMany, error: state.error ?? nodes.error ?? gpus.error };
}
