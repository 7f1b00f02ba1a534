/**
 * Jobs and inference services: their model servers, tokens per second and tokens per joule (live,
 * by job), and, where the power service runs, their priority, profile, cap and what holds it.
 */
import { useMemo } from "react";
import { Async, Empty } from "../components/State.tsx";
import { percent, si, watts } from "../format.ts";
import { useKpiStream, usePoll } from "../hooks.tsx";
import { usePlacements } from "../placement.tsx";
import { Link } from "../router.tsx";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A running job as the power service allocates for it. */
interface PowerJob {
  id: string;
  org: string | null;
  kind: "training" | "inference";
  priority: number;
  gpus: number;
  capWatts: number;
  profile: string | null;
  stoppedBy: string;
}

export function Workloads() {
  const jobs = useKpiStream("job");
  const placements = usePlacements();
  const servers = usePoll<{ series: { labels: Record<string, string>; values: (number | string)[] }[] }>(
    "/v1/telemetry/series?selector=vllm:num_requests_running&windowSeconds=30&limit=10000",
    5000,
  );
  const power = usePoll<{ jobs: PowerJob[] }>("/v1/power/jobs", 5000);
  // A training job is `job:NAME`; an inference service's replicas are `server:NAME-N`, each its own.
  const powerOf = useMemo(() => {
    const list = power.data?.jobs ?? [];
    return (key: string): PowerJob[] =>
      list.filter(
        (j) => j.id === `job:${key}` || new RegExp(`^server:${escapeRegExp(key)}-\\d+$`).test(j.id),
      );
  }, [power.data]);
  const serversOf = useMemo(() => {
    const m = new Map<string, { name: string; running: number | undefined }[]>();
    for (const s of servers.data?.series ?? []) {
      const name = (s.labels.entity ?? "").replace(/^server:/, "");
      const job = name.replace(/-\d+$/, "");
      const last = s.values.at(-1);
      m.set(job, [...(m.get(job) ?? []), { name, running: typeof last === "number" ? last : undefined }]);
    }
    return m;
  }, [servers.data]);
  const rows = [...(jobs?.rows ?? [])].sort((a, b) => b.tokensPerSecond - a.tokensPerSecond);
  return (
    <section>
      <h1>Workloads</h1>
      <p className="muted">
        Training jobs and inference services, live over the last minute.
        {power.error?.status === 503 ? " Profiles and caps appear when the power service runs." : ""}
      </p>
      <Async data={jobs} error={undefined} what="workloads">
        {() =>
          rows.length === 0 ? (
            <Empty>No workload is reporting tokens yet.</Empty>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Kind</th>
                  <th scope="col">GPUs</th>
                  <th scope="col">Placement</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Profile</th>
                  <th scope="col">Cap per GPU</th>
                  <th scope="col">Tokens/s</th>
                  <th scope="col">Tokens per joule</th>
                  <th scope="col">GPU power</th>
                  <th scope="col">Usable</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const replicas = powerOf(r.key);
                  const p = replicas[0];
                  const caps = [...new Set(replicas.map((j) => j.capWatts))].sort((a, b) => a - b);
                  const srv = serversOf.get(r.key) ?? [];
                  return (
                    <tr key={r.key}>
                      <th scope="row">{r.key}</th>
                      <td className="wrap">
                        {p?.kind ?? (srv.length > 0 ? "inference" : "training")}
                        {srv.length > 0 && (
                          <div className="muted small">
                            {srv
                              .map(
                                (s) => `${s.name}${s.running !== undefined ? ` (${s.running} running)` : ""}`,
                              )
                              .join(", ")}
                          </div>
                        )}
                      </td>
                      <td>{r.gpus}</td>
                      <td className="wrap">
                        <PlacementCell job={r.key} placements={placements} />
                      </td>
                      <td>{p?.priority ?? "–"}</td>
                      <td>{p?.profile ?? "–"}</td>
                      <td title={p ? `held by ${p.stoppedBy}` : undefined}>
                        {caps.length === 0 ? "–" : caps.map((c) => watts(c)).join(" / ")}
                        {p && <div className="muted small">held by {p.stoppedBy}</div>}
                      </td>
                      <td>{si(r.tokensPerSecond)}</td>
                      <td>{si(r.tokensPerJoule)}</td>
                      <td>{watts(r.meanPowerWatts)}</td>
                      <td>{percent(r.usableShare)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  );
}

function PlacementCell({ job, placements }: { job: string; placements: ReturnType<typeof usePlacements> }) {
  const p = placements.byJob?.get(job);
  if (!p) return <span className="muted">{placements.error ? "no power service" : "–"}</span>;
  return (
    <>
      {p.racks.map(({ rack, gpus }, i) => (
        <span key={rack}>
          {i > 0 ? ", " : ""}
          <Link href={`/floor/rack/${encodeURIComponent(rack)}`}>{rack.replace(/^rack:/, "")}</Link>
          <span className="muted"> ({gpus})</span>
        </span>
      ))}{" "}
      · <Link href={`/topology/job/${encodeURIComponent(job)}`}>topology</Link>
    </>
  );
}
