/**
 * The incremental allocator: keeps an optimal allocation and restores optimality after one
 * job's change (its weight, curve or priority, a new job, a job gone) by exchanging steps
 * between jobs, instead of solving the whole site again.
 *
 * Why exchanges are exact. The objective is separable concave over the integer points of a
 * laminar polymatroid, an M♮-concave function; for those a point is a global maximum as soon
 * as no single move improves it: one step more for a job, one step less, or one step moved
 * from one job to another (Murota, "Discrete Convex Analysis", SIAM 2003, Theorem 6.26).
 * Steps less never help (curves are nondecreasing). One step more for job k fits when every
 * budget on k's path has a step of room; a step from job i to job k fits when every budget on
 * k's path that does not hold i has one. So an optimum stays optimal until a change, and after
 * a change to job j only moves that involve j can improve: j takes steps from the cheapest
 * job under the deepest full budget on its path while its gain beats that job's loss, and j
 * gives steps to the best job it can reach while that job's gain beats j's loss. A job that
 * appears first pays its floor (taking steps from the cheapest jobs under any budget it
 * overfills); a job that leaves first gives away what others want, then frees the rest.
 *
 * Finding those jobs. Every budget keeps two tournaments (binary trees of winners) over its
 * children and the jobs attached directly to it: the largest next-step gain that can reach
 * it (a child counts only when it has a step of room) and the smallest last-step loss. A
 * step updates one job's entry and the winners up its path: O(depth · log fan-out).
 *
 * Jobs across budgets. A job whose GPUs sit under several budgets is attached where all of
 * them meet; the budgets holding part of it are left out of the exchanges, which solves the
 * problem without them. When its optimum respects those budgets too, it is the optimum of
 * the whole problem (a relaxation's optimum that is feasible); when it does not, or a change
 * would make a new budget partial, the whole site is solved again by `allocate`.
 */
import {
  type AllocateOptions,
  type Allocation,
  type AllocationInput,
  type BudgetUse,
  type GpuSlot,
  type Job,
  type JobAllocation,
  solve,
} from "./allocate.ts";
import type { ThroughputCurve } from "./curves.ts";
import { PowerError } from "./errors.ts";
import { EPS } from "./prepare.ts";

const WORST_GAIN = Number.NEGATIVE_INFINITY;
const EXCHANGE_STEPS_PER_JOB = 16;
/** Thrown inside a change that has moved more steps than solving the whole site costs. */
const TOO_MANY_STEPS = Symbol("too many exchange steps");
/** A loss of nothing (a flat step) is the cheapest in every class. */
const FREE_LOSS = Number.NEGATIVE_INFINITY;
/** A job at its floor has no step to give. */
const NO_LOSS = Number.POSITIVE_INFINITY;

/**
 * Winners over a fixed number of leaves, keyed by (priority, value): the largest (`max`) or
 * smallest key, ties to the lower leaf. Priorities compare first, so every positive gain of a
 * higher class beats any of a lower one, the lexicographic order the allocator maximizes.
 */
class Tournament {
  readonly size: number;
  readonly pri: Float64Array;
  readonly val: Float64Array;
  /** win[i] is the winning leaf below tree node i (leaves at size … 2·size). */
  readonly win: Int32Array;

  constructor(
    capacity: number,
    readonly max: boolean,
  ) {
    let size = 1;
    while (size < capacity) size <<= 1;
    this.size = size;
    this.pri = new Float64Array(size).fill(max ? WORST_GAIN : NO_LOSS);
    this.val = new Float64Array(size);
    this.win = new Int32Array(2 * size);
    for (let i = 0; i < size; i++) this.win[size + i] = i;
    for (let i = size - 1; i >= 1; i--) this.win[i] = this.win[2 * i]!;
  }

  get top(): number {
    return this.win[1]!;
  }

  set(leaf: number, p: number, v: number): void {
    const { pri, val, win } = this;
    if (pri[leaf] === p && val[leaf] === v) return;
    pri[leaf] = p;
    val[leaf] = v;
    const max = this.max;
    for (let i = (leaf + this.size) >> 1; i >= 1; i >>= 1) {
      const a = win[2 * i]!;
      const b = win[2 * i + 1]!;
      const pa = pri[a]!;
      const pb = pri[b]!;
      const aWins = max
        ? pa > pb || (pa === pb && val[a]! >= val[b]!)
        : pa < pb || (pa === pb && val[a]! <= val[b]!);
      const w = aWins ? a : b;
      // Above a match that this leaf neither won nor wins, nothing changes.
      if (w !== leaf && win[i] !== leaf) break;
      win[i] = w;
    }
  }

  /** A copy with room for `capacity` leaves. */
  grown(capacity: number): Tournament {
    const t = new Tournament(capacity, this.max);
    for (let leaf = 0; leaf < this.size; leaf++) t.set(leaf, this.pri[leaf]!, this.val[leaf]!);
    return t;
  }
}

