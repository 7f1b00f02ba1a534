/**
 * Power: the budget tree with draw against limit at every level, the facility target and its
 * schedule (a provider admin can lower or raise it), the safety loop's actions, and why a GPU
 * has its cap (/power/gpu/ID). Without the power service, the metered levels alone.
 */
import { type FormEvent, useEffect, useMemo, useState } from "react";
import type { ApiFailure } from "../api.ts";
import { Async, Empty, Failed } from "../components/State.tsx";
import { clock, percent, si, watts } from "../format.ts";
import { usePoll } from "../hooks.tsx";
import type { StrandedLevel } from "../model/floor.ts";
import {
  type Action,
  depthOrder,
  describeTarget,
  type Explanation,
  groupActions,
  type PowerTree,
  type TargetInput,
  type TargetStatus,
} from "../model/power.ts";
import { Link, segments } from "../router.tsx";
import { isAdmin, useSession } from "../session.tsx";
import { DemandResponse } from "./DemandResponse.tsx";

export function Power({ path }: { path: string }) {
  const [what, id] = segments(path, "/power");
  const tree = usePoll<PowerTree>("/v1/power/tree", 2000);
  // 503: this server runs no power service; 404: an older server without its routes.
  const missing = tree.error?.status === 503 || tree.error?.status === 404;
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
      <p className="muted hint">
        Every level of the power chain: its metered draw against its limit, the GPU budget the allocator gave
        it, the caps it set within that budget, and what is left. A level that binds is what holds its GPUs'
        caps down.
      </p>
      <Async data={tree} error={error} what="the budget tree">
        {(t) => (
          <>
            <p className="muted">
              {t.targetWatts !== null ? `Facility target ${watts(t.targetWatts)} · ` : ""}
              {t.peakWatts > 0 ? `peak ${watts(t.peakWatts)} · ` : ""}decided at {clock(t.atMs)}
            </p>
            <table className="list power-tree">
              <thead>
                <tr>
                  <th scope="col">Level</th>
                  <th scope="col">Draw against limit</th>
                  <th scope="col">GPU budget</th>
                  <th scope="col">Caps</th>
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
                      <Bar value={level.drawWatts} limit={level.limitWatts} />
                    </td>
                    <td>{watts(level.gpuWatts)}</td>
                    <td>{watts(level.allocatedWatts)}</td>
                    <td>{watts(level.headroomWatts)}</td>
                    <td>{level.gpuCount}</td>
                    <td>{si(level.marginalTokensPerJoule)}</td>
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
  const target = usePoll<TargetStatus>(isAdmin(principal) ? "/v1/power/target" : null, 5000);
  const [percentText, setPercentText] = useState("90");
  // The field starts at the operator's target in force, once it is known.
  const operator = target.data?.operator;
  const operatorPercent =
    operator && "fraction" in operator ? String(Math.round(operator.fraction * 100)) : undefined;
  useEffect(() => {
    if (operatorPercent) setPercentText(operatorPercent);
  }, [operatorPercent]);
  const [message, setMessage] = useState<string>();
  if (!isAdmin(principal))
    return (
      <section aria-labelledby="target-h">
        <h2 id="target-h">Facility target</h2>
        <p className="muted">The facility target is site-wide: the provider's administrators set it.</p>
      </section>
    );
  const put = (body: { target: TargetInput | null }, done: string) =>
    api
      .send("PUT", "/v1/power/target", body)
      .then(() => {
        setMessage(done);
        target.reload();
      })
      .catch((err: ApiFailure) => setMessage(`Refused: ${err.message}`));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const fraction = Number(percentText) / 100;
    if (!(fraction > 0 && fraction <= 1)) return setMessage("Give a share between 1 and 100 %.");
    put({ target: { fraction } }, `Target set to ${percentText} % of the facility's peak.`);
  };
  return (
    <section aria-labelledby="target-h">
      <h2 id="target-h">Facility target</h2>
      <Async data={target.data} error={target.error} what="the target">
        {(t) => (
          <>
            <p data-target-watts={t.watts ?? ""} data-peak-watts={t.peakWatts}>
              In force: <strong>{t.watts === undefined ? "none" : watts(t.watts)}</strong>
              {t.source ? ` set by the ${t.source}${t.eventId ? ` (event ${t.eventId})` : ""}` : ""} ·
              facility peak {watts(t.peakWatts)}
              {t.operator ? ` · operator's target ${describeTarget(t.operator)}` : ""}
            </p>
            {t.schedule.length > 0 && (
              <>
                <h3>Schedule</h3>
                <ul className="schedule">
                  {t.schedule.map((s) => (
                    <li key={s.atMs}>
                      from {new Date(s.atMs).toLocaleString()}: {describeTarget(s.target)}
                    </li>
                  ))}
                </ul>
              </>
            )}
            {t.bms && (
              <p className="muted">
                Building management system {t.bms.url}
                {t.bms.loadTargetWatts !== undefined ? `: asks for ${watts(t.bms.loadTargetWatts)}` : ""}
                {t.bms.error ? ` (${t.bms.error})` : ""}
              </p>
            )}
          </>
        )}
      </Async>
      <form className="row" onSubmit={submit} aria-label="Set the facility target">
        <label htmlFor="target-pct">Operator's target, % of the facility's peak</label>
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
        <button type="button" onClick={() => put({ target: null }, "The operator's target is cleared.")}>
          Clear
        </button>
        {message && <span role="status">{message}</span>}
      </form>
      {target.data && <DemandResponse events={target.data.events} onChanged={target.reload} />}
    </section>
  );
}

function Actions() {
  const actions = usePoll<{ actions: Action[] }>("/v1/power/actions?limit=2000", 2000);
  const groups = useMemo(() => groupActions(actions.data?.actions ?? []).slice(0, 60), [actions.data]);
  return (
    <section aria-labelledby="actions-h">
      <h2 id="actions-h">Power log: safety actions, allocations, enforcement</h2>
      <Async data={actions.data} error={actions.error} what="the actions">
        {() =>
          groups.length === 0 ? (
            <Empty>Nothing logged yet: every level is within its limit.</Empty>
          ) : (
            <table className="list actions">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">GPUs</th>
                  <th scope="col">Cap</th>
                  <th scope="col">Rule</th>
                  <th scope="col">What</th>
                </tr>
              </thead>
              <tbody>
                {groups.map(({ key, first: a, gpus }) => (
                  <tr key={key}>
                    <td>{clock(a.atMs)}</td>
                    <td>{a.kind}</td>
                    <td>
                      {gpus.length === 0 ? (
                        "–"
                      ) : (
                        <>
                          <Link href={`/power/gpu/${encodeURIComponent(gpus[0]!)}`}>{gpus[0]}</Link>
                          {gpus.length > 1 && (
                            <span className="muted" title={gpus.join(", ")}>
                              {" "}
                              and {gpus.length - 1} more
                            </span>
                          )}
                        </>
                      )}
                    </td>
                    <td>{a.capWatts !== undefined ? `${watts(a.fromWatts)} → ${watts(a.capWatts)}` : "–"}</td>
                    <td>{a.rule ?? "–"}</td>
                    <td className="wrap">
                      {gpus.length > 1 ? a.text.replace(gpus[0]!, `${gpus.length} GPUs`) : a.text}
                    </td>
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

function CapExplanation({ gpu }: { gpu: string }) {
  const why = usePoll<Explanation>(`/v1/power/gpus/${encodeURIComponent(gpu)}`, 5000);
  return (
    <section className="panel-inline" aria-labelledby="why-h">
      <h2 id="why-h">Why {gpu} has its cap</h2>
      {why.error?.status === 404 ? (
        <p className="not-yours" role="alert">
          <code>{gpu}</code> does not exist, or it is not yours to see.
        </p>
      ) : (
        <Async data={why.data} error={why.error} what="the explanation">
          {(e) => (
            <>
              <p className="lead">{e.text}</p>
              <dl className="facts">
                <dt>Cap</dt>
                <dd data-cap-watts={e.capWatts}>{watts(e.capWatts)}</dd>
                <dt>Allocated</dt>
                <dd>{watts(e.allocatedWatts)}</dd>
                <dt>Range</dt>
                <dd>
                  {watts(e.minWatts)} – {watts(e.maxWatts)}
                </dd>
                <dt>Held by</dt>
                <dd>
                  {e.binding.kind}
                  {e.binding.name ? `: ${e.binding.name}` : e.binding.level ? `: ${e.binding.level}` : ""}
                </dd>
                <dt>Profile</dt>
                <dd>
                  {e.profile ? `${e.profile.name} (${watts(e.profile.capWatts)}; ${e.profile.reason})` : "–"}
                </dd>
                <dt>Job</dt>
                <dd>{e.job ? `${e.job}${e.priority !== null ? `, priority ${e.priority}` : ""}` : "idle"}</dd>
                <dt>Marginal tokens/J</dt>
                <dd>{si(e.marginalTokensPerJoule)}</dd>
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
