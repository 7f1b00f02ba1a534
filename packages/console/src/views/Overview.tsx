/**
 * The factory at a glance: tokens per second, tokens per joule, facility power against its limit
 * and target, usable GPU time and open events, each with its recent history (the store's
 * one-minute rollups, then the live stream's points).
 */
import { useEffect, useMemo, useState } from "react";
import { Stat } from "../components/Stat.tsx";
import { useFloor } from "../floor-data.tsx";
import { percent, si, watts } from "../format.ts";
import { useLive, usePoll } from "../hooks.tsx";
import type { StrandedLevel } from "../model/floor.ts";
import { minutePoints, pduPowerPoints, type Rollup, type TotalsPoint } from "../model/kpi.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";

export function Overview() {
  const { principal } = useSession();
  const live = useLive();
  const [since] = useMemo(() => [Date.now() - 3_600_000], []);
  const rollups = usePoll<{ rows: Rollup[] }>(`/v1/kpi/history?by=org&startMs=${since}`, 60_000);
  const stranded = usePoll<{ atMs: number; levels: StrandedLevel[] }>("/v1/kpi/stranded", 2000);
  const events = usePoll<{ events: { timestampMs: number }[] }>("/v1/telemetry/events?limit=10000", 5000);
  const tree = usePoll<{ targetWatts: number | null; peakWatts: number }>("/v1/power/tree", 5000);

  const points = useMemo(() => {
    const minutes = minutePoints(rollups.data?.rows ?? []);
    const first = live.history[0]?.atMs ?? Infinity;
    return [...minutes.filter((p) => p.atMs < first), ...live.history];
  }, [rollups.data, live.history]);
  const now = live.history.at(-1);
  const series = (f: (p: TotalsPoint) => number) => ({
    times: points.map((p) => p.atMs),
    values: points.map(f),
  });

  const feeds = (stranded.data?.levels ?? []).filter((l) => l.type === "feed");
  const facilityDraw = feeds.reduce((s, f) => s + (f.drawWatts ?? 0), 0);
  // The facility's draw is the provider's to see; an org's users see their own GPUs' power.
  const facilityView = principal.org === null && feeds.length > 0;
  const rackRollups = usePoll<{ rows: Rollup[] }>(
    facilityView ? `/v1/kpi/history?by=rack&startMs=${since}` : null,
    60_000,
  );
  const liveDraw = useDrawHistory(stranded.data);
  // Before the view opened: the racks' metered power a minute (the feeds also carry losses above them).
  const drawHistory = useMemo(() => {
    const first = liveDraw[0]?.atMs ?? Infinity;
    return [...pduPowerPoints(rackRollups.data?.rows ?? []).filter((p) => p.atMs < first), ...liveDraw];
  }, [rackRollups.data, liveDraw]);
  // The power service knows the facility's peak (redundant feeds counted once); else the feeds' sum.
  const peak = tree.data?.peakWatts || undefined;
  const feedLimit = peak ?? feeds.reduce((s, f) => s + f.limitWatts, 0);
  const targetWatts = tree.data?.targetWatts ?? undefined;
  const recent = (events.data?.events ?? []).filter((e) => e.timestampMs > Date.now() - 15 * 60_000);
  const share = now?.usableShare;

  return (
    <section>
      <h1>Overview</h1>
      <p className="muted">
        {principal.org ? `Organization ${principal.org}: only its racks count here. ` : "The whole factory. "}
        Live over the last minute, updated every two seconds.
      </p>
      <div className="stats">
        <Stat
          label="Tokens per second"
          value={si(now?.tokensPerSecond)}
          sub="prompt, generated and trained"
          {...series((p) => p.tokensPerSecond)}
        />
        <Stat
          label="Tokens per joule"
          value={si(now?.tokensPerJoule)}
          sub="of GPU energy"
          {...series((p) => p.tokensPerJoule)}
        />
        <Stat
          label={facilityView ? "Facility power" : "GPU power"}
          value={facilityView ? watts(facilityDraw) : watts(now?.powerWatts)}
          sub={
            facilityView ? (
              <>
                {percent(feedLimit > 0 ? facilityDraw / feedLimit : undefined)} of{" "}
                {peak ? `the facility's ${watts(peak)}` : `the feeds' combined ${watts(feedLimit)}`}
                {targetWatts !== undefined ? ` · target ${watts(targetWatts)}` : ""}
                {tree.error?.status === 503 ? " · no power service" : ""}
              </>
            ) : principal.org ? (
              `of ${principal.org}'s racks, over the last minute`
            ) : (
              "of every GPU (no feed meters visible)"
            )
          }
          {...(facilityView
            ? { times: drawHistory.map((p) => p.atMs), values: drawHistory.map((p) => p.watts) }
            : series((p) => p.powerWatts))}
          tone={targetWatts !== undefined && facilityDraw > targetWatts ? "warn" : undefined}
        />
        <Stat
          label="Usable GPU time"
          value={percent(share)}
          sub="healthy and productive share"
          {...series((p) => p.usableShare)}
          tone={share === undefined ? undefined : share < 0.9 ? "bad" : share < 0.98 ? "warn" : "ok"}
        />
        <Stat
          label="Open events"
          value={events.data ? String(recent.length) : "–"}
          sub={<Link href="/events">Xid events, last 15 minutes</Link>}
          tone={recent.length > 0 ? "warn" : "ok"}
        />
      </div>
      <Attention />
    </section>
  );
}