/** One budget's place in the exchange structure (the last node stands above every root). */
interface Node {
  parent: number;
  /** This node's leaf in its parent's tournaments. */
  leaf: number;
  children: number[];
  gain: Tournament;
  loss: Tournament;
  /** Job of each leaf past the children, -1 when free. */
  jobAt: number[];
  freeLeaves: number[];
}

/** What one change did. */
export interface AllocationChange {
  /** Jobs whose caps moved, with their new allocation. */
  readonly jobs: readonly JobAllocation[];
  /** GPUs whose cap moved (indexes into the input's `gpus`). */
  readonly gpus: readonly number[];
  /** Steps moved between jobs (0 when the site was solved again). */
  readonly steps: number;
  /** The whole site was solved again (a split job made a budget partial, or breaks one). */
  readonly resolved: boolean;
  readonly exact: boolean;
}

/** A job as the exchange needs it. */
interface Slot {
  job: Job;
  gpus: Int32Array;
  weight: number;
  curve: ThroughputCurve;
  priority: number;
  floorWatts: number;
  maxWatts: number;
  limit: number;
  /** Budgets above any of its GPUs with the share of its GPUs under each. */
  path: Int32Array;
  share: Float64Array;
  attach: number;
  leaf: number;
  y: number;
  /** f(y), f(y + 1) and f(y - 1), kept with y. */
  f: number;
  up: number;
  down: number;
  excluded: boolean;
}

export class IncrementalAllocator {
  private readonly gpus: GpuSlot[];
  private readonly budgets: AllocationInput["budgets"];
  private readonly step: number;
  private readonly gpuIndex: ReadonlyMap<string, number>;
  private readonly options: AllocateOptions;
  private slots: Slot[] = [];
  private byId = new Map<string, number>();
  private jobOfGpu!: Int32Array;
  private capWatts!: Float64Array;
  /** Room of each budget in steps above every floor, and the steps its jobs use. */
  private room!: Float64Array;
  private used!: Float64Array;
  private baseWatts!: Float64Array;
  private partial!: Uint8Array;
  private depth!: Int32Array;
  private nodes: Node[] = [];
  private exact = true;
  /** Jobs a change moved, with their steps before it (-1: new). */
  private moved = new Map<number, number>();
  /**
   * Jobs whose GPUs' caps are not yet written into `capWatts`, in the order they first moved,
   * each with the cap its last change reported (NaN: gone, its GPUs at their minimum). Written
   * as reported, not as the job stands: a change that falls back to a whole solve diffs
   * against what was last reported, not against its own abandoned exchanges.
   */
  private dirty = new Map<number, number>();
  private stepsMoved = 0;
  private snapshot: Allocation | null = null;

  constructor(input: AllocationInput, options: AllocateOptions = {}) {
    this.gpus = [...input.gpus];
    this.budgets = input.budgets;
    this.step = input.stepWatts ?? 1;
    this.options = options;
    this.gpuIndex = input.gpuIndex ?? new Map(this.gpus.map((g, i) => [g.id, i]));
    this.solveAll(input.jobs);
  }

  /** The current allocation, in the shape `allocate` returns (jobs in the order they came). */
  allocation(): Allocation {
    this.snapshot ??= this.freeze();
    return this.snapshot;
  }

  /** A job's new weight, curve or priority (same GPUs); its id must be allocated. */
  update(job: Job): AllocationChange {
    const j = this.slotOf(job.id);
    const s = this.slots[j]!;
    checkJob(job, this.gpuIndex);
    if (!sameGpus(s, job, this.gpuIndex))
      throw new PowerError("bad-job", `job ${job.id}: an update keeps the job's GPUs (remove and add it)`);
    const old = s.job;
    const after = () => this.jobsNow().map((x) => (x.id === job.id ? job : x));
    const before = () => this.jobsNow().map((x) => (x.id === job.id ? old : x));
    return this.change(after, before, () => {
      s.job = job;
      s.weight = job.tokensPerSecond;
      s.curve = job.curve;
      s.priority = job.priority ?? 0;
      this.evaluate(j);
      this.refresh(j);
      this.raise(j);
      this.lower(j);
    });
  }

