/** Where the running jobs are: the power service's jobs with their GPUs, grouped by job. */

/**
 * The KPI key of a power-service job id: `job:NAME` is the training job NAME; `server:NAME-N` is
 * replica N of the inference service NAME. Undefined for anything else (an idle GPU).
 */
export function jobKeyOf(id: string | null): string | undefined {
  if (!id) return undefined;
  if (id.startsWith("job:")) return id.slice(4);
  const server = /^server:(.+)-\d+$/.exec(id);
  return server ? server[1] : undefined;
}

/** One job's GPUs, their nodes and racks (with the GPUs in each). */
export interface Placement {
  gpus: string[];
  nodes: string[];
  racks: { rack: string; gpus: number }[];
}

/** The node of a GPU id (`gpu:r01-dgx1/3` → `node:r01-dgx1`). */
export function nodeOfGpu(gpu: string): string | undefined {
  const m = /^gpu:(.+)\/\d+$/.exec(gpu);
  return m ? `node:${m[1]}` : undefined;
}

/** Groups GPUs by job key, with each job's nodes and racks in order of first appearance. */
export function placementsOf(
  gpuJobs: Iterable<[gpu: string, job: string | null]>,
  rackOfNode: Map<string, string>,
): Map<string, Placement> {
  const out = new Map<string, { gpus: string[]; nodes: Set<string>; racks: Map<string, number> }>();
  for (const [gpu, job] of gpuJobs) {
    const key = jobKeyOf(job);
    const node = nodeOfGpu(gpu);
    if (!key || !node) continue;
    const p = out.get(key) ?? { gpus: [], nodes: new Set<string>(), racks: new Map<string, number>() };
    out.set(key, p);
    p.gpus.push(gpu);
    p.nodes.add(node);
    const rack = rackOfNode.get(node);
    if (rack) p.racks.set(rack, (p.racks.get(rack) ?? 0) + 1);
  }
  return new Map(
    [...out].map(([key, p]) => [
      key,
      { gpus: p.gpus, nodes: [...p.nodes], racks: [...p.racks].map(([rack, gpus]) => ({ rack, gpus })) },
    ]),
  );
}
