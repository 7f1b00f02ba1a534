/**
 * One rack opened from the floor: its nodes and GPUs with live power, temperature, utilization
 * and cap, read from the GPUs' dcgm series and the BMCs' power limits, and the job on each GPU
 * and what holds its cap, from the power service. A rack the user may not
 * see answers exactly like one that does not exist, and says so.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { Async, Empty } from "../components/State.tsx";
import { si, watts } from "../format.ts";
import { usePoll } from "../hooks.tsx";
import type { Entity, Page, RackValues } from "../model/floor.ts";
import { jobKeyOf } from "../model/placement.ts";
import type { Explanation } from "../model/power.ts";
import { Link, navigate } from "../router.tsx";
import { useSession } from "../session.tsx";

interface SeriesAnswer {
  series: { labels: Record<string, string>; values: (number | string)[] }[];
}

const FIELDS = {
  DCGM_FI_DEV_POWER_USAGE: "power",
  DCGM_FI_DEV_GPU_TEMP: "temperature",
  DCGM_FI_DEV_GPU_UTIL: "utilization",
  redfish_gpu_power_limit_watts: "cap",
} as const;
type Field = (typeof FIELDS)[keyof typeof FIELDS];

/** Finds the rack of a GPU (GPU → node → rack). */
function useRackOfGpu(gpuId: string | undefined) {
  const { api } = useSession();
  const [state, setState] = useState<{ rackId?: string; missing?: boolean }>({});
  useEffect(() => {
    if (!gpuId) return;
    const parentOf = async (id: string) =>
      (await api.get<{ entity: Entity }>(`/v1/topology/entities/${encodeURIComponent(id)}`)).entity.parent;
    (async () => {
      const node = await parentOf(gpuId);
      const rack = node ? await parentOf(node) : null;
      setState(rack ? { rackId: rack } : { missing: true });
    })().catch(() => setState({ missing: true }));
  }, [api, gpuId]);
  return state;
}

export function RackPanel(props: {
  rackId?: string;
  gpuId?: string;
  closeHref: string;
  values: RackValues | undefined;
}) {
  const ofGpu = useRackOfGpu(props.gpuId);
  const rackId = props.rackId ?? ofGpu.rackId;
  const rack = usePoll<{ entity: Entity; nvlinkDomain: string | null }>(
    rackId ? `/v1/topology/entities/${encodeURIComponent(rackId)}` : null,
  );
  const heading = useRef<HTMLHeadingElement>(null);
  // Escape closes the panel, as its × does.
  useEffect(() => {
    const close = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !e.defaultPrevented) navigate(props.closeHref);
    };
    addEventListener("keydown", close);
    return () => removeEventListener("keydown", close);
  }, [props.closeHref]);
  const shownId = rack.data?.entity.id;
  useEffect(() => {
    if (shownId) heading.current?.focus();
  }, [shownId]);
  const wanted = props.rackId ?? props.gpuId ?? "";
  const missing = ofGpu.missing || rack.error?.status === 404;

  return (
    <aside className="panel" aria-label="Rack detail">
      <Link href={props.closeHref} className="close" aria-label="Close the rack">
        ×
      </Link>
      {missing ? (
        <div className="not-yours" role="alert">
          <h2>Not found</h2>
          <p>
            <code>{wanted}</code> does not exist, or it is not yours to see. Racks of other organizations are
            not shown to you.
          </p>
          <Link href={props.closeHref}>Back to the floor</Link>
        </div>
      ) : (
        <Async data={rack.data} error={rack.error} what="the rack">
          {({ entity, nvlinkDomain }) => (
            <>
              <h2 ref={heading} tabIndex={-1}>
                Rack {entity.name}
              </h2>
              <p className="muted">
                {entity.type} · {entity.org ? `owned by ${entity.org}` : "shared"} ·{" "}
                <Link href={`/topology/${encodeURIComponent(entity.id)}`}>topology</Link>
                {nvlinkDomain ? ` · NVLink domain ${nvlinkDomain}` : ""}
              </p>
              <dl className="facts">
                <dt>Power (PDUs)</dt>
                <dd>{watts(props.values?.power)}</dd>
                <dt>Headroom (tightest PDU)</dt>
                <dd>{watts(props.values?.headroom)}</dd>
                <dt>Tokens/s</dt>
                <dd>{si(props.values?.tokensPerSecond)}</dd>
                <dt>Tokens per joule</dt>
                <dd>{si(props.values?.tokensPerWatt)}</dd>
              </dl>
              <Gpus rackId={entity.id} {...(props.gpuId ? { gpuId: props.gpuId } : {})} />
            </>
          )}
        </Async>
      )}
    </aside>
  );
}

