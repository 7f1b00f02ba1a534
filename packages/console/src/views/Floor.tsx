/**
 * The floor: halls → rows → racks as a plan, each rack colored by the chosen measure; a rack
 * opens its nodes and GPUs (/floor/rack/ID), a GPU link opens its rack with the GPU marked
 * (/floor/gpu/ID). The measure is in the URL (?by=), so a link shows what its sender saw.
 */
import { type KeyboardEvent, type MouseEvent, memo, useEffect, useMemo, useState } from "react";
import { Empty, Failed, Loading } from "../components/State.tsx";
import { useFloor, useRackXids } from "../floor-data.tsx";
import { si } from "../format.ts";
import { MEASURES, type Measure, type MeasureId, measureColor, orgColor, textOn } from "../measures.ts";
import type { Entity, RackValues } from "../model/floor.ts";
import { navigate, segments, useLocation } from "../router.tsx";
import { RackPanel } from "./RackPanel.tsx";

export function Floor({ path }: { path: string }) {
  const { query } = useLocation();
  const measure = MEASURES.find((m) => m.id === query.get("by")) ?? MEASURES[0]!;
  const [what, id] = segments(path, "/floor");
  const { layout, racks, values, error } = useFloor(measure.id);
  const shown = useFirstReadings(layout !== undefined, values.size > 0);
  const xids = useRackXids();
  const orgs = useMemo(
    () => [...new Set((racks ?? []).map((r) => r.org).filter((o): o is string => o !== null))].sort(),
    [racks],
  );
  const span = useMemo(() => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of values.values()) {
      const x = measureOf(v, measure.id);
      if (x === undefined) continue;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    return { min, max };
  }, [values, measure.id]);
  const suffix = measure.id === "power" ? "" : `?by=${measure.id}`;
  const rackId = what === "rack" && id ? (id.includes(":") ? id : `rack:${id}`) : undefined;
  const gpuId = what === "gpu" && id ? id : undefined;

  return (
    <div className="floor-view">
      <div className="floor-head">
        <h1>Floor</h1>
        <fieldset className="measures">
          <legend>Color by</legend>
          {MEASURES.map((m) => (
            <label key={m.id}>
              <input
                type="radio"
                name="measure"
                value={m.id}
                checked={m.id === measure.id}
                onChange={() => {
                  const q = m.id === "power" ? "" : `?by=${m.id}`;
                  navigate(`${path}${q}`, true);
                }}
              />
              {m.label}
            </label>
          ))}
        </fieldset>
        <FloorLegend measure={measure} min={span.min} max={span.max} orgs={orgs} />
      </div>
      <p className="muted hint">
        Each tile is a rack, in its row and hall. Power and headroom come from the rack PDUs' meters
        (headroom: the tightest PDU's), temperature is the rack's hottest GPU, tokens per watt is tokens per
        joule over the last minute. Open a rack for its GPUs; arrow keys move between racks.
      </p>
      <div className={`floor-body${rackId || gpuId ? " with-panel" : ""}`}>
        <div className="floor-main">
          {error && !layout && <Failed error={error} what="the floor" />}
          {!error && !shown && <Loading what="the floor" />}
          {layout && layout.rackCount === 0 && <Empty>No racks you may see on this factory.</Empty>}
          {layout && shown && (
            // One click handler for every tile: a thousand racks need not carry a thousand handlers.
            // biome-ignore lint/a11y/noStaticElementInteractions: the tiles are links; this only delegates their clicks and arrow keys
            <div className="plan" onClick={openTile} onKeyDown={moveFocus}>
              {layout.halls.map((hall) => (
                <section key={hall.id} className="hall" aria-label={`Hall ${hall.name}`}>
                  <h2>{hall.name}</h2>
                  {hall.rows.map((row) => (
                    <div key={row.id} className="floor-row">
                      <span className="row-name">{row.name}</span>
                      <ul className="racks" aria-label={`Row ${row.name}`}>
                        {row.racks.map((rack, i) => (
                          <RackTile
                            key={rack.id}
                            rack={rack}
                            short={row.labels[i] ?? rack.name}
                            xids={xids.get(rack.id) ?? 0}
                            selected={rack.id === rackId}
                            color={
                              measure.id === "org"
                                ? orgColor(rack.org, orgs)
                                : measureColor(
                                    measureOf(values.get(rack.id), measure.id),
                                    span.min,
                                    span.max,
                                    measure.highIsHot,
                                  )
                            }
                            text={
                              measure.id === "org"
                                ? (rack.org ?? "shared")
                                : tileText(measureOf(values.get(rack.id), measure.id), measure)
                            }
                            href={`/floor/rack/${encodeURIComponent(rack.id)}${suffix}`}
                            label={`${measure.label}: ${measure.id === "org" ? (rack.org ?? "shared") : si(measureOf(values.get(rack.id), measure.id), measure.unit)}`}
                          />
                        ))}
                      </ul>
                    </div>
                  ))}
                </section>
              ))}
            </div>
          )}
        </div>
        {(rackId || gpuId) && (
          <RackPanel
            key={rackId ?? gpuId}
            {...(rackId ? { rackId } : {})}
            {...(gpuId ? { gpuId } : {})}
            closeHref={`/floor${suffix}`}
            values={rackId ? values.get(rackId) : undefined}
          />
        )}
      </div>
    </div>
  );
}

