/**
 * Power: the budget tree with draw against limit at every level, the facility target and its
 * schedule (a provider admin can lower or raise it), the safety loop's actions, and why a GPU
 * has its cap (/power/gpu/ID). Without the power service, the metered levels alone.
 */
import { type FormEvent, useMemo, useState } from "react";
import type { ApiFailure } from "../api.ts";
import { Async, Empty, Failed } from "../components/State.tsx";
import type { StrandedLevel } from "../floor-data.tsx";
import { clock, percent, si, watts } from "../format.ts";
import { usePoll } from "../hooks.tsx";
import { Link, segments } from "../router.tsx";
import { isAdmin, useSession } from "../session.tsx";

export interface PowerLevel {
  id: string;
  name: string;
  parent: string | null;
  limitWatts: number;
  watts: number;
  drawWatts: number | null;
  headroomWatts: number;
  binds: boolean;
  marginalTokensPerJoule?: number | null;
  gpuCount: number;
}

interface PowerTree {
  atMs: number;
  facility: { targetWatts: number | null; source: string };
  levels: PowerLevel[];
}

interface Action {
  atMs: number;
  gpu: string;
  fromWatts: number;
  capWatts: number;
  rule: string;
  level: string;
  text: string;
}

interface TargetAnswer {
  current: unknown;
  schedule?: unknown[];
  events?: unknown[];
}

export function Power({ path }: { path: string }) {
  const [what, id] = segments(path, "/power");
  const tree = usePoll<PowerTree>("/v1/power/tree", 2000);
  const missing = tree.error?.status === 404;
  return (
    <section>
      <h1>Power</h1>
      {what === "gpu" && id && <CapExplanation gpu={id} />}
      {missing ? <MeteredOnly /> : <Budget tree={tree.data} error={tree.error} />}
      {!missing && <Target />}
      {!missing && <Actions />}
    </section>
  );
}