  /** A new job on idle GPUs; refused whole (`budget-below-minimum`) when its floor does not fit. */
  add(job: Job): AllocationChange {
    if (this.byId.has(job.id)) throw new PowerError("bad-job", `job ${job.id} is already allocated`);
    const s = this.slotFor(job);
    // A new partial budget changes the problem the exchanges solve; a job as wide as this one
    // costs more to place step by step than the whole site does.
    let widens = s.limit > this.stepLimit();
    for (let k = 0; k < s.path.length; k++) if (s.share[k]! < 1 && !this.partial[s.path[k]!]) widens = true;
    if (widens) return this.resolveWith([...this.jobsNow(), job]);
    // Its floor above what its idle GPUs drew: refused before anything changes.
    const extra = new Map<number, number>();
    for (const i of s.gpus) {
      const rise = s.floorWatts - this.gpus[i]!.minWatts;
      for (let b = this.gpus[i]!.budget; b >= 0; b = this.budgets[b]!.parent)
        extra.set(b, (extra.get(b) ?? 0) + rise);
    }
    for (const [b, w] of extra)
      if (this.baseWatts[b]! + w > this.budgets[b]!.watts + 1e-6)
        throw new PowerError(
          "budget-below-minimum",
          `budget ${this.budgets[b]!.id}: ${this.budgets[b]!.watts.toFixed(0)} W is below the ` +
            `${(this.baseWatts[b]! + w).toFixed(0)} W its GPUs draw at their minimum caps with job ${job.id}`,
        );
    return this.change(
      () => [...this.jobsNow(), job],
      () => this.jobsNow().filter((x) => x.id !== job.id),
      () => this.place(s, extra),
    );
  }

  /** Adds a checked job: its floor, the steps that give way to it, then its own steps. */
  private place(s: Slot, extra: Map<number, number>): void {
    const j = this.slots.length;
    this.slots.push(s);
    this.byId.set(s.job.id, j);
    for (const i of s.gpus) this.jobOfGpu[i] = j;
    for (const [b, w] of extra) {
      this.baseWatts[b]! += w;
      this.room[b]! -= w / this.step;
    }
    this.attachSlot(j);
    this.moved.set(j, -1);
    // Room its floor took: the cheapest steps under each overfull budget give way, deepest
    // budget first so that a budget above does not give up a step a deeper one already freed.
    for (const b of [...extra.keys()].sort((a, b) => this.depth[b]! - this.depth[a]!)) this.relieve(b);
    this.raise(j);
  }

  /** A job gone: its GPUs fall to their minimum and others take what it held. */
  remove(id: string): AllocationChange {
    const j = this.slotOf(id);
    const after = () => this.jobsNow().filter((x) => x.id !== id);
    const gone = this.slots[j]!.job;
    const before = () => [...after(), gone];
    if (this.slots[j]!.y > this.stepLimit()) return this.resolveWith(after());
    return this.change(after, before, () => {
      const s = this.slots[j]!;
      // Worth nothing from now on: whoever gains from its steps takes them first.
      s.weight = 0;
      this.evaluate(j);
      this.refresh(j);
      this.lower(j);
      if (!this.moved.has(j)) this.moved.set(j, s.y);
      this.shift(j, -s.y);
      for (const i of s.gpus) {
        this.jobOfGpu[i] = -1;
        const fall = s.floorWatts - this.gpus[i]!.minWatts;
        for (let b = this.gpus[i]!.budget; b >= 0; b = this.budgets[b]!.parent) {
          this.baseWatts[b]! -= fall;
          this.room[b]! += fall / this.step;
        }
      }
      this.detach(j);
      this.byId.delete(id);
      // The floor it freed is room on its path: whoever can use it takes it.
      this.settle(s.attach);
    });
  }

  // --- the exchanges ---

  /** Job j takes steps: free ones while it gains, then from the cheapest job it may take from. */
  private raise(j: number): number {
    const s = this.slots[j]!;
    const from = this.stepsMoved;
    s.excluded = true;
    this.refresh(j);
    for (;;) {
      if (s.y >= s.limit || !(s.up - s.f > 0)) break;
      const full = this.deepestFull(s);
      if (full < 0) {
        // Room on its whole path: free steps go to whoever gains most, j among them.
        s.excluded = false;
        this.refresh(j);
        this.fill();
        s.excluded = true;
        this.refresh(j);
        if (this.deepestFull(s) < 0) break;
        continue;
      }
      const node = this.nodes[full]!;
      const top = node.loss.top;
      if (!beats(s.priority, s.up - s.f, node.loss.pri[top]!, node.loss.val[top]!)) break;
      const i = this.descend(full, false);
      this.shift(i, -1);
      this.shift(j, 1);
      this.count(1);
    }
    s.excluded = false;
    this.refresh(j);
    return this.stepsMoved - from;
  }

