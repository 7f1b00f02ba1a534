/**
 * The NVLink domains and fabric neighborhood of a rack or a running job as a graph: its nodes,
 * the NVLink domain each belongs to, the leaf switches their NICs and DPUs are cabled to, and the
 * spines above those leaves.
 */
import { useEffect, useState } from "react";
import type { Api, ApiFailure } from "../api.ts";
import { Graph, type GraphData } from "../components/Graph.tsx";
import { Empty, Failed, Loading } from "../components/State.tsx";
import { useList } from "../hooks.tsx";
import type { Entity, Page } from "../model/floor.ts";
import { usePlacements } from "../placement.tsx";
import { navigate, segments } from "../router.tsx";
import { useSession } from "../session.tsx";

interface EntityAnswer {
  entity: Entity;
  uplinks: { id: string; cables: number; gbps: number }[];
  nvlinkDomain: string | null;
}

const entity = (api: Api, id: string) =>
  api.get<EntityAnswer>(`/v1/topology/entities/${encodeURIComponent(id)}`);

/** What the graph hangs from: a rack, or a job and the nodes it runs on. */
type Root = { kind: "rack"; id: string } | { kind: "job"; id: string; nodes: string[] };

/** The nodes, NICs and DPUs, and GPU counts under `root`. */
async function contents(api: Api, root: Root) {
  const under = async (id: string) =>
    (await api.get<Page<Entity>>(`/v1/topology/entities/${encodeURIComponent(id)}/descendants?limit=10000`))
      .items;
  if (root.kind === "rack") {
    const rack = await entity(api, root.id);
    const items = await under(root.id);
    return { label: `rack ${rack.entity.name}`, items };
  }
  const items = (
    await Promise.all(root.nodes.map(async (n) => [(await entity(api, n)).entity, ...(await under(n))]))
  ).flat();
  return { label: `job ${root.id}`, items };
}

/** The neighborhood of a rack or a job: its nodes, their NVLink domains, their leaves and those leaves' spines. */
async function neighborhood(api: Api, root: Root): Promise<GraphData> {
  const { label, items } = await contents(api, root);
  const rootId = root.kind === "rack" ? root.id : `job:${root.id}`;
  const nodes: GraphData["nodes"] = [{ id: rootId, label, kind: root.kind }];
  const edges: GraphData["edges"] = [];
  const seen = new Set([rootId]);
  const add = (id: string, text: string, kind: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    nodes.push({ id, label: text, kind });
  };
  const gpusOf = new Map<string, number>();
  for (const e of items)
    if (e.kind === "gpu") gpusOf.set(e.parent ?? "", (gpusOf.get(e.parent ?? "") ?? 0) + 1);
  const ports = items.filter((e) => e.kind === "nic" || e.kind === "dpu").slice(0, 400);
  const computeNodes = items.filter((e) => e.kind === "node");
  for (const n of computeNodes) {
    add(n.id, `${n.name} (${gpusOf.get(n.id) ?? 0} GPUs)`, "node");
    edges.push({ source: rootId, target: n.id, label: "" });
  }
  const answers = await Promise.all([...computeNodes, ...ports].map((e) => entity(api, e.id)));
  const links = new Map<string, { cables: number; gbps: number }>();
  const leaves = new Set<string>();
  for (const a of answers) {
    const owner = a.entity.kind === "node" ? a.entity.id : (a.entity.parent ?? a.entity.id);
    if (a.nvlinkDomain && a.entity.kind === "node") {
      add(a.nvlinkDomain, `NVLink ${a.nvlinkDomain.replace(/^nvlinkDomain:/, "")}`, "domain");
      edges.push({ source: owner, target: a.nvlinkDomain, label: "", detail: "NVLink" });
    }
    for (const u of a.uplinks) {
      const key = `${owner}|${u.id}`;
      const l = links.get(key) ?? { cables: 0, gbps: 0 };
      links.set(key, { cables: l.cables + u.cables, gbps: l.gbps + u.gbps * u.cables });
      leaves.add(u.id);
    }
  }
  for (const [key, l] of links) {
    const [owner, sw] = key.split("|") as [string, string];
    add(sw, sw.replace(/^switch:/, ""), "leaf");
    edges.push({ source: owner, target: sw, label: "", detail: `${l.cables}× · ${Math.round(l.gbps)} Gb/s` });
  }
  const ups = await Promise.all([...leaves].map((id) => entity(api, id).catch(() => undefined)));
  for (const a of ups) {
    if (!a) continue;
    for (const u of a.uplinks) {
      add(u.id, u.id.replace(/^switch:/, ""), "spine");
      edges.push({ source: a.entity.id, target: u.id, label: `${u.cables}×` });
    }
  }
  return { nodes, edges };
}

