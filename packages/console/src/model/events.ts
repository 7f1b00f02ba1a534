/** The events view's rows: kernel Xid lines and the power service's safety and enforcement entries, as one list. */
import { type Action, groupActions } from "./power.ts";

/** An Xid or SXid event as /v1/telemetry/events gives it. */
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

export type EventSource = "xid" | "power";

export interface EventRow {
  key: string;
  atMs: number;
  source: EventSource;
  /** `Xid 79`, `SXid 12`, `safety`, `enforcement`. */
  code: string;
  /** The GPU to link to, and how many more the entry is about. */
  gpu?: string;
  more: number;
  /** Where, when there is no GPU: a host or an NVSwitch. */
  where: string;
  what: string;
  action: string;
  severe: boolean;
}

/** Both kinds of events, newest first. Allocations are routine and left out. */
export function eventRows(xids: XidEvent[], power: Action[]): EventRow[] {
  const rows: EventRow[] = xids.map((e, n) => ({
    key: `x${n}`,
    atMs: e.timestampMs,
    source: "xid",
    code: `${e.kind === "sxid" ? "SXid" : "Xid"} ${e.xid}`,
    ...(e.gpuId ? { gpu: e.gpuId } : {}),
    more: 0,
    where: e.nvswitchId ?? e.hostname,
    what: e.catalog?.meaning ?? e.message,
    action: e.catalog?.action ?? "",
    severe: e.severity <= 3,
  }));
  const groups = groupActions(power.filter((a) => a.kind !== "allocation"));
  for (const [n, g] of groups.entries()) {
    const a = g.first;
    const [gpu, ...rest] = g.gpus;
    rows.push({
      key: `p${n}`,
      atMs: a.atMs,
      source: "power",
      code: a.kind,
      ...(gpu ? { gpu } : {}),
      more: rest.length,
      where: a.level ?? "",
      what: gpu && rest.length > 0 ? a.text.replace(gpu, `${g.gpus.length} GPUs`) : a.text,
      action: a.rule ?? "",
      severe: a.kind === "enforcement",
    });
  }
  return rows.sort((x, y) => y.atMs - x.atMs);
}

/** Rows matching a source (or all), a code (or all) and a text, case-insensitive. */
export function filterRows(rows: EventRow[], source: string, code: string, text: string): EventRow[] {
  const t = text.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (source === "" || r.source === source) &&
      (code === "" || r.code === code) &&
      (t === "" || `${r.code} ${r.gpu ?? ""} ${r.where} ${r.what} ${r.action}`.toLowerCase().includes(t)),
  );
}

/** Xid events per rack since `sinceMs`, from each event's GPU (`gpu:NODE/N` → node → rack). */
export function xidsByRack(
  events: XidEvent[],
  rackOfNode: Map<string, string>,
  sinceMs: number,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    if (e.timestampMs < sinceMs || !e.gpuId) continue;
    const m = /^gpu:(.+)\/\d+$/.exec(e.gpuId);
    const rack = m ? rackOfNode.get(`node:${m[1]}`) : undefined;
    if (rack) out.set(rack, (out.get(rack) ?? 0) + 1);
  }
  return out;
}