  /**
   * Room grew on `from` and the budgets above it (a floor freed, a budget raised, a step
   * given back): for each budget on that path, the best job that reaches it takes steps while
   * its gain beats the cheapest step under the deepest full budget it must pass, or while
   * free steps remain. Jobs that reach a budget share that budget's source, so the best of
   * them failing means all of them fail; the loop ends when no budget on the path moves.
   */
  private settle(from: number): void {
    const root = this.nodes.length - 1;
    for (let moved = true; moved; ) {
      moved = false;
      for (let a = from; a >= 0; a = this.nodes[a]!.parent) {
        const g = this.nodes[a]!.gain;
        const pg = g.pri[g.top]!;
        if (pg === WORST_GAIN) continue;
        let full = -1;
        for (let n = a; n !== root; n = this.nodes[n]!.parent)
          if (!this.fits(n)) {
            full = n;
            break;
          }
        if (full < 0) {
          if (this.fill() > 0) moved = true;
          continue;
        }
        const loss = this.nodes[full]!.loss;
        if (!beats(pg, g.val[g.top]!, loss.pri[loss.top]!, loss.val[loss.top]!)) continue;
        if (this.raise(this.descend(a, true)) > 0) moved = true;
      }
    }
  }

  /** Job j gives steps to the best job that can take them while that job's gain beats j's loss. */
  private lower(j: number): void {
    const s = this.slots[j]!;
    s.excluded = true;
    this.refresh(j);
    for (;;) {
      if (s.y <= 0) break;
      const lossValue = s.f - s.down;
      const lossPri = lossValue > 0 ? s.priority : FREE_LOSS;
      // The best gain any node on j's path reaches (its own jobs and children with room).
      let best = -1;
      for (let n = s.attach; n >= 0; n = this.nodes[n]!.parent) {
        const g = this.nodes[n]!.gain;
        const t = g.top;
        if (best < 0 || better(g.pri[t]!, g.val[t]!, this.topPri(best), this.topVal(best))) best = n;
      }
      if (best < 0 || !beats(this.topPri(best), this.topVal(best), lossPri, lossValue)) break;
      const k = this.descend(best, true);
      this.shift(j, -1);
      this.shift(k, 1);
      this.count(1);
    }
    s.excluded = false;
    this.refresh(j);
  }

  /**
   * Free steps, each to whoever gains most among the jobs with room on their whole path, while
   * any gains: the greedy itself over the room there is. A job keeps taking steps while it
   * still beats the runner-up, so one with the room to itself takes it in one move.
   */
  private fill(): number {
    const from = this.stepsMoved;
    const root = this.nodes.length - 1;
    const g = this.nodes[root]!.gain;
    while (g.pri[g.top]! > WORST_GAIN) {
      const k = this.descend(root, true);
      const s = this.slots[k]!;
      s.excluded = true;
      this.refresh(k);
      const rivalPri = g.pri[g.top]!;
      const rivalVal = g.val[g.top]!;
      s.excluded = false;
      const d = this.freeSteps(s, rivalPri, rivalVal);
      if (d < 1) {
        this.refresh(k);
        break;
      }
      this.shift(k, d);
      this.count(d);
    }
    return this.stepsMoved - from;
  }

  /**
   * Takes the cheapest steps under budget b until it is within its room; the budgets above it
   * may then have room that others take.
   */
  private relieve(b: number): void {
    let taken = 0;
    while (!this.partial[b] && this.room[b]! - this.used[b]! < -EPS) {
      const node = this.nodes[b]!;
      if (node.loss.pri[node.loss.top]! === NO_LOSS) break;
      this.shift(this.descend(b, false), -1);
      this.count(1);
      taken++;
    }
    if (taken > 0) this.settle(this.nodes[b]!.parent);
  }

  private count(steps: number): void {
    this.stepsMoved += steps;
    if (this.stepsMoved > this.stepLimit()) throw TOO_MANY_STEPS;
  }

  /**
   * Exchange steps worth one whole solve: on the ~1 GW example a solve of 19,250 jobs takes
   * about as long as 16 exchange steps per job (`npm run bench -- --only power`).
   */
  private stepLimit(): number {
    return Math.max(10_000, EXCHANGE_STEPS_PER_JOB * this.byId.size);
  }

  /** The deepest budget on j's exchange path without a step of room, -1 when none. */
  private deepestFull(s: Slot): number {
    const root = this.nodes.length - 1;
    for (let n = s.attach; n !== root; n = this.nodes[n]!.parent) if (!this.fits(n)) return n;
    return -1;
  }

  /**
   * Free steps for a job: while it gains and its gain is no worse than the rival's, within
   * its limit and every budget's room (at least one when it is the best and fits).
   */
  private freeSteps(s: Slot, rivalPri: number, rivalVal: number): number {
    const root = this.nodes.length - 1;
    let fit = s.limit - s.y;
    for (let n = s.attach; n !== root; n = this.nodes[n]!.parent)
      if (!this.partial[n]) fit = Math.min(fit, Math.floor(this.room[n]! - this.used[n]! + EPS));
    let d = 0;
    let f = s.f;
    let next = s.up;
    while (d < fit && next - f > 0 && !better(rivalPri, rivalVal, s.priority, next - f)) {
      d++;
      f = next;
      // Past its limit the cap would be above the job's range: no further gain there.
      next = s.y + d < s.limit ? this.value(s, s.y + d + 1) : f;
    }
    return d;
  }

