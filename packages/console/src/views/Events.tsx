/** Xid and SXid events from the kernel log, newest first, filterable, each linked to its GPU on the floor. */
import { useMemo, useState } from "react";
import { Async, Empty } from "../components/State.tsx";
import { ago, clock } from "../format.ts";
import { usePoll } from "../hooks.tsx";
import { Link } from "../router.tsx";

export interface XidEvent {
  kind: "xid" | "sxid";
  xid: number;
  message: string;
  hostname: string;
  timestampMs: number;
  gpuId?: string;
  nvswitchId?: string;
  severity: number;
  catalog?: { meaning: string; action: string };
}

export function Events() {
  const events = usePoll<{ events: XidEvent[] }>("/v1/telemetry/events?limit=10000", 5000);
  const [text, setText] = useState("");
  const [code, setCode] = useState("");
  const shown = useMemo(() => {
    const t = text.trim().toLowerCase();
    return (events.data?.events ?? [])
      .filter((e) => code === "" || String(e.xid) === code)
      .filter(
        (e) =>
          t === "" ||
          `${e.hostname} ${e.gpuId ?? ""} ${e.nvswitchId ?? ""} ${e.message} ${e.catalog?.meaning ?? ""}`
            .toLowerCase()
            .includes(t),
      )
      .map((e, n) => ({ e, key: `${e.timestampMs}-${e.hostname}-${e.xid}-${n}` }))
      .reverse();
  }, [events.data, text, code]);
  const codes = useMemo(
    () => [...new Set((events.data?.events ?? []).map((e) => e.xid))].sort((a, b) => a - b),
    [events.data],
  );
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
          Xid{" "}
          <select value={code} onChange={(e) => setCode(e.target.value)}>
            <option value="">any</option>
            {codes.map((c) => (
              <option key={c} value={String(c)}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Async data={events.data} error={events.error} what="events">
        {(d) =>
          d.events.length === 0 ? (
            <Empty>No Xid events received. The kernel logs of your GPUs are quiet.</Empty>
          ) : shown.length === 0 ? (
            <Empty>No event matches the filter.</Empty>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Xid</th>
                  <th scope="col">Where</th>
                  <th scope="col">Meaning</th>
                  <th scope="col">Usual action</th>
                </tr>
              </thead>
              <tbody>
                {shown.slice(0, 500).map(({ e, key }) => (
                  <tr key={key} className={e.severity <= 3 ? "sev-high" : undefined}>
                    <td title={new Date(e.timestampMs).toISOString()}>
                      {clock(e.timestampMs)} <span className="muted">{ago(e.timestampMs)}</span>
                    </td>
                    <td>
                      {e.kind === "sxid" ? "SXid " : ""}
                      {e.xid}
                    </td>
                    <td>
                      {e.gpuId ? (
                        <Link href={`/floor/gpu/${encodeURIComponent(e.gpuId)}`}>{e.gpuId}</Link>
                      ) : (
                        (e.nvswitchId ?? e.hostname)
                      )}
                    </td>
                    <td className="wrap">{e.catalog?.meaning ?? e.message}</td>
                    <td className="wrap">{e.catalog?.action ?? "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  );
}