const DRAW_POINTS = 300;

/** The feeds' total draw at each reading of /v1/kpi/stranded since the view opened. */
function useDrawHistory(answer: { atMs: number; levels: StrandedLevel[] } | undefined) {
  const [points, setPoints] = useState<{ atMs: number; watts: number }[]>([]);
  useEffect(() => {
    if (!answer) return;
    const feeds = answer.levels.filter((l) => l.type === "feed");
    if (feeds.length === 0) return;
    const watts = feeds.reduce((s, f) => s + (f.drawWatts ?? 0), 0);
    setPoints((p) => [...p.slice(-(DRAW_POINTS - 1)), { atMs: answer.atMs, watts }]);
  }, [answer]);
  return points;
}

/** The racks closest to their power limit and those making the fewest tokens per joule. */
function Attention() {
  const { racks, values } = useFloor("power");
  const rows = (racks ?? []).map((r) => ({ rack: r, v: values.get(r.id) ?? {} }));
  const tight = rows
    .filter((r) => r.v.headroom !== undefined)
    .sort((a, b) => a.v.headroom! - b.v.headroom!)
    .slice(0, 5);
  const weak = rows
    .filter((r) => r.v.tokensPerWatt !== undefined)
    .sort((a, b) => a.v.tokensPerWatt! - b.v.tokensPerWatt!)
    .slice(0, 5);
  const href = (id: string, by?: string) => `/floor/rack/${encodeURIComponent(id)}${by ? `?by=${by}` : ""}`;
  return (
    <div className="attention">
      <section aria-labelledby="tight-h">
        <h2 id="tight-h">Least power headroom</h2>
        {tight.length === 0 ? (
          <p className="muted">No rack PDU readings yet.</p>
        ) : (
          <ol>
            {tight.map(({ rack, v }) => (
              <li key={rack.id}>
                <Link href={href(rack.id, "headroom")}>{rack.name}</Link> {watts(v.headroom)} free at its
                tightest PDU, drawing {watts(v.power)}
              </li>
            ))}
          </ol>
        )}
      </section>
      <section aria-labelledby="weak-h">
        <h2 id="weak-h">Fewest tokens per joule</h2>
        {weak.length === 0 ? (
          <p className="muted">No rack is reporting tokens yet.</p>
        ) : (
          <ol>
            {weak.map(({ rack, v }) => (
              <li key={rack.id}>
                <Link href={href(rack.id, "tokensPerWatt")}>{rack.name}</Link> {si(v.tokensPerWatt)} tokens/J
                at {si(v.tokensPerSecond)} tokens/s
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