  private fits(n: number): boolean {
    return n >= this.budgets.length || this.partial[n] === 1 || this.room[n]! - this.used[n]! >= 1 - EPS;
  }

  private topPri(n: number): number {
    const g = this.nodes[n]!.gain;
    return g.pri[g.top]!;
  }

  private topVal(n: number): number {
    const g = this.nodes[n]!.gain;
    return g.val[g.top]!;
  }

  /** The job behind node n's winner (gain or loss). */
  private descend(n: number, gain: boolean): number {
    for (;;) {
      const node = this.nodes[n]!;
      const leaf = (gain ? node.gain : node.loss).top;
      if (leaf < node.children.length) n = node.children[leaf]!;
      else return node.jobAt[leaf - node.children.length]!;
    }
  }

  /** Moves job j by d steps and updates the budgets and winners on its path. */
  private shift(j: number, d: number): void {
    if (d === 0) return;
    const s = this.slots[j]!;
    if (!this.moved.has(j)) this.moved.set(j, s.y);
    s.y += d;
    for (let k = 0; k < s.path.length; k++) this.used[s.path[k]!]! += d * s.share[k]!;
    // One step reuses two of the three values it needs.
    if (d === 1) {
      s.down = s.f;
      s.f = s.up;
      s.up = s.y < s.limit ? this.value(s, s.y + 1) : s.f;
    } else if (d === -1) {
      s.up = s.f;
      s.f = s.down;
      s.down = s.y > 0 ? this.value(s, s.y - 1) : s.f;
    } else this.evaluate(j);
    this.refresh(j);
  }

  private value(s: Slot, y: number): number {
    return s.weight * s.curve((s.floorWatts + (y * this.step) / s.gpus.length) / s.maxWatts);
  }

  private evaluate(j: number): void {
    const s = this.slots[j]!;
    s.f = this.value(s, s.y);
    s.up = s.y < s.limit ? this.value(s, s.y + 1) : s.f;
    s.down = s.y > 0 ? this.value(s, s.y - 1) : s.f;
  }

  /** Writes job j's gain and loss into its node and the winners up to the top. */
  private refresh(j: number): void {
    this.writeKeys(j);
    this.propagate(this.slots[j]!.attach);
  }

  /** Job j's gain and loss in its node's tournaments. */
  private writeKeys(j: number): void {
    const s = this.slots[j]!;
    const node = this.nodes[s.attach]!;
    const leaf = node.children.length + s.leaf;
    const gain = s.up - s.f;
    const loss = s.f - s.down;
    if (s.excluded || s.y >= s.limit || !(gain > 0)) node.gain.set(leaf, WORST_GAIN, 0);
    else node.gain.set(leaf, s.priority, gain);
    if (s.excluded || s.y <= 0) node.loss.set(leaf, NO_LOSS, 0);
    else if (loss > 0) node.loss.set(leaf, s.priority, loss);
    else node.loss.set(leaf, FREE_LOSS, 0);
  }

  private propagate(from: number): void {
    for (let n = from; this.nodes[n]!.parent >= 0; n = this.nodes[n]!.parent) this.lift(n);
  }

  /** Node n's winners into its parent's tournaments (its gain only when it has a step of room). */
  private lift(n: number): void {
    const node = this.nodes[n]!;
    const up = this.nodes[node.parent]!;
    const g = node.gain;
    const gt = g.top;
    if (this.fits(n)) up.gain.set(node.leaf, g.pri[gt]!, g.val[gt]!);
    else up.gain.set(node.leaf, WORST_GAIN, 0);
    const l = node.loss;
    const lt = l.top;
    up.loss.set(node.leaf, l.pri[lt]!, l.val[lt]!);
  }

  // --- bookkeeping ---

  /** Runs a change; falls back to solving everything when a partial budget ends up over. */
  private change(after: () => Job[], before: () => Job[], body: () => void): AllocationChange {
    this.moved.clear();
    this.stepsMoved = 0;
    const target = after();
    // Exchanges start from an optimum; an uncertified one is solved again whole. So is a change
    // once the slots of jobs gone outnumber the live ones: that solve also lets them go, at the
    // cost of one whole solve per as many changes as there are jobs.
    if (!this.exact || this.slots.length > 2 * this.byId.size + 64) return this.resolveWith(target);
    try {
      body();
    } catch (err) {
      // Every step keeps the allocation feasible, so stopping anywhere is safe.
      if (err === TOO_MANY_STEPS) return this.resolveWith(target);
      // Anything else (a curve that throws) leaves the change half made: start again from the
      // jobs as they were, then let the caller see the error.
      try {
        this.solveAll(before());
      } catch {
        // The same error again: the state is as the throw left it.
      }
      throw err;
    }
    for (const j of this.moved.keys()) {
      const s = this.slots[j]!;
      for (const b of s.path)
        if (this.partial[b] && this.room[b]! - this.used[b]! < -1e-6) return this.resolveWith(this.jobsNow());
    }
    return this.report(false);
  }

