/**
 * Jobs and inference services with their placement and profile (from the power service, where it
 * runs), their model servers, tokens per second and tokens per joule (live, by job).
 */
import { useMemo } from "react";
import { Async, Empty } from "../components/State.tsx";
import { percent, si, watts } from "../format.ts";
import { useLive, usePoll } from "../hooks.tsx";
import { Link } from "../router.tsx";

interface PowerJob {
  job?: string;
  name?: string;
  id?: string;
  org?: string | null;
  kind?: string;
  profile?: string | { name?: string } | null;
  racks?: string[];
  nodes?: string[];
  gpus?: string[] | number;
  capWatts?: number;
}

const jobName = (j: PowerJob) => j.job ?? j.name ?? j.id ?? "";

export function Workloads() {
  const live = useLive();
  const servers = usePoll<{ series: { labels: Record<string, string>; values: (number | string)[] }[] }>(
    "/v1/telemetry/series?selector=vllm:num_requests_running&windowSeconds=30&limit=10000",
    5000,
  );
  const power = usePoll<{ jobs?: PowerJob[] } | PowerJob[]>("/v1/power/jobs", 10_000);
  const powerJobs = useMemo(() => {
    const list = Array.isArray(power.data) ? power.data : (power.data?.jobs ?? []);
    return new Map(list.map((j) => [jobName(j), j]));
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
  const rows = [...(live.jobs?.rows ?? [])].sort((a, b) => b.tokensPerSecond - a.tokensPerSecond);
  return (
    <section>
      <h1>Workloads</h1>
      <p className="muted">
        Training jobs and inference services, live over the last minute.
        {power.error?.status === 404 ? " Placement and profiles appear when the power service runs." : ""}
      </p>
      <Async data={live.jobs} error={undefined} what="workloads">
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
                  <th scope="col">Profile</th>
                  <th scope="col">Tokens/s</th>
                  <th scope="col">Tokens per joule</th>
                  <th scope="col">GPU power</th>
                  <th scope="col">Usable</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => {
                  const p = powerJobs.get(r.key);
                  const srv = serversOf.get(r.key) ?? [];
                  const profile = typeof p?.profile === "string" ? p.profile : p?.profile?.name;
                  return (
                    <tr key={r.key}>
                      <th scope="row">{r.key}</th>
                      <td>
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
                      <td>
                        {p?.racks?.length
                          ? p.racks.map((rack, i) => (
                              <span key={rack}>
                                {i > 0 ? ", " : ""}
                                <Link
                                  href={`/floor/rack/${encodeURIComponent(rack.includes(":") ? rack : `rack:${rack}`)}`}
                                >
                                  {rack.replace(/^rack:/, "")}
                                </Link>
                              </span>
                            ))
                          : p?.nodes?.length
                            ? p.nodes.join(", ")
                            : "–"}
                      </td>
                      <td>{profile ?? "–"}</td>
                      <td>{si(r.tokensPerSecond)}</td>
                      <td>{si(r.tokensPerJoule)}</td>
                      <td>{watts(r.meanPowerWatts * r.gpus)}</td>
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
