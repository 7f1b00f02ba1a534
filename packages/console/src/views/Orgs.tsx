/** Provider admin: every org with its racks, tokens and energy over the last hour. */
import { useMemo } from "react";
import { Async, Empty } from "../components/State.tsx";
import { si } from "../format.ts";
import { useList, usePoll } from "../hooks.tsx";
import type { Entity } from "../model/floor.ts";
import type { KpiFrame } from "../model/kpi.ts";
import { Link } from "../router.tsx";
import { isAdmin, useSession } from "../session.tsx";

interface Org {
  name: string;
  displayName?: string | null;
}

export function Orgs() {
  const { principal } = useSession();
  const orgs = usePoll<{ items: Org[] }>("/v1/orgs");
  const racks = useList<Entity>("/v1/topology/racks");
  const kpi = usePoll<KpiFrame>("/v1/kpi?by=org&windowSeconds=3600", 10_000);
  const racksOf = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const r of racks.data?.items ?? []) if (r.org) m.set(r.org, [...(m.get(r.org) ?? []), r.name]);
    return m;
  }, [racks.data]);
  const kpiOf = useMemo(() => new Map((kpi.data?.rows ?? []).map((r) => [r.key, r])), [kpi.data]);
  if (!isAdmin(principal))
    return (
      <section>
        <h1>Orgs</h1>
        <p className="not-yours">This page is for the provider's administrators.</p>
      </section>
    );
  return (
    <section>
      <h1>Orgs</h1>
      <p className="muted">Tokens and GPU energy over the last hour (or since the control plane started).</p>
      <Async data={orgs.data} error={orgs.error} what="orgs">
        {(d) =>
          d.items.length === 0 ? (
            <Empty>No orgs yet: they come from the factory description or POST /v1/orgs.</Empty>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">Org</th>
                  <th scope="col">Racks</th>
                  <th scope="col">GPUs</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Energy</th>
                  <th scope="col">Tokens per joule</th>
                  <th scope="col">Tokens/s</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((o) => {
                  const k = kpiOf.get(o.name);
                  return (
                    <tr key={o.name}>
                      <th scope="row">
                        {o.name}
                        {o.displayName ? <span className="muted"> · {o.displayName}</span> : null}
                      </th>
                      <td>
                        {(racksOf.get(o.name) ?? []).map((r, i) => (
                          <span key={r}>
                            {i > 0 ? ", " : ""}
                            <Link href={`/floor/rack/${encodeURIComponent(`rack:${r}`)}`}>{r}</Link>
                          </span>
                        ))}
                      </td>
                      <td>{k?.gpus ?? "–"}</td>
                      <td>{si(k?.tokens)}</td>
                      <td>{si(k ? k.energyJoules / 3.6e6 : undefined, "kWh")}</td>
                      <td>{si(k?.tokensPerJoule)}</td>
                      <td>{si(k?.tokensPerSecond)}</td>
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