  private resolveWith(jobs: Job[]): AllocationChange {
    const before = Float64Array.from(this.caps());
    this.solveAll(jobs);
    const gpus: number[] = [];
    for (let i = 0; i < before.length; i++) if (before[i] !== this.capWatts[i]) gpus.push(i);
    const changed = new Set<number>();
    for (const i of gpus) if (this.jobOfGpu[i]! >= 0) changed.add(this.jobOfGpu[i]!);
    const moved = [...changed].map((j) => this.jobAllocation(j));
    return { jobs: moved, gpus, steps: 0, resolved: true, exact: this.exact };
  }

  /**
   * The jobs whose steps changed. Their GPUs' caps are written when the allocation is next
   * read, and listed only when asked: one step of a 576-GPU job moves 576 caps.
   */
  private report(resolved: boolean): AllocationChange {
    this.snapshot = null;
    const jobs: JobAllocation[] = [];
    // Per job that moved: its GPUs and their cap before and after (NaN: each GPU's minimum).
    const touched: { gpus: Int32Array; from: number; to: number }[] = [];
    for (const [j, before] of this.moved) {
      const s = this.slots[j]!;
      const gone = this.byId.get(s.job.id) !== j;
      if (!gone && before === s.y) continue;
      const from = before < 0 ? Number.NaN : s.floorWatts + (before * this.step) / s.gpus.length;
      const to = gone ? Number.NaN : this.capOf(s);
      touched.push({ gpus: s.gpus, from, to });
      this.dirty.set(j, to);
      if (!gone) jobs.push(this.jobAllocation(j));
    }
    const slots = this.gpus;
    let gpus: number[] | undefined;
    return {
      jobs,
      get gpus() {
        if (gpus) return gpus;
        gpus = [];
        for (const t of touched)
          for (const i of t.gpus) {
            const min = slots[i]!.minWatts;
            if ((Number.isNaN(t.from) ? min : t.from) !== (Number.isNaN(t.to) ? min : t.to)) gpus.push(i);
          }
        return gpus;
      },
      steps: this.stepsMoved,
      resolved,
      exact: this.exact,
    };
  }

  /** Every GPU's cap now: writes the caps of the jobs that moved since the last read. */
  private caps(): Float64Array {
    for (const [j, cap] of this.dirty) {
      const s = this.slots[j]!;
      for (const i of s.gpus) this.capWatts[i] = Number.isNaN(cap) ? this.gpus[i]!.minWatts : cap;
    }
    this.dirty.clear();
    return this.capWatts;
  }

  private capOf(s: Slot): number {
    return s.floorWatts + (s.y * this.step) / s.gpus.length;
  }

  private jobAllocation(j: number): JobAllocation {
    const s = this.slots[j]!;
    const full = s.y < s.limit && s.up - s.f > 0 ? this.deepestFull(s) : -1;
    return {
      id: s.job.id,
      capWatts: this.capOf(s),
      tokensPerSecond: s.f,
      steps: s.y,
      stoppedBy: full >= 0 ? "budget" : s.y >= s.limit ? "max" : "flat",
      blockedBy: full,
    };
  }

  private jobsNow(): Job[] {
    return [...this.byId.values()].sort((a, b) => a - b).map((j) => this.slots[j]!.job);
  }

  private slotOf(id: string): number {
    const j = this.byId.get(id);
    if (j === undefined) throw new PowerError("bad-job", `no job ${id} is allocated`);
    return j;
  }

  /** A job's slot: its GPUs (which must be idle), range, limit and path with shares. */
  private slotFor(job: Job): Slot {
    checkJob(job, this.gpuIndex);
    const gpus = Int32Array.from(job.gpus, (id) => {
      const i = this.gpuIndex.get(id)!;
      const other = this.jobOfGpu[i]!;
      if (other >= 0)
        throw new PowerError(
          "bad-job",
          `job ${job.id}: ${id} is already in job ${this.slots[other]!.job.id}`,
        );
      return i;
    });
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    const count = new Map<number, number>();
    for (const i of gpus) {
      const g = this.gpus[i]!;
      lo = Math.max(lo, g.minWatts);
      hi = Math.min(hi, g.maxWatts);
      for (let b = g.budget; b >= 0; b = this.budgets[b]!.parent) count.set(b, (count.get(b) ?? 0) + 1);
    }
    if (!(lo <= hi))
      throw new PowerError("bad-job", `job ${job.id}: its GPUs share no cap range (${lo}–${hi} W)`);
    const path = Int32Array.from(count.keys());
    const share = Float64Array.from(path, (b) => count.get(b)! / gpus.length);
    const s: Slot = {
      job,
      gpus,
      weight: job.tokensPerSecond,
      curve: job.curve,
      priority: job.priority ?? 0,
      floorWatts: lo,
      maxWatts: hi,
      limit: Math.floor((gpus.length * (hi - lo)) / this.step + EPS),
      path,
      share,
      attach: this.attachOf(path, share),
      leaf: -1,
      y: 0,
      f: 0,
      up: 0,
      down: 0,
      excluded: false,
    };
    return s;
  }

