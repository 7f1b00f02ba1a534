/** The power service's answers as the console reads them, and how it orders and groups them. */
import { percent, watts } from "../format.ts";

export interface PowerLevel {
  id: string;
  name: string;
  parent: string | null;
  limitWatts: number;
  /** The GPU budget the allocator gave the level, and what its GPUs' caps add up to. */
  gpuWatts: number;
  allocatedWatts: number;
  drawWatts: number | null;
  headroomWatts: number | null;
  utilization: number | null;
  binds: boolean;
  marginalTokensPerJoule: number;
  gpuCount: number;
  band: string | null;
}

export interface PowerTree {
  atMs: number;
  targetWatts: number | null;
  peakWatts: number;
  levels: PowerLevel[];
}

export interface Action {
  atMs: number;
  kind: "safety" | "allocation" | "enforcement";
  text: string;
  gpu?: string;
  fromWatts?: number;
  capWatts?: number;
  rule?: string;
  level?: string;
}

export type TargetInput = { watts: number } | { fraction: number };

export interface TargetStatus {
  watts?: number;
  source: string | null;
  eventId?: string;
  peakWatts: number;
  operator: TargetInput | null;
  schedule: { atMs: number; target: TargetInput }[];
  events: { id: string; startMs: number; endMs: number; target: TargetInput; reason: string }[];
  bms: { url: string; loadTargetWatts?: number; facilityPowerWatts?: number; error?: string } | null;
}

export interface Explanation {
  gpu: string;
  capWatts: number;
  allocatedWatts: number;
  minWatts: number;
  maxWatts: number;
  job: string | null;
  priority: number | null;
  profile: { name: string; capWatts: number; source: string; reason: string } | null;
  binding: { kind: string; level?: string; name?: string };
  marginalTokensPerJoule: number;
  text: string;
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

/** A target as operators give it, in words. */
export function describeTarget(t: TargetInput | null): string {
  if (t === null) return "none";
  return "watts" in t ? watts(t.watts) : `${percent(t.fraction, 0)} of peak`;
}

/** Entries of one decision that did the same to many GPUs, shown as one line. */
export interface ActionGroup {
  key: string;
  first: Action;
  gpus: string[];
}

/** Groups consecutive entries with the same time, kind, rule, level and caps; newest group first. */
export function groupActions(list: Action[]): ActionGroup[] {
  const groups: ActionGroup[] = [];
  for (const a of list) {
    const sig = `${a.atMs}|${a.kind}|${a.rule ?? ""}|${a.level ?? ""}|${a.fromWatts ?? ""}|${a.capWatts ?? ""}`;
    const last = groups.at(-1);
    if (last?.key.startsWith(`${sig}#`) && a.gpu) last.gpus.push(a.gpu);
    else groups.push({ key: `${sig}#${groups.length}`, first: a, gpus: a.gpu ? [a.gpu] : [] });
  }
  return groups.reverse();
}
