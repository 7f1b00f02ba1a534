/**
 * Events, newest first: Xid and SXid lines from the GPUs' kernel logs, and what the power
 * service's safety loop and enforcement did. Filterable by source, code and text; each GPU links
 * to its place on the floor.
 */
import { useMemo, useState } from "react";
import { Empty, Failed, Loading } from "../components/State.tsx";
import { ago, clock } from "../format.ts";
import { usePoll } from "../hooks.tsx";
import { eventRows, filterRows, type XidEvent } from "../model/events.ts";
import type { Action } from "../model/power.ts";
import { Link } from "../router.tsx";

export function Events() {
  const xids = usePoll<{ events: XidEvent[] }>("/v1/telemetry/events?limit=10000", 5000);
  const power = usePoll<{ actions: Action[] }>("/v1/power/actions?limit=2000", 5000);
  const [text, setText] = useState("");
  const [source, setSource] = useState("");
  const [code, setCode] = useState("");
  const rows = useMemo(
    () => eventRows(xids.data?.events ?? [], power.data?.actions ?? []),
    [xids.data, power.data],
  );
  const codes = useMemo(() => [...new Set(rows.map((r) => r.code))].sort(), [rows]);
  const shown = useMemo(() => filterRows(rows, source, code, text), [rows, source, code, text]);
  const loaded = xids.data !== undefined || power.data !== undefined;
  return (
    <section>
      <h1>Events</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
        <label>
          Search{" "}
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="host, GPU, text"
          />
        </label>
        <label>
          Source{" "}
          <select value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">all</option>
            <option value="xid">GPU kernel log (Xid)</option>
            <option value="power">power service</option>
          </select>
        </label>
        <label>
          Code{" "}
          <select value={code} onChange={(e) => setCode(e.target.value)}>
            <option value="">any</option>
            {codes.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </form>
      {xids.error && !xids.error.unreachable && <Failed error={xids.error} what="Xid events" />}
      {!loaded ? (
        <Loading what="events" />
      ) : rows.length === 0 ? (
        <Empty>No events: the GPUs' kernel logs are quiet and the power service has not had to act.</Empty>
      ) : shown.length === 0 ? (
        <Empty>No event matches the filter.</Empty>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Code</th>
              <th scope="col">Where</th>
              <th scope="col">What</th>
              <th scope="col">Usual action / rule</th>
            </tr>
          </thead>
          <tbody>
            {shown.slice(0, 500).map((r) => (
              <tr key={r.key} className={r.severe ? "sev-high" : undefined} data-source={r.source}>
                <td title={new Date(r.atMs).toISOString()}>
                  {clock(r.atMs)} <span className="muted">{ago(r.atMs)}</span>
                </td>
                <td>{r.code}</td>
                <td>
                  {r.gpu ? (
                    <>
                      <Link href={`/floor/gpu/${encodeURIComponent(r.gpu)}`}>{r.gpu}</Link>
                      {r.more > 0 && <span className="muted"> and {r.more} more</span>}
                    </>
                  ) : (
                    r.where
                  )}
                </td>
                <td className="wrap">{r.what}</td>
                <td className="wrap">{r.action || "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