  /** The deepest budget holding all of a job's GPUs; the top node when none does. */
  private attachOf(path: Int32Array, share: Float64Array): number {
    let at = this.budgets.length;
    for (let k = 0; k < path.length; k++)
      if (share[k]! >= 1 - EPS && (at === this.budgets.length || this.depth[path[k]!]! > this.depth[at]!))
        at = path[k]!;
    return at;
  }

  private attachSlot(j: number): void {
    const s = this.slots[j]!;
    const node = this.nodes[s.attach]!;
    let leaf = node.freeLeaves.pop();
    if (leaf === undefined) {
      leaf = node.jobAt.length;
      node.jobAt.push(-1);
      const need = node.children.length + node.jobAt.length;
      if (need > node.gain.size) {
        node.gain = node.gain.grown(2 * need);
        node.loss = node.loss.grown(2 * need);
      }
    }
    node.jobAt[leaf] = j;
    s.leaf = leaf;
    this.evaluate(j);
    this.refresh(j);
  }

  private detach(j: number): void {
    const s = this.slots[j]!;
    const node = this.nodes[s.attach]!;
    const leaf = node.children.length + s.leaf;
    node.gain.set(leaf, WORST_GAIN, 0);
    node.loss.set(leaf, NO_LOSS, 0);
    node.jobAt[s.leaf] = -1;
    node.freeLeaves.push(s.leaf);
    this.propagate(s.attach);
  }

  /** Solves the whole site with `allocate` and rebuilds the exchange structure from it. */
  private solveAll(jobs: readonly Job[]): void {
    const input: AllocationInput = {
      gpus: this.gpus,
      budgets: this.budgets,
      jobs,
      gpuIndex: this.gpuIndex,
      stepWatts: this.step,
    };
    const { allocation, prepared: p, steps } = solve(input, this.options);
    const B = this.budgets.length;
    this.exact = allocation.exact;
    this.capWatts = Float64Array.from(allocation.capWatts);
    this.dirty.clear();
    this.jobOfGpu = Int32Array.from(p.jobOfGpu);
    this.room = Float64Array.from(p.room);
    this.baseWatts = Float64Array.from(p.baseWatts);
    this.partial = Uint8Array.from(p.partial);
    this.used = new Float64Array(B);
    this.depth = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      let d = 0;
      for (let a = this.budgets[b]!.parent; a >= 0; a = this.budgets[a]!.parent) d++;
      this.depth[b] = d;
    }
    // Nodes: one per budget and one above the roots; children's leaves come first.
    const children: number[][] = Array.from({ length: B + 1 }, () => []);
    this.budgets.forEach((b, k) => {
      children[b.parent >= 0 ? b.parent : B]!.push(k);
    });
    const own: number[][] = Array.from({ length: B + 1 }, () => []);
    this.slots = [];
    this.byId = new Map();
    for (let j = 0; j < jobs.length; j++) {
      const path = p.pathBudget.subarray(p.pathStart[j]!, p.pathStart[j + 1]!);
      const share = p.pathShare.subarray(p.pathStart[j]!, p.pathStart[j + 1]!);
      const job = jobs[j]!;
      const s: Slot = {
        job,
        gpus: gpuIndicesOf(job, this.gpuIndex),
        weight: p.weight[j]!,
        curve: p.curve[j]!,
        priority: p.priority[j]!,
        floorWatts: p.floorWatts[j]!,
        maxWatts: p.maxWatts[j]!,
        limit: p.limit[j]!,
        path: Int32Array.from(path),
        share: Float64Array.from(share),
        attach: this.attachOf(path, share),
        leaf: 0,
        y: steps[j]!,
        f: 0,
        up: 0,
        down: 0,
        excluded: false,
      };
      for (let k = 0; k < path.length; k++) this.used[path[k]!]! += s.y * share[k]!;
      s.leaf = own[s.attach]!.length;
      own[s.attach]!.push(j);
      this.slots.push(s);
      this.byId.set(job.id, j);
    }
    this.nodes = children.map((kids, n) => {
      const capacity = Math.max(1, kids.length + own[n]!.length);
      return {
        parent: n === B ? -1 : this.budgets[n]!.parent >= 0 ? this.budgets[n]!.parent : B,
        leaf: -1,
        children: kids,
        gain: new Tournament(capacity, true),
        loss: new Tournament(capacity, false),
        jobAt: [...own[n]!],
        freeLeaves: [],
      };
    });
    for (const node of this.nodes)
      node.children.forEach((c, leaf) => {
        this.nodes[c]!.leaf = leaf;
      });
    // Winners bottom up: job entries first, then each node into its parent, deepest first.
    for (let j = 0; j < this.slots.length; j++) {
      this.evaluate(j);
      this.writeKeys(j);
    }
    const order = Array.from({ length: B }, (_, k) => k).sort((a, b) => this.depth[b]! - this.depth[a]!);
    for (const n of order) this.lift(n);
    this.snapshot = allocation;
  }

  /** The allocation as `allocate` reports it, from the current steps. */
  private freeze(): Allocation {
    const live = [...this.byId.values()].sort((a, b) => a - b);
    const price = new Float64Array(this.budgets.length).fill(Number.POSITIVE_INFINITY);
    const byPriority = new Map<number, number>();
    let total = 0;
    const jobs = live.map((j) => {
      const s = this.slots[j]!;
      const a = this.jobAllocation(j);
      total += s.f;
      byPriority.set(s.priority, (byPriority.get(s.priority) ?? 0) + s.f);
      // The price of a binding budget: the last step given to a job it stopped, as `allocate`.
      const last = s.y > 0 ? s.f - s.down : s.up - s.f;
      if (a.blockedBy >= 0) price[a.blockedBy] = Math.min(price[a.blockedBy]!, last / this.step);
      return a;
    });
    const budgets: BudgetUse[] = this.budgets.map((b, k) => ({
      id: b.id,
      watts: b.watts,
      usedWatts: this.baseWatts[k]! + this.used[k]! * this.step,
      binds: price[k]! < Number.POSITIVE_INFINITY,
      marginalTokensPerJoule: price[k]! < Number.POSITIVE_INFINITY ? price[k]! : 0,
    }));
    return Object.freeze({
      capWatts: Float64Array.from(this.caps()),
      jobs,
      budgets,
      tokensPerSecond: total,
      tokensByPriority: [...byPriority]
        .sort((a, b) => b[0] - a[0])
        .map(([priority, tokensPerSecond]) => ({ priority, tokensPerSecond })),
      exact: this.exact,
    });
  }
}