function Budget({ tree, error }: { tree: PowerTree | undefined; error: ApiFailure | undefined }) {
  const ordered = useMemo(() => depthOrder(tree?.levels ?? []), [tree]);
  return (
    <section aria-labelledby="budget-h">
      <h2 id="budget-h">Budget tree</h2>
      <Async data={tree} error={error} what="the budget tree">
        {(t) => (
          <>
            <p className="muted">
              Facility target {watts(t.facility.targetWatts)} ({t.facility.source}) · at {clock(t.atMs)}
            </p>
            <table className="list power-tree">
              <thead>
                <tr>
                  <th scope="col">Level</th>
                  <th scope="col">Draw against limit</th>
                  <th scope="col">GPU budget</th>
                  <th scope="col">Headroom</th>
                  <th scope="col">GPUs</th>
                  <th scope="col">Marginal tokens/J</th>
                </tr>
              </thead>
              <tbody>
                {ordered.map(({ level, depth }) => (
                  <tr key={level.id} className={level.binds ? "binds" : undefined}>
                    <th scope="row" style={{ paddingLeft: `${0.5 + depth * 1.2}rem` }}>
                      {level.name}
                      {level.binds && <span className="tag">binds</span>}
                    </th>
                    <td>
                      <Bar value={level.drawWatts ?? level.watts} limit={level.limitWatts} />
                    </td>
                    <td>{watts(level.watts)}</td>
                    <td>{watts(level.headroomWatts)}</td>
                    <td>{level.gpuCount}</td>
                    <td>{si(level.marginalTokensPerJoule ?? undefined)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Async>
    </section>
  );
}

/** Levels parent first, children after, with their depth. */
export function depthOrder(levels: PowerLevel[]): { level: PowerLevel; depth: number }[] {
  const children = new Map<string | null, PowerLevel[]>();
  const ids = new Set(levels.map((l) => l.id));
  for (const l of levels) {
    const p = l.parent && ids.has(l.parent) ? l.parent : null;
    children.set(p, [...(children.get(p) ?? []), l]);
  }
  const out: { level: PowerLevel; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const l of children.get(parent) ?? []) {
      out.push({ level: l, depth });
      walk(l.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function Bar({ value, limit }: { value: number | null; limit: number }) {
  const share = value !== null && limit > 0 ? value / limit : undefined;
  return (
    <span className="bar" title={`${watts(value)} of ${watts(limit)}`}>
      <span
        className={`fill${share !== undefined && share > 0.95 ? " bad" : share !== undefined && share > 0.8 ? " warn" : ""}`}
        style={{ width: `${Math.min(100, (share ?? 0) * 100)}%` }}
      />
      <span className="bar-text">
        {watts(value)} / {watts(limit)} ({percent(share, 0)})
      </span>
    </span>
  );
}

function Target() {
  const { api, principal } = useSession();
  const target = usePoll<TargetAnswer>("/v1/power/target", 5000);
  const [percentText, setPercentText] = useState("90");
  const [message, setMessage] = useState<string>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const fraction = Number(percentText) / 100;
    if (!(fraction > 0 && fraction <= 1)) return setMessage("Give a share between 1 and 100 %.");
    api
      .send("PUT", "/v1/power/target", { fraction })
      .then(() => {
        setMessage(`Target set to ${percentText} % of the facility.`);
        target.reload();
      })
      .catch((err: ApiFailure) => setMessage(`Refused: ${err.message}`));
  };
  return (
    <section aria-labelledby="target-h">
      <h2 id="target-h">Facility target</h2>
      <Async data={target.data} error={target.error} what="the target">
        {(t) => (
          <>
            <p>
              Now: <strong>{describeTarget(t.current)}</strong>
            </p>
            {t.schedule && t.schedule.length > 0 && (
              <ul className="schedule" aria-label="Schedule">
                {t.schedule.map((s) => (
                  <li key={JSON.stringify(s)}>{describeTarget(s)}</li>
                ))}
              </ul>
            )}
          </>
        )}
      </Async>
      {isAdmin(principal) && (
        <form className="row" onSubmit={submit} aria-label="Set the facility target">
          <label htmlFor="target-pct">Target, % of the facility limit</label>
          <input
            id="target-pct"
            type="number"
            min={1}
            max={100}
            step={1}
            value={percentText}
            onChange={(e) => setPercentText(e.target.value)}
          />
          <button type="submit" className="primary">
            Set target
          </button>
          {message && <span role="status">{message}</span>}
        </form>
      )}
    </section>
  );
}

/** A target or schedule entry in words, whatever fields it carries. */
export function describeTarget(t: unknown): string {
  if (t === null || t === undefined) return "none";
  if (typeof t === "number") return watts(t);
  if (typeof t !== "object") return String(t);
  const o = t as Record<string, unknown>;
  const parts: string[] = [];
  const w = o.watts ?? o.targetWatts;
  if (typeof w === "number") parts.push(watts(w));
  if (typeof o.fraction === "number") parts.push(`${percent(o.fraction, 0)} of the facility`);
  for (const k of ["source", "reason", "from", "until"])
    if (o[k] !== undefined && o[k] !== null)
      parts.push(`${k} ${typeof o[k] === "number" && k !== "source" ? clock(o[k] as number) : String(o[k])}`);
  const at = o.atMs ?? o.startMs;
  if (typeof at === "number") parts.push(`at ${clock(at)}`);
  return parts.length > 0 ? parts.join(" · ") : JSON.stringify(t);
}

function Actions() {
  const actions = usePoll<Action[] | { actions: Action[] }>("/v1/power/actions", 2000);
  const list = Array.isArray(actions.data) ? actions.data : (actions.data?.actions ?? []);
  return (
    <section aria-labelledby="actions-h">
      <h2 id="actions-h">Safety loop actions</h2>
      <Async data={actions.data} error={actions.error} what="the actions">
        {() =>
          list.length === 0 ? (
            <Empty>No safety action: every level is within its limit.</Empty>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">GPU</th>
                  <th scope="col">Cap</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Level</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {list
                  .map((a, n) => ({ a, key: `${a.atMs}-${a.gpu}-${n}` }))
                  .reverse()
                  .slice(0, 200)
                  .map(({ a, key }) => (
                    <tr key={key}>
                      <td>{clock(a.atMs)}</td>
                      <td>
                        <Link href={`/power/gpu/${encodeURIComponent(a.gpu)}`}>{a.gpu}</Link>
                      </td>
                      <td>
                        {watts(a.fromWatts)} → {watts(a.capWatts)}
                      </td>
                      <td>{a.rule}</td>
                      <td>{a.level}</td>
                      <td>{a.text}</td>
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

interface Explanation {
  gpu: string;
  capWatts: number;
  minWatts: number;
  maxWatts: number;
  binding: string | null;
  marginalTokensPerJoule: number | null;
  profile: string | null;
  job: string | null;
  text: string;
}

function CapExplanation({ gpu }: { gpu: string }) {
  const why = usePoll<Explanation>(`/v1/power/gpus/${encodeURIComponent(gpu)}`, 5000);
  return (
    <section className="panel-inline" aria-labelledby="why-h">
      <h2 id="why-h">Why {gpu} has its cap</h2>
      {why.error?.status === 404 ? (
        <p className="not-yours" role="alert">
          <code>{gpu}</code> does not exist, it is not yours to see, or the power service does not run here.
        </p>
      ) : (
        <Async data={why.data} error={why.error} what="the explanation">
          {(e) => (
            <>
              <p className="lead">{e.text}</p>
              <dl className="facts">
                <dt>Cap</dt>
                <dd>{watts(e.capWatts)}</dd>
                <dt>Range</dt>
                <dd>
                  {watts(e.minWatts)} – {watts(e.maxWatts)}
                </dd>
                <dt>Binding</dt>
                <dd>{e.binding ?? "nothing: the GPU runs at its profile's cap"}</dd>
                <dt>Profile</dt>
                <dd>{e.profile ?? "–"}</dd>
                <dt>Job</dt>
                <dd>{e.job ?? "idle"}</dd>
                <dt>Marginal tokens/J</dt>
                <dd>{si(e.marginalTokensPerJoule ?? undefined)}</dd>
              </dl>
            </>
          )}
        </Async>
      )}
    </section>
  );
}

/** Without the power service: every power level's metered draw against its limit. */
function MeteredOnly() {
  const stranded = usePoll<{ levels: StrandedLevel[] }>("/v1/kpi/stranded", 2000);
  return (
    <section aria-labelledby="metered-h">
      <h2 id="metered-h">Power levels (metered)</h2>
      <p className="muted">
        The power service does not run on this server: budgets, targets and caps are not managed. Below is
        every power level's metered draw against its limit.
      </p>
      {stranded.error && <Failed error={stranded.error} what="the power levels" />}
      {stranded.data && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Level</th>
              <th scope="col">Kind</th>
              <th scope="col">Draw against limit</th>
            </tr>
          </thead>
          <tbody>
            {stranded.data.levels.map((l) => (
              <tr key={l.id}>
                <th scope="row">{l.id.replace(/^power:/, "")}</th>
                <td>{l.type}</td>
                <td>
                  <Bar value={l.drawWatts} limit={l.limitWatts} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
