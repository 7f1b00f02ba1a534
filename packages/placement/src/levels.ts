/**
 * Budget levels in operator words. A level of the budget tree may merge several devices (the A
 * and B sides of a mirrored chain, a rack's PDUs); it is named by its tightest device, which
 * carries the level's whole percentage (N+N: either side alone carries the load), with the place
 * it serves and its side: `floor PDU fpdu-a1 (row hall1/row1, side A)`.
 */
import type { Entity } from "@flightdeck/model";
import type { Topology } from "./topology.ts";
import type { LevelUse } from "./types.ts";

const KIND_LABEL: Readonly<Record<string, string>> = {
  feed: "feed",
  generator: "generator",
  ups: "UPS",
  transformer: "transformer",
  switchboard: "switchboard",
  floorPdu: "floor PDU",
  busway: "busway",
  rpp: "remote power panel",
  rackPdu: "rack PDU",
  powerShelf: "power shelf",
};

/** Names budget levels, computing each name once. */
export function levelNamer(topo: Topology): (budget: number) => string {
  const { graph } = topo.build;
  const budgets = topo.tree.budgets;
  const names: (string | undefined)[] = new Array(budgets.length);
  // The lowest container of a level's nodes is the common ancestor of its first and last node in
  // model order (containers are numbered before their contents, contents contiguously).
  let first: Int32Array | undefined;
  let last: Int32Array | undefined;
  const span = () => {
    first = new Int32Array(budgets.length).fill(-1);
    last = new Int32Array(budgets.length).fill(-1);
    for (let i = 0; i < topo.count; i++)
      for (let k = topo.pathStart[i]!; k < topo.pathStart[i + 1]!; k++) {
        const b = topo.pathItems[k]!;
        const e = topo.entity[i]!;
        if (first[b]! < 0 || e < first[b]!) first[b] = e;
        if (e > last[b]!) last[b] = e;
      }
  };
  const place = (b: number, device: Entity | undefined): string => {
    if (device && device.parent >= 0 && graph.at(device.parent).kind === "rack")
      return `rack ${graph.at(device.parent).name}`;
    if (!first) span();
    const a = first![b]!;
    const z = last![b]!;
    if (a < 0) return "no nodes";
    const above = new Set([a, ...graph.ancestors(a).map((e) => e.index)]);
    let common: Entity | undefined;
    for (let i = z; i >= 0; i = graph.at(i).parent)
      if (above.has(i) && graph.at(i).kind !== "node") {
        common = graph.at(i);
        break;
      }
    if (!common || common.kind === "site") return "whole site";
    return `${common.kind} ${common.name}`;
  };
  return (b) => {
    const cached = names[b];
    if (cached !== undefined) return cached;
    const id = budgets[b]!.devices[0] ?? budgets[b]!.id;
    let name: string;
    if (id === "facility") name = `the facility target (${place(b, undefined)})`;
    else {
      const device = graph.get(id);
      const label = KIND_LABEL[device?.type ?? ""] ?? device?.type ?? "power device";
      const side = device?.side ? `, side ${device.side}` : "";
      name = `${label} ${device?.name ?? id} (${place(b, device)}${side})`;
    }
    names[b] = name;
    return name;
  };
}

/** A level's use as a frozen value. */
export function levelUse(topo: Topology, name: (b: number) => string, b: number, watts: number): LevelUse {
  const limitWatts = topo.limit[b]!;
  return Object.freeze({
    id: topo.tree.budgets[b]!.id,
    name: name(b),
    limitWatts,
    afterPercent: percent(watts, limitWatts),
  });
}

/** Percent to one decimal. */
export function percent(watts: number, limitWatts: number): number {
  if (!(limitWatts > 0)) return watts > 0 ? Number.POSITIVE_INFINITY : 0;
  return Math.round((watts / limitWatts) * 1000) / 10;
}

/** A percentage for a sentence: whole numbers, one decimal where rounding would hide an overload. */
export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return "∞%";
  const whole = Math.round(p);
  return (whole === 100 && p > 100) || (whole > p && whole === 100) ? `${p.toFixed(1)}%` : `${whole}%`;
}
