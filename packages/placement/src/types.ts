/** The placement engine's requests and answers (frozen plain values, safe to serialize). */
import type { WorkloadKind } from "@flightdeck/power";

/**
 * How a job's nodes must sit in the fabric:
 * - `nvl-domain`: whole NVLink domains (an NVL72 rack, or a DGX's eight GPUs), as many as the
 *   GPU count needs, under one leaf switch when they can be;
 * - `same-leaf`: every node under one scale-out leaf switch;
 * - `spread`: nodes over as many racks (and so rack power budgets) as possible;
 * - `any`: no constraint; packed under as few leaf switches and racks as fit.
 */
export type Shape = "nvl-domain" | "same-leaf" | "spread" | "any";

export const SHAPES: readonly Shape[] = ["nvl-domain", "same-leaf", "spread", "any"];

/** A job asking for GPUs now (or from `startMs`). Jobs get whole nodes. */
export interface PlacementRequest {
  readonly id: string;
  readonly org: string;
  /** GPUs wanted; the job gets whole nodes (whole domains for `nvl-domain`) covering them. */
  readonly gpus: number;
  /** Default `any`. */
  readonly shape?: Shape;
  /** `max-p` (default) / `max-q` (variant by kind), a built-in full name, or a custom profile's. */
  readonly profile?: string;
  /** Default `training`. */
  readonly kind?: WorkloadKind;
  /** Higher is more important (default 0); kept with the job for the allocator. */
  readonly priority?: number;
  /** When it starts (default now); with `durationSeconds`, the window checked against reservations. */
  readonly startMs?: number;
  /** Unknown duration: the job holds its nodes until released (overlaps every later reservation). */
  readonly durationSeconds?: number;
  /** Run on this reservation's nodes (the reservation is used up). */
  readonly reservation?: string;
}

/** A future window to hold nodes and power for. */
export interface ReservationRequest {
  readonly id: string;
  readonly org: string;
  readonly gpus: number;
  readonly shape?: Shape;
  readonly profile?: string;
  readonly kind?: WorkloadKind;
  readonly priority?: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** One power budget level and how full it is (or would be). */
export interface LevelUse {
  /** The budget's id in the power budget tree (its devices joined with "+"). */
  readonly id: string;
  /** In operator words: `floor PDU fpdu-a1 (row hall1/row1, side A)`. */
  readonly name: string;
  /** The level's limit in watts (every node under it, GPUs and the rest). */
  readonly limitWatts: number;
  /** Its draw at worst, percent of `limitWatts`, with the decision applied. */
  readonly afterPercent: number;
}

/** The inputs and the rule behind a decision, for the API's explanation. */
export interface Explanation {
  readonly shape: Shape;
  /** Cap per GPU type under the job's profile: `{ "h100-sxm": { profile: "max-p-training", capWatts: 700 } }`. */
  readonly caps: Readonly<Record<string, { profile: string; capWatts: number }>>;
  /** Eligible nodes of the org (right GPU type and count) and how many are free in the window. */
  readonly orgNodes: number;
  readonly freeNodes: number;
  /** Candidate groups (leaf switches, domains, the org) tried and how many could take the job. */
  readonly groupsTried: number;
  readonly groupsFeasible: number;
  /** The rule that chose among feasible candidates, or why none was feasible. */
  readonly rule: string;
  /** The level with the least headroom after the decision (placed) or the one that refused it. */
  readonly binding?: LevelUse;
}

/** A job placed (or a reservation made): its nodes, GPUs and what they add to each level. */
export interface Placed {
  readonly status: "placed" | "reserved";
  readonly id: string;
  readonly org: string;
  /** Node names, in the order chosen. */
  readonly nodes: readonly string[];
  /** GPU ids of those nodes. */
  readonly gpus: readonly string[];
  /** What the job's nodes draw at worst: GPUs at the profile's cap plus the nodes' other parts. */
  readonly powerWatts: number;
  /** What it adds to every level above it (GPUs from their idle floor to the cap). */
  readonly addedWatts: number;
  /** Every level on the nodes' power paths, fullest first. */
  readonly headroom: readonly LevelUse[];
  readonly startMs?: number;
  readonly endMs?: number;
  readonly explanation: Explanation;
}

/** Not placed: `queued` fits in principle but not now; `rejected` never fits. */
export interface Refused {
  readonly status: "queued" | "rejected";
  readonly id: string;
  readonly org: string;
  readonly reason: string;
  /** The power level at fault, when power is the reason. */
  readonly level?: LevelUse;
  readonly explanation: Explanation;
}

export type Decision = Placed | Refused;

/** What a job that already runs is known by. */
export interface JobTraits {
  readonly org: string;
  readonly profile?: string;
  readonly kind?: WorkloadKind;
  readonly priority?: number;
  /** Known end (ms since the epoch); absent: open-ended. */
  readonly endMs?: number;
}

/** A job, reservation or pod that holds nodes, as listed by the engine. */
export interface Holding {
  readonly id: string;
  readonly kind: "job" | "pod" | "reservation";
  /** For a pod: its job (the `flightdeck.dev/job` label); otherwise the id. */
  readonly job: string;
  readonly org: string;
  readonly profile: string;
  readonly priority: number;
  readonly nodes: readonly string[];
  readonly addedWatts: number;
  readonly startMs: number;
  /** Infinity when open-ended. */
  readonly endMs: number;
  /** A pod assumed by `prioritize` and not yet bound lapses at this time. */
  readonly expiresMs?: number;
}