/** How long the floor waits for its first readings before it shows racks without them. */
const FIRST_READINGS_MS = 1500;

/**
 * Whether to draw the floor: once its layout and first readings are in, or the layout and
 * FIRST_READINGS_MS have passed. A thousand tiles are drawn once, colored, not twice.
 */
function useFirstReadings(haveLayout: boolean, haveReadings: boolean): boolean {
  const [waited, setWaited] = useState(false);
  useEffect(() => {
    if (!haveLayout || haveReadings) return;
    const timer = setTimeout(() => setWaited(true), FIRST_READINGS_MS);
    return () => clearTimeout(timer);
  }, [haveLayout, haveReadings]);
  return haveLayout && (haveReadings || waited);
}

/** Opens a rack tile's link in place on a plain click. */
function openTile(e: MouseEvent<HTMLDivElement>): void {
  const a = (e.target as HTMLElement).closest("a.rack");
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href") ?? "/floor");
}

/**
 * Arrow keys move between racks: left and right along a row, up and down to the rack at the same
 * place in the row above or below (Home and End: the row's ends).
 */
function moveFocus(e: KeyboardEvent<HTMLDivElement>): void {
  const here = (e.target as HTMLElement).closest("a.rack");
  if (!here) return;
  const rowOf = (a: Element) => [...(a.closest("ul.racks")?.querySelectorAll("a.rack") ?? [])];
  const rows = [...e.currentTarget.querySelectorAll("ul.racks")];
  const row = rowOf(here);
  const at = row.indexOf(here);
  const r = rows.indexOf(here.closest("ul.racks")!);
  const other = (dr: number) => {
    const list = rows[r + dr] ? [...rows[r + dr]!.querySelectorAll("a.rack")] : [];
    return list[Math.min(at, list.length - 1)];
  };
  const next: Record<string, Element | undefined> = {
    ArrowRight: row[at + 1],
    ArrowLeft: row[at - 1],
    ArrowDown: other(1),
    ArrowUp: other(-1),
    Home: row[0],
    End: row.at(-1),
  };
  const to = next[e.key];
  if (!(to instanceof HTMLElement)) return;
  e.preventDefault();
  to.focus();
}

/** A rack tile's value, short: watts with their prefix, degrees whole, ratios as they are. */
function tileText(v: number | undefined, m: Measure): string {
  if (m.unit === "W") return si(v, "W");
  if (m.unit === "°C") return v === undefined ? "–" : `${Math.round(v)} °C`;
  return si(v);
}

export function measureOf(v: RackValues | undefined, m: MeasureId): number | undefined {
  if (!v || m === "org") return undefined;
  return v[m];
}

const RackTile = memo(function RackTile(props: {
  rack: Entity;
  /** The name on the tile: without what the row's racks share. */
  short: string;
  /** Xid events in the rack lately (0: none). */
  xids: number;
  selected: boolean;
  color: string;
  text: string;
  href: string;
  label: string;
}) {
  return (
    <li>
      <a
        href={props.href}
        className={`rack${props.selected ? " selected" : ""}`}
        style={{ background: props.color, color: textOn(props.color) }}
        aria-label={`Rack ${props.rack.name}${props.rack.org ? ` (${props.rack.org})` : ""}, ${props.label}${
          props.xids > 0 ? `, ${props.xids} Xid event${props.xids > 1 ? "s" : ""} in the last 15 minutes` : ""
        }`}
        aria-current={props.selected ? "true" : undefined}
        data-rack={props.rack.id}
      >
        <span className="rack-name">
          {props.short}
          {props.xids > 0 && (
            <span className="xid-mark" aria-hidden="true" title={`${props.xids} Xid events lately`}>
              !
            </span>
          )}
        </span>
        <span className="rack-value">{props.text}</span>
      </a>
    </li>
  );
});

function FloorLegend({
  measure,
  min,
  max,
  orgs,
}: {
  measure: Measure;
  min: number;
  max: number;
  orgs: string[];
}) {
  if (measure.id === "org")
    return (
      <ul className="legend" aria-label="Legend">
        {orgs.map((o) => (
          <li key={o}>
            <span className="swatch" style={{ background: orgColor(o, orgs) }} />
            {o}
          </li>
        ))}
        <li>
          <span className="swatch" style={{ background: orgColor(null, orgs) }} />
          shared
        </li>
      </ul>
    );
  if (!Number.isFinite(min)) return <p className="legend muted">No readings yet</p>;
  return (
    <div className="legend">
      <span>{si(measure.highIsHot ? min : max, measure.unit)}</span>
      <span className="ramp" aria-hidden="true" />
      <span>{si(measure.highIsHot ? max : min, measure.unit)}</span>
      <span className="muted">{measure.highIsHot ? "high is hot" : "low is hot"}</span>
    </div>
  );
}
