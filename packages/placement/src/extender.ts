/**
 * The Kubernetes scheduler-extender verbs over the engine (FACTS.md, "Workload managers": Go
 * field names, no tags). The extender is meant to be configured `nodeCacheCapable`, so nodes
 * travel by name; a full `Nodes` list is answered in kind.
 *
 * - filter: every candidate node is checked for the pod's org (its namespace), GPU count,
 *   profile, holders and reservations, and power along its whole path with the pod's node at its
 *   profile's cap. `FailedAndUnresolvableNodes` holds what no waiting fixes (another org's node,
 *   too few GPUs, no such node); `FailedNodes` what may clear (held, reserved, power).
 * - prioritize: scores 0–10 (kube's MaxExtenderPriority): power headroom after placing the pod,
 *   closeness to the pods of its job already placed (training: same NVLink domain, leaf, rack;
 *   inference: another rack), and distance from upcoming reservations.
 *
 * Commitment. kube-scheduler binds a pod itself unless the extender has a bind verb, and the twin
 * asks only filter and prioritize, so prioritize assumes the pod, as kube-scheduler's own cache
 * does before binding: its best node alone gets 10 (the others at most 9), and that node and its
 * power are held for the pod at once, so the job's next pod is filtered with this one counted.
 * An assumed pod lapses after `assumeTtlMs` unless confirmed by `bind` (when the extender is
 * configured with the bind verb) or by the job being adopted from observation; `release(job)`
 * frees all its pods. A pod asked about again (a retry) first gives up what it assumed.
 */

import type { Caps } from "./caps.ts";
import { type Core, prepare } from "./core.ts";
import { PlacementError } from "./errors.ts";
import { formatPercent, levelUse } from "./levels.ts";
import type { Hold } from "./occupancy.ts";
import { type PodAsk, readPod } from "./pod.ts";
import { refusal } from "./select.ts";
import type { OrgNodes } from "./topology.ts";

/** kube-scheduler's `ExtenderArgs`. */
export interface ExtenderArgs {
  readonly Pod: unknown;
  readonly Nodes?: { readonly items?: readonly { readonly metadata?: { readonly name?: string } }[] } | null;
  readonly NodeNames?: readonly string[] | null;
}

/** kube-scheduler's `ExtenderFilterResult`. */
export interface ExtenderFilterResult {
  readonly Nodes: { items: unknown[] } | null;
  readonly NodeNames: string[] | null;
  readonly FailedNodes: Record<string, string>;
  readonly FailedAndUnresolvableNodes: Record<string, string>;
  readonly Error: string;
}

/** One entry of kube-scheduler's `HostPriorityList`. */
export interface HostPriority {
  readonly Host: string;
  readonly Score: number;
}

/** kube-scheduler's `ExtenderBindingArgs` and `ExtenderBindingResult`. */
export interface ExtenderBindingArgs {
  readonly PodName: string;
  readonly PodNamespace: string;
  readonly PodUID: string;
  readonly Node: string;
}
export interface ExtenderBindingResult {
  readonly Error: string;
}

/** kube's MaxExtenderPriority. */
export const MAX_EXTENDER_PRIORITY = 10;

interface Prepared {
  readonly ask: PodAsk;
  readonly org: OrgNodes;
  readonly caps: Caps;
}

