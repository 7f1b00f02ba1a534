/**
 * Placement through a Kubernetes scheduler extender, asked the way kube-scheduler asks it: for
 * each pod (one per node a job needs), POST `ExtenderArgs` to the filter verb, then the nodes that
 * passed to the prioritize verb, and bind to the best score (ties: first in the candidate order).
 * The extender is configured "nodeCacheCapable", so nodes travel by name (`NodeNames`).
 * JSON field names are those of the Go structs, which carry no tags (FACTS.md):
 * `ExtenderArgs{Pod, Nodes, NodeNames}`, `ExtenderFilterResult{Nodes, NodeNames, FailedNodes,
 * FailedAndUnresolvableNodes, Error}`, `HostPriorityList [{Host, Score}]`.
 */
import type { JobRuntime, PlacementAnswer, Placer } from "./jobs.ts";
import type { ExtenderConfig } from "./scenario.ts";
import type { FactoryState } from "./state.ts";

/** The pod kube-scheduler would send for one node's share of a job (core/v1 Pod, JSON tags). */
export function podFor(
  state: FactoryState,
  job: JobRuntime,
  podName: string,
  gpus: number,
): Record<string, unknown> {
  const spec = job.spec;
  const gpuQuantity = String(gpus);
  return {
    metadata: {
      name: podName,
      namespace: spec.org ?? "default",
      uid: `${state.seed}-${spec.name}-${podName}`,
      labels: { "flightdeck.dev/job": spec.name, "flightdeck.dev/type": spec.type },
      annotations: {
        "flightdeck.dev/profile": spec.profile ?? "max-p",
        "flightdeck.dev/priority": String(spec.priority ?? 0),
        "flightdeck.dev/model": spec.model.name,
      },
    },
    spec: {
      schedulerName: "default-scheduler",
      priority: spec.priority ?? 0,
      containers: [
        {
          name: spec.type === "training" ? "trainer" : "vllm",
          resources: {
            requests: { "nvidia.com/gpu": gpuQuantity },
            limits: { "nvidia.com/gpu": gpuQuantity },
          },
        },
      ],
    },
    status: { phase: "Pending" },
  };
}

/** A placer that asks the extender at `config.url`. */
export function extenderPlacer(state: FactoryState, config: ExtenderConfig): Placer {
  const base = config.url.replace(/\/+$/, "");
  const filterUrl = `${base}/${config.filterVerb ?? "filter"}`;
  const prioritizeUrl = `${base}/${config.prioritizeVerb ?? "prioritize"}`;
  const timeoutMs = (config.timeoutSeconds ?? 5) * 1000;
  const names = state.topo.nodeNames;
  const slotOf = state.topo.nodeSlotByName;

  const post = async (url: string, body: unknown): Promise<unknown> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${url}: the answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
  };

  /** One pod: filter then prioritize; returns the chosen node slot or a reason. */
  const placePod = async (
    pod: Record<string, unknown>,
    candidates: Int32Array,
  ): Promise<{ node: number } | { reason: string }> => {
    const args = { Pod: pod, Nodes: null, NodeNames: Array.from(candidates, (n) => names[n]!) };
    const filtered = (await post(filterUrl, args)) as {
      NodeNames?: string[] | null;
      FailedNodes?: Record<string, string> | null;
      FailedAndUnresolvableNodes?: Record<string, string> | null;
      Error?: string;
    };
    if (typeof filtered !== "object" || filtered === null)
      throw new Error(`${filterUrl}: not an ExtenderFilterResult`);
    if (filtered.Error) return { reason: `extender: ${filtered.Error}` };
    const allowed = new Set(candidates);
    const passed = (filtered.NodeNames ?? []).filter((name) => {
      const slot = slotOf.get(name);
      return slot !== undefined && allowed.has(slot);
    });
    if (passed.length === 0) {
      const failed = { ...(filtered.FailedNodes ?? {}), ...(filtered.FailedAndUnresolvableNodes ?? {}) };
      const first = Object.entries(failed)[0];
      return {
        reason: `extender filtered out all ${candidates.length} candidate node(s)${first ? `; ${first[0]}: ${first[1]}` : ""}`,
      };
    }
    const scores = (await post(prioritizeUrl, { ...args, NodeNames: passed })) as {
      Host: string;
      Score: number;
    }[];
    if (!Array.isArray(scores)) throw new Error(`${prioritizeUrl}: not a HostPriorityList`);
    const scoreOf = new Map(scores.map((s) => [s.Host, Number(s.Score)]));
    let best = passed[0]!;
    for (const name of passed) if ((scoreOf.get(name) ?? 0) > (scoreOf.get(best) ?? 0)) best = name;
    return { node: slotOf.get(best)! };
  };

  return {
    async place(job, unit, candidates, count): Promise<PlacementAnswer> {
      if (candidates.length < count)
        return { reason: `needs ${count} free node(s), ${candidates.length} fit` };
      const chosen: number[] = [];
      const taken = new Set<number>();
      for (let i = 0; i < count; i++) {
        const left = candidates.filter((n) => !taken.has(n));
        const n = left[0]!;
        const gpus = state.topo.nodeGpuStart[n + 1]! - state.topo.nodeGpuStart[n]!;
        const pod = podFor(state, job, count > 1 ? `${unit}-${i}` : unit, gpus);
        const answer = await placePod(pod, left);
        if ("reason" in answer) return answer;
        chosen.push(answer.node);
        taken.add(answer.node);
      }
      return { nodes: chosen };
    },
  };
}