/** (pa, va) strictly better than (pb, vb) as gains. */
function better(pa: number, va: number, pb: number, vb: number): boolean {
  return pa > pb || (pa === pb && va > vb);
}

/** A step with gain (pg, g) moved from a job with loss (pl, l) raises the objective. */
function beats(pg: number, g: number, pl: number, l: number): boolean {
  return pg > WORST_GAIN && g > 0 && (pg > pl || (pg === pl && g > l));
}

function gpuIndicesOf(job: Job, index: ReadonlyMap<string, number>): Int32Array {
  if (job.gpuIndices) return Int32Array.from(job.gpuIndices);
  return Int32Array.from(job.gpus, (id) => index.get(id)!);
}

/**
 * What `allocate` refuses of one job, refused here too (`bad-job`): no GPUs, an unknown or
 * repeated GPU, GPU indexes that do not name its GPUs, a weight or priority that is not a
 * finite number (a weight below 0).
 */
function checkJob(job: Job, index: ReadonlyMap<string, number>): void {
  const bad = (why: string) => new PowerError("bad-job", `job ${job.id}: ${why}`);
  if (job.gpus.length === 0) throw bad("it has no GPUs");
  if (!(job.tokensPerSecond >= 0 && Number.isFinite(job.tokensPerSecond)))
    throw bad(`its weight ${job.tokensPerSecond} is not a finite number of at least 0`);
  if (job.priority !== undefined && !Number.isFinite(job.priority))
    throw bad(`its priority ${job.priority} is not a finite number`);
  const seen = new Set<number>();
  job.gpus.forEach((id, k) => {
    const i = index.get(id);
    if (i === undefined) throw bad(`no GPU ${id}`);
    if (seen.has(i)) throw bad(`${id} is listed twice`);
    seen.add(i);
    if (job.gpuIndices && job.gpuIndices[k] !== i) throw bad(`GPU index ${job.gpuIndices[k]} is not ${id}'s`);
  });
  if (job.gpuIndices && job.gpuIndices.length !== job.gpus.length)
    throw bad(`${job.gpuIndices.length} GPU indexes for ${job.gpus.length} GPUs`);
}

function sameGpus(s: Slot, job: Job, index: ReadonlyMap<string, number>): boolean {
  if (job.gpus.length !== s.gpus.length) return false;
  const mine = new Set(s.gpus);
  return job.gpus.every((id) => mine.has(index.get(id) ?? -1));
}