export function extenderHandlers(core: Core) {
  const { topo, occ, scratch: s } = core;

  /** Reads the pod and prepares the scratch for it; a string is the error to answer. */
  const begin = (pod: unknown): Prepared | string | null => {
    const t = core.now();
    occ.expire(t);
    const ask = readPod(pod);
    if (typeof ask === "string") return ask;
    if (ask.gpus === 0) return null;
    const org = topo.orgs.get(ask.namespace);
    if (!org) return `namespace ${ask.namespace} is not an org with racks in this factory`;
    let caps: Caps;
    try {
      caps = core.caps(ask.profile, ask.kind);
    } catch (err) {
      if (err instanceof PlacementError) return `pod ${ask.key}: ${err.message}`;
      throw err;
    }
    const prior = occ.pods.get(ask.key);
    if (prior && prior.expiresMs !== undefined) occ.drop(prior);
    prepare(core, org, caps, { startMs: t, endMs: Number.POSITIVE_INFINITY });
    return { ask, org, caps };
  };

  /** Why a node cannot take the pod: [reason, unresolvable], or null when it can. */
  const check = (p: Prepared, n: number | undefined, name: string): [string, boolean] | null => {
    if (n === undefined) return [`${name} is not a GPU node of this factory`, true];
    const owner = topo.org[n];
    if (owner !== p.ask.namespace)
      return [
        owner ? `in org ${owner}'s racks, not ${p.ask.namespace}'s` : `not in org ${p.ask.namespace}'s racks`,
        true,
      ];
    if (topo.gpuCount[n]! < p.ask.gpus)
      return [`has ${topo.gpuCount[n]} GPUs; the pod asks for ${p.ask.gpus}`, true];
    if (Number.isNaN(p.caps.capWatts[topo.gpuType[n]!]!))
      return [`profile ${p.ask.profile} has no variant for ${topo.gpuTypes[topo.gpuType[n]!]}`, true];
    if (s.blocked[n]) {
      const h = occ.holder[n];
      if (h) return heldReason(h);
      for (const r of occ.reservations.values())
        if (r.nodes.includes(n))
          return [`reserved for ${r.id} from ${new Date(r.startMs).toISOString()}`, false];
      return ["not available", false];
    }
    const b = refusal(s, n);
    if (b >= 0) {
      const level = levelUse(topo, core.levelName, b, s.base[b]! + s.add[n]!);
      return [`${level.name} would reach ${formatPercent(level.afterPercent)} of its budget`, false];
    }
    return null;
  };

  // One reason per holder: a filter over thousands of held nodes builds each string once.
  const held = new WeakMap<Hold, [string, boolean]>();
  const heldReason = (h: Hold): [string, boolean] => {
    let r = held.get(h);
    if (!r) {
      r = [`held by ${h.kind === "pod" ? `pod ${h.id} of job ${h.job}` : `job ${h.job}`}`, false];
      held.set(h, r);
    }
    return r;
  };

  const namesOf = (args: ExtenderArgs): string[] =>
    args.NodeNames ? [...args.NodeNames] : (args.Nodes?.items ?? []).map((i) => i.metadata?.name ?? "");

  const filter = (args: ExtenderArgs): ExtenderFilterResult => {
    const names = namesOf(args);
    const p = begin(args.Pod);
    const failed: Record<string, string> = {};
    const unresolvable: Record<string, string> = {};
    const passed: string[] = [];
    if (typeof p === "string") return answer(args, null, failed, unresolvable, p);
    for (const name of names) {
      const why = p === null ? null : check(p, topo.byName.get(name), name);
      if (!why) passed.push(name);
      else if (why[1]) unresolvable[name] = why[0];
      else failed[name] = why[0];
    }
    return answer(args, passed, failed, unresolvable, "");
  };

  const prioritize = (args: ExtenderArgs): HostPriority[] => {
    const names = namesOf(args);
    const p = begin(args.Pod);
    if (p === null || typeof p === "string") return names.map((Host) => ({ Host, Score: 0 }));
    const near = siblings(p.ask);
    const raw = new Float64Array(names.length).fill(Number.NaN);
    let best = -1;
    let lo = Number.POSITIVE_INFINITY;
    names.forEach((name, k) => {
      const n = topo.byName.get(name);
      if (n === undefined || check(p, n, name)) return;
      raw[k] = 0.5 * headroom(n) + 0.4 * affinity(p.ask, n, near) - 0.3 * s.steer[n]!;
      if (best < 0 || raw[k]! > raw[best]! + 1e-12) best = k;
      lo = Math.min(lo, raw[k]!);
    });
    if (best < 0) return names.map((Host) => ({ Host, Score: 0 }));
    const hi = raw[best]!;
    const scores = names.map((Host, k) => {
      const r = raw[k]!;
      if (k === best) return { Host, Score: MAX_EXTENDER_PRIORITY };
      if (Number.isNaN(r)) return { Host, Score: 0 };
      const x = hi > lo ? (r - lo) / (hi - lo) : 1;
      return {
        Host,
        Score: Math.min(MAX_EXTENDER_PRIORITY - 1, Math.floor(x * (MAX_EXTENDER_PRIORITY - 1))),
      };
    });
    assume(p, topo.byName.get(names[best]!)!);
    return scores;
  };

  /** Free fraction of the tightest level above `n` with it placed. */
  const headroom = (n: number): number => {
    let least = 1;
    for (let k = topo.pathStart[n]!; k < topo.pathStart[n + 1]!; k++) {
      const b = topo.pathItems[k]!;
      const limit = topo.limit[b]!;
      if (limit > 0) least = Math.min(least, (s.ceiling[b]! - s.base[b]! - s.add[n]!) / limit);
    }
    return least;
  };

  /** Racks, domains and leaf groups of the nodes the pod's job already holds. */
  const siblings = (ask: PodAsk) => {
    const near = { rack: new Set<number>(), domain: new Set<number>(), leaf: new Set<number>(), any: false };
    const add = (nodes: Int32Array) => {
      for (const n of nodes) {
        near.rack.add(topo.rack[n]!);
        near.domain.add(topo.domain[n]!);
        near.leaf.add(topo.leaf[n]!);
        near.any = true;
      }
    };
    for (const h of occ.pods.values()) if (h.job === ask.job && h.org === ask.namespace) add(h.nodes);
    const job = occ.jobs.get(ask.job);
    if (job && job.org === ask.namespace) add(job.nodes);
    return near;
  };

  const affinity = (ask: PodAsk, n: number, near: ReturnType<typeof siblings>): number => {
    if (!near.any) return occ.rackBusy[topo.rack[n]!]! > 0 ? 0.5 : 0;
    if (ask.kind === "inference") return near.rack.has(topo.rack[n]!) ? 0 : 1;
    if (near.domain.has(topo.domain[n]!)) return 1;
    if (near.leaf.has(topo.leaf[n]!)) return 0.7;
    return near.rack.has(topo.rack[n]!) ? 0.5 : 0;
  };

  const assume = (p: Prepared, n: number): void => {
    const t = core.now();
    occ.hold({
      id: p.ask.key,
      kind: "pod",
      job: p.ask.job,
      org: p.ask.namespace,
      profile: p.ask.profile,
      priority: p.ask.priority,
      nodes: Int32Array.of(n),
      add: Float64Array.of(s.add[n]!),
      startMs: t,
      endMs: Number.POSITIVE_INFINITY,
      expiresMs: t + core.assumeTtlMs,
    });
  };

  const bind = (args: ExtenderBindingArgs): ExtenderBindingResult => {
    occ.expire(core.now());
    const key = `${args?.PodNamespace || "default"}/${args?.PodName}`;
    const n = topo.byName.get(args?.Node);
    if (typeof args?.PodName !== "string" || n === undefined)
      return { Error: `bind ${key} to ${args?.Node}: no such pod name or GPU node` };
    const pod = occ.pods.get(key);
    if (pod && pod.nodes[0] === n) {
      pod.expiresMs = undefined;
      return { Error: "" };
    }
    const holder = occ.holder[n];
    if (holder && holder !== pod)
      return { Error: `bind ${key} to ${args.Node}: the node is held by ${holder.kind} ${holder.id}` };
    // Bound where it was not assumed: hold the node for it at its assumed profile (else MAX-P).
    const profile = pod?.profile ?? "max-p";
    const cap = core.caps(profile, "training").capWatts[topo.gpuType[n]!]!;
    if (pod) occ.drop(pod);
    const t = core.now();
    occ.hold({
      id: key,
      kind: "pod",
      job: pod?.job ?? args.PodName,
      org: args.PodNamespace || "default",
      profile,
      priority: pod?.priority ?? 0,
      nodes: Int32Array.of(n),
      add: Float64Array.of(
        topo.gpuCount[n]! * ((Number.isNaN(cap) ? topo.maxCap[n]! : cap) - topo.minCap[n]!),
      ),
      startMs: t,
      endMs: Number.POSITIVE_INFINITY,
    });
    return { Error: "" };
  };

  return { filter, prioritize, bind };
}

function answer(
  args: ExtenderArgs,
  passed: string[] | null,
  failed: Record<string, string>,
  unresolvable: Record<string, string>,
  error: string,
): ExtenderFilterResult {
  if (args.NodeNames || !args.Nodes)
    return {
      Nodes: null,
      NodeNames: passed,
      FailedNodes: failed,
      FailedAndUnresolvableNodes: unresolvable,
      Error: error,
    };
  const keep = new Set(passed ?? []);
  const items = (args.Nodes.items ?? []).filter((i) => keep.has(i.metadata?.name ?? ""));
  return {
    Nodes: { items },
    NodeNames: null,
    FailedNodes: failed,
    FailedAndUnresolvableNodes: unresolvable,
    Error: error,
  };
}