export function Topology({ path }: { path: string }) {
  const { api } = useSession();
  const [first, second] = segments(path, "/topology");
  const racks = useList<Entity>("/v1/topology/racks");
  const placements = usePlacements();
  const jobs = [...(placements.byJob?.keys() ?? [])].sort();
  const job = first === "job" ? second : undefined;
  const rackId = job ? undefined : (first ?? racks.data?.items[0]?.id);
  const jobNodes = job ? placements.byJob?.get(job)?.nodes : undefined;
  const jobKnown = job !== undefined && placements.byJob !== undefined && jobNodes === undefined;
  const key = rackId ?? (jobNodes ? `job:${job}:${jobNodes.join(",")}` : undefined);
  const [graph, setGraph] = useState<{ id: string; data?: GraphData; error?: ApiFailure }>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the rack or the job's nodes
  useEffect(() => {
    const root: Root | undefined = rackId
      ? { kind: "rack", id: rackId }
      : job && jobNodes
        ? { kind: "job", id: job, nodes: jobNodes }
        : undefined;
    if (!root || !key) return;
    let live = true;
    setGraph({ id: root.id });
    neighborhood(api, root)
      .then((data) => live && setGraph({ id: root.id, data }))
      .catch((error: ApiFailure) => live && setGraph({ id: root.id, error }));
    return () => {
      live = false;
    };
  }, [api, key]);
  return (
    <section>
      <h1>Topology</h1>
      <div className="row">
        <label>
          Rack{" "}
          <select
            value={rackId ?? ""}
            onChange={(e) => navigate(`/topology/${encodeURIComponent(e.target.value)}`)}
          >
            {!rackId && <option value="">–</option>}
            {(racks.data?.items ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
                {r.org ? ` (${r.org})` : ""}
              </option>
            ))}
          </select>
        </label>
        <label>
          or job{" "}
          <select
            value={job ?? ""}
            onChange={(e) => navigate(`/topology/job/${encodeURIComponent(e.target.value)}`)}
            disabled={jobs.length === 0}
          >
            {!job && <option value="">–</option>}
            {jobs.map((j) => (
              <option key={j} value={j}>
                {j}
              </option>
            ))}
          </select>
        </label>
      </div>
      {jobKnown && (
        <p className="not-yours" role="alert">
          No running job <code>{job}</code> that is yours to see.
        </p>
      )}
      {racks.data?.items.length === 0 && <Empty>No racks you may see.</Empty>}
      {graph?.error?.status === 404 ? (
        <p className="not-yours" role="alert">
          <code>{graph.id}</code> does not exist, or it is not yours to see.
        </p>
      ) : graph?.error ? (
        <Failed error={graph.error} what="the topology" />
      ) : graph?.data ? (
        <>
          <Graph data={graph.data} />
          <Links data={graph.data} />
        </>
      ) : (
        (rackId || job) && !jobKnown && <Loading what="the topology" />
      )}
    </section>
  );
}

/** The graph's cabling as a table: readable without the picture, and by a screen reader. */
function Links({ data }: { data: GraphData }) {
  const label = new Map(data.nodes.map((n) => [n.id, n.label]));
  const cabled = data.edges.filter((e) => e.detail || e.label);
  return (
    <table className="list">
      <caption>Links</caption>
      <thead>
        <tr>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Link</th>
        </tr>
      </thead>
      <tbody>
        {cabled.map((e) => (
          <tr key={`${e.source}|${e.target}`}>
            <td>{label.get(e.source) ?? e.source}</td>
            <td>{label.get(e.target) ?? e.target}</td>
            <td>{e.detail ?? e.label}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