/** Which job holds each GPU and what holds its cap, from the power service (every 10 s). */
function useHolders(gpuIds: string[]): Map<string, { job: string | null; binding: string }> {
  const { api } = useSession();
  const [out, setOut] = useState(new Map<string, { job: string | null; binding: string }>());
  const key = gpuIds.join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the GPU list
  useEffect(() => {
    if (gpuIds.length === 0) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      const next = new Map<string, { job: string | null; binding: string }>();
      for (let i = 0; i < gpuIds.length; i += 16) {
        const batch = gpuIds.slice(i, i + 16);
        const answers = await Promise.all(
          batch.map((id) => api.get<Explanation>(`/v1/power/gpus/${encodeURIComponent(id)}`, abort.signal)),
        );
        for (const e of answers)
          next.set(e.gpu, { job: e.job, binding: e.binding.name ?? e.binding.level ?? e.binding.kind });
      }
      setOut(next);
    };
    const loop = () =>
      read()
        .catch(() => {
          // No power service, or it does not know the GPU yet: the columns stay blank.
        })
        .finally(() => {
          if (!abort.signal.aborted) timer = setTimeout(loop, 10_000);
        });
    loop();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [api, key]);
  return out;
}

function Gpus({ rackId, gpuId }: { rackId: string; gpuId?: string }) {
  const nodes = usePoll<Page<Entity>>(`/v1/topology/nodes?rack=${encodeURIComponent(rackId)}&limit=1000`);
  const gpus = usePoll<Page<Entity>>(`/v1/topology/gpus?rack=${encodeURIComponent(rackId)}&limit=10000`);
  const selector = useMemo(() => {
    const names = (nodes.data?.items ?? []).map((n) => n.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    if (names.length === 0) return null;
    return `{__name__=~"${Object.keys(FIELDS).join("|")}",entity=~"gpu:(${names.join("|")})/.*"}`;
  }, [nodes.data]);
  const series = usePoll<SeriesAnswer>(
    selector
      ? `/v1/telemetry/series?selector=${encodeURIComponent(selector)}&windowSeconds=30&limit=10000`
      : null,
    2000,
  );
  const readings = useMemo(() => {
    const out = new Map<string, Partial<Record<Field, number>>>();
    for (const s of series.data?.series ?? []) {
      const field = FIELDS[s.labels.__name__ as keyof typeof FIELDS];
      const last = s.values.at(-1);
      if (!field || typeof last !== "number") continue;
      const id = s.labels.entity ?? "";
      out.set(id, { ...out.get(id), [field]: last });
    }
    return out;
  }, [series.data]);
  const holders = useHolders(useMemo(() => (gpus.data?.items ?? []).map((g) => g.id), [gpus.data]));
  const byNode = useMemo(() => {
    const m = new Map<string, Entity[]>();
    for (const g of gpus.data?.items ?? []) m.set(g.parent ?? "", [...(m.get(g.parent ?? "") ?? []), g]);
    return m;
  }, [gpus.data]);

  return (
    <Async data={nodes.data} error={nodes.error ?? gpus.error} what="the rack's nodes">
      {(page) =>
        page.items.length === 0 ? (
          <Empty>No nodes in this rack.</Empty>
        ) : (
          <table className="gpus">
            <caption>Nodes and GPUs, live (last reading of the past 30 s)</caption>
            <thead>
              <tr>
                <th scope="col">GPU</th>
                <th scope="col">Power</th>
                <th scope="col">Temp</th>
                <th scope="col">Util</th>
                <th scope="col">Cap</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            {page.items.map((node) => (
              <tbody key={node.id}>
                <tr className="node-row">
                  <th scope="rowgroup" colSpan={6}>
                    {node.name} <span className="muted">{node.type}</span>
                  </th>
                </tr>
                {(byNode.get(node.id) ?? []).map((g) => {
                  const r = readings.get(g.id) ?? {};
                  const h = holders.get(g.id);
                  const job = jobKeyOf(h?.job ?? null);
                  return (
                    <tr key={g.id} className={g.id === gpuId ? "marked" : undefined} data-gpu={g.id}>
                      <th scope="row">
                        <Link href={`/power/gpu/${encodeURIComponent(g.id)}`} title="Why this cap">
                          GPU {g.ordinal}
                        </Link>
                      </th>
                      <td>{watts(r.power)}</td>
                      <td>{r.temperature === undefined ? "–" : `${Math.round(r.temperature)} °C`}</td>
                      <td>{r.utilization === undefined ? "–" : `${Math.round(r.utilization)} %`}</td>
                      <td data-cap={r.cap ?? ""} title={h ? `held by ${h.binding}` : undefined}>
                        {watts(r.cap)}
                        {h && <div className="muted small">{h.binding}</div>}
                      </td>
                      <td>
                        {job ? (
                          <Link href={`/topology/job/${encodeURIComponent(job)}`}>{job}</Link>
                        ) : (
                          <span className="muted">{h ? "idle" : "–"}</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            ))}
          </table>
        )
      }
    </Async>
  );
}
