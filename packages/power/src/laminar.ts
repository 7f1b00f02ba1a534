/**
 * Nested sets from a family of node sets: merges equal sets, checks that every two sets are
 * either disjoint or nested (a laminar family), and returns the tree that nesting defines.
 * Greedy allocation is exact over one laminar family (Federgruen & Groenevelt 1986); over two
 * crossing ones it is a polymatroid intersection and greedy may miss the optimum, so crossing
 * sets are refused here rather than allocated approximately.
 */
import { PowerError } from "./errors.ts";

/** One constraint: `members` (ascending entity indexes) may draw at most `limit` together. */
export interface SetConstraint<T> {
  members: Int32Array;
  limit: number;
  source: T;
}

/** A set of the laminar tree, with every constraint that named it (the tightest first). */
export interface LaminarSet<T> {
  members: Int32Array;
  /** Constraints over exactly these members, by ascending limit. */
  sources: T[];
  limits: number[];
  /** Index of the smallest set strictly containing this one, -1 for a root. */
  parent: number;
}

/**
 * Builds the laminar tree of `constraints` over entities `0 … size-1`. Sets come out largest
 * first, so a parent always precedes its children; `deepest[i]` is the smallest set holding
 * entity i (-1 when none). Throws `budgets-cross` naming two sets that overlap unnested.
 */
export function laminarTree<T>(
  constraints: readonly SetConstraint<T>[],
  size: number,
  name: (source: T) => string,
): { sets: LaminarSet<T>[]; deepest: Int32Array } {
  const sets = mergeEqual(constraints);
  sets.sort((a, b) => b.members.length - a.members.length);
  const deepest = new Int32Array(size).fill(-1);
  sets.forEach((s, k) => {
    // Every member's smallest enclosing set so far must be the same one: that set is the
    // parent. Two different answers mean this set cuts across an earlier (larger or equal) one.
    const parent = deepest[s.members[0]!]!;
    for (const m of s.members) {
      const other = deepest[m]!;
      if (other !== parent) {
        const x = sets[other >= 0 ? other : parent]!;
        throw new PowerError(
          "budgets-cross",
          `power budgets cross: ${name(s.sources[0]!)} (${s.members.length} nodes) and ` +
            `${name(x.sources[0]!)} (${x.members.length} nodes) overlap without one containing the ` +
            "other; nested budgets need the A and B power chains to group nodes the same way",
        );
      }
    }
    s.parent = parent;
    for (const m of s.members) deepest[m] = k;
  });
  return { sets, deepest };
}

/** Groups constraints over identical member sets (hash, then compare). */
function mergeEqual<T>(constraints: readonly SetConstraint<T>[]): LaminarSet<T>[] {
  const byKey = new Map<string, LaminarSet<T>[]>();
  const out: LaminarSet<T>[] = [];
  for (const c of constraints) {
    const key = hashKey(c.members);
    const bucket = byKey.get(key) ?? [];
    if (bucket.length === 0) byKey.set(key, bucket);
    let set = bucket.find((s) => sameMembers(s.members, c.members));
    if (!set) {
      set = { members: c.members, sources: [], limits: [], parent: -1 };
      bucket.push(set);
      out.push(set);
    }
    let at = set.limits.findIndex((l) => l > c.limit);
    if (at < 0) at = set.limits.length;
    set.limits.splice(at, 0, c.limit);
    set.sources.splice(at, 0, c.source);
  }
  return out;
}

function hashKey(members: Int32Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (const m of members) {
    h1 = Math.imul(h1 ^ m, 0x01000193);
    h2 = (Math.imul(h2, 31) + m) | 0;
  }
  return `${members.length}:${h1 >>> 0}:${h2 >>> 0}`;
}

function sameMembers(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
