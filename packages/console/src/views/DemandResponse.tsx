/**
 * Demand-response events (provider admin): a lower facility target for a window, as a grid
 * operator asks for one. Lists the events in force or to come, cancels one, adds one.
 */
import { type FormEvent, useState } from "react";
import type { ApiFailure } from "../api.ts";
import { clock } from "../format.ts";
import { describeTarget, type TargetStatus } from "../model/power.ts";
import { useSession } from "../session.tsx";

export function DemandResponse({
  events,
  onChanged,
}: {
  events: TargetStatus["events"];
  onChanged: () => void;
}) {
  const { api } = useSession();
  const [inMinutes, setInMinutes] = useState("0");
  const [forMinutes, setForMinutes] = useState("30");
  const [percent, setPercent] = useState("70");
  const [reason, setReason] = useState("");
  const [message, setMessage] = useState<string>();
  const done = (text: string) => () => {
    setMessage(text);
    onChanged();
  };
  const refused = (err: ApiFailure) => setMessage(`Refused: ${err.message}`);
  const add = (e: FormEvent) => {
    e.preventDefault();
    const startMs = Date.now() + Number(inMinutes) * 60_000;
    const endMs = startMs + Number(forMinutes) * 60_000;
    const fraction = Number(percent) / 100;
    if (!(endMs > startMs) || !(fraction > 0 && fraction <= 1))
      return setMessage("Give a duration above zero and a target between 1 and 100 %.");
    const id = `dr-${new Date(startMs).toISOString().slice(0, 16).replace(/[-:T]/g, "")}`;
    api
      .send("POST", "/v1/power/target/events", { id, startMs, endMs, target: { fraction }, reason })
      .then(done(`Event ${id} added.`))
      .catch(refused);
  };
  const cancel = (id: string) =>
    api
      .send("DELETE", `/v1/power/target/events/${encodeURIComponent(id)}`)
      .then(done(`Event ${id} cancelled.`))
      .catch(refused);
  return (
    <section aria-labelledby="dr-h">
      <h3 id="dr-h">Demand-response events</h3>
      {events.length === 0 ? (
        <p className="muted">None in force or to come.</p>
      ) : (
        <ul className="schedule">
          {events.map((e) => (
            <li key={e.id}>
              {e.id}: {describeTarget(e.target)} from {clock(e.startMs)} to {clock(e.endMs)}
              {e.reason ? ` (${e.reason})` : ""}{" "}
              <button type="button" onClick={() => cancel(e.id)} aria-label={`Cancel event ${e.id}`}>
                Cancel
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="row" onSubmit={add} aria-label="Add a demand-response event">
        <label>
          Starting in{" "}
          <input type="number" min={0} value={inMinutes} onChange={(e) => setInMinutes(e.target.value)} /> min
        </label>
        <label>
          for{" "}
          <input type="number" min={1} value={forMinutes} onChange={(e) => setForMinutes(e.target.value)} />{" "}
          min
        </label>
        <label>
          at{" "}
          <input
            type="number"
            min={1}
            max={100}
            value={percent}
            onChange={(e) => setPercent(e.target.value)}
          />{" "}
          % of peak
        </label>
        <label>
          because{" "}
          <input
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder="grid operator's call"
          />
        </label>
        <button type="submit">Add event</button>
        {message && <span role="status">{message}</span>}
      </form>
    </section>
  );
}
