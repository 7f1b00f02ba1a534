/**
 * Provider admin: every org with its racks, the tokens its GPUs made and the energy they used over
 * the last hour, and its users and their API tokens.
 */
import { useEffect, useMemo, useState } from "react";
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

interface Access {
  users: number;
  /** API tokens neither revoked nor expired. */
  tokens: number;
}

/** Users and live API tokens per org (one request per org and per user; read once). */
function useAccess(orgs: Org[] | undefined): Map<string, Access> {
  const { api } = useSession();
  const [access, setAccess] = useState(new Map<string, Access>());
  useEffect(() => {
    if (!orgs) return;
    let live = true;
    const now = Date.now();
    Promise.all(
      orgs.map(async (o) => {
        const users = await api.get<{ items: { id: number }[] }>(
          `/v1/orgs/${encodeURIComponent(o.name)}/users`,
        );
        const tokens = await Promise.all(
          users.items.map((u) =>
            api.get<{ items: { revokedAt: string | null; expiresAt: string | null }[] }>(
              `/v1/users/${u.id}/tokens`,
            ),
          ),
        );
        const active = tokens
          .flatMap((t) => t.items)
          .filter((t) => !t.revokedAt && (!t.expiresAt || Date.parse(t.expiresAt) > now)).length;
        return [o.name, { users: users.items.length, tokens: active }] as const;
      }),
    )
      .then((rows) => live && setAccess(new Map(rows)))
      .catch(() => {
        // Counts stay blank; the rest of the page does not depend on them.
      });
    return () => {
      live = false;
    };
  }, [api, orgs]);
  return access;
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
  const access = useAccess(isAdmin(principal) ? orgs.data?.items : undefined);
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
      <p className="muted">
        Tokens made and GPU energy used over the last hour (or since the control plane started); users and
        their API tokens in force.
      </p>
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
                  <th scope="col">Users</th>
                  <th scope="col">API tokens</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((o) => {
                  const k = kpiOf.get(o.name);
                  return (
                    <tr key={o.name}>
                      <th scope="row">
                        {o.name}
                        {o.displayName && o.displayName !== o.name ? (
                          <span className="muted"> · {o.displayName}</span>
                        ) : null}
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
                      <td>{access.get(o.name)?.users ?? "–"}</td>
                      <td>{access.get(o.name)?.tokens ?? "–"}</td>
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
