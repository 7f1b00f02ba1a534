/**
 * The power controller: the allocator and the safety loop as one decision per telemetry
 * interval, over the budget tree of one factory.
 *
 * - The allocator sets every GPU's allowed maximum: the exactly optimal caps for the running
 *   jobs under every budget (allocate.ts), each job's range first narrowed by its power profile
 *   (profiles.ts). It reruns only when its input changes: the jobs, the budget options (a new
 *   facility target), or the GPUs whose caps cannot be confirmed.
 * - The safety loop (safety.ts) then compares every level's measured draw with its limit and
 *   holds GPUs below their allowed maximum while a level is over a threshold.
 *
 * GPUs that run no known job are not left at their minimum: each is a job of its own in the
 * lowest priority class with a negligible weight, so it gets what the known work leaves (work the
 * control plane has not learned of yet is not starved) and is cut first. A GPU whose cap cannot
 * be confirmed is pinned at its maximum draw (ARCHITECTURE: unknown draw is assumed at its worst),
 * so the others make room for it.
 *
 * Priorities follow Kubernetes: a higher number is more important and is cut last. The safety
 * core counts the other way (0 = most important); the controller converts.
 */
import type { BuildResult } from "@flightdeck/model";
import {
  type Allocation,
  allocate,
  type BudgetLimit,
  type GpuSlot,
  type Job,
  type JobAllocation,
} from "./allocate.ts";
import { type BudgetOptions, type BudgetTree, deriveBudgets, type FacilityTarget } from "./budget.ts";
import { computeBoundCurve, decodeCurve, type ThroughputCurve } from "./curves.ts";
import { PowerError } from "./errors.ts";
import { OtherDrawWindow, type PlannedLevel } from "./other-draw.ts";
import {
  applyProfile,
  definePolicy,
  type PowerProfile,
  type ProfilePolicy,
  type Resolution,
  resolveProfile,
  type WorkloadKind,
} from "./profiles.ts";
import {
  DEFAULT_SAFETY_CONFIG,
  decideSafety,
  initialSafetyState,
  type SafetyAction,
  type SafetyConfig,
  type SafetyGpu,
  type SafetyHold,
  type SafetyLevel,
  type SafetyLevelReport,
  type SafetyState,
} from "./safety.ts";

/** A job the controller allocates for: a training job or one inference replica. */
export interface ControlledJob {
  readonly id: string;
  readonly org?: string;
  readonly kind: WorkloadKind;
  /** Higher is more important (Kubernetes); default 0. */
  readonly priority?: number;
  /** Model GPU ids (`gpu:r01-dgx1/0`). */
  readonly gpus: readonly string[];
  /** The job's tokens/s with every GPU at its maximum cap: its weight. Default: one per GPU. */
  readonly tokensPerSecond?: number;
  /** A profile reference that overrides the policy (`max-q`, `max-p-inference`, a custom name). */
  readonly profile?: string;
}

export interface ControllerOptions {
  readonly build: BuildResult;
  readonly budget?: BudgetOptions;
  /** Which profile each job gets; default: every job MAX-P. */
  readonly policy?: ProfilePolicy;
  readonly safety?: SafetyConfig;
  /** The allocator's step of a job's total power (default 1 W). */
  readonly stepWatts?: number;
  /** Throughput against cap fraction per kind (defaults: compute-bound training, decode-bound inference). */
  readonly curves?: Partial<Record<WorkloadKind, ThroughputCurve>>;
  /**
   * The hosts' non-GPU draw budgets are planned with: their nameplate at full load (default,
   * never over a limit by construction), or learned from meters where that leaves GPUs more,
   * which trades a brief excursion for the safety loop to catch when hosts go from idle to busy
   * (other-draw.ts; `npm run bench:power -- --variants` measures both).
   */
  readonly otherDraw?: "nameplate" | "measured";
}

/** What was measured at one instant. */
export interface PowerReadings {
  readonly atMs: number;
  /** Power device id → watts it delivers now (Redfish meter); `facility` → a facility meter. */
  readonly deviceWatts: ReadonlyMap<string, number>;
  /** GPU id → its measured draw. */
  readonly gpuDrawWatts?: ReadonlyMap<string, number>;
  /** GPU id → the cap confirmed on the device; a GPU missing here counts at its maximum. */
  readonly appliedCapWatts?: ReadonlyMap<string, number>;
}

/** One level of the budget tree as the controller sees it. */
export interface LevelStatus {
  readonly id: string;
  /** The devices' names, for people: `fpdu-a1 + fpdu-b1`. */
  readonly name: string;
  readonly parent: string | null;
  /** What the nodes under it may draw together. */
  readonly limitWatts: number;
  /** What its GPUs may draw together: its limit after supply losses less `otherWatts`. */
  readonly gpuWatts: number;
  /**
   * The nodes' non-GPU draw it is planned with: nameplate (at full load), or from its meters
   * (the peak of the last minutes plus a margin) where that leaves GPUs more.
   */
  readonly otherWatts: number;
  readonly otherFrom: "nameplate" | "meters";
  /** Σ of its GPUs' allocated caps. */
  readonly allocatedWatts: number;
  /** Measured, or undefined when no reading is at hand (then the safety loop assumes the limit). */
  readonly drawWatts: number | undefined;
  readonly headroomWatts: number | undefined;
  /** Some job wanted more than this level could give. */
  readonly binds: boolean;
  /** Tokens/s per further watt here (0 when it does not bind). */
  readonly marginalTokensPerJoule: number;
  readonly gpuCount: number;
  /** The safety band of the last reading, when one was observed. */
  readonly band?: SafetyLevelReport["band"];
}

/** One decision: the cap every GPU should have now, and why. */
export interface ControlDecision {
  readonly atMs: number;
  /** GPU id → cap. */
  readonly capWatts: ReadonlyMap<string, number>;
  /** Caps the safety loop lowered or released against the allocator's (with reasons). */
  readonly actions: readonly SafetyAction[];
  readonly levels: readonly LevelStatus[];
}

/** Why a GPU has its cap. */
export interface GpuExplanation {
  readonly gpu: string;
  readonly capWatts: number;
  /** The allocator's cap: the safety loop never raises a GPU above it. */
  readonly allocatedWatts: number;
  readonly minWatts: number;
  readonly maxWatts: number;
  readonly job: string | null;
  readonly priority: number | null;
  readonly profile: { name: string; capWatts: number; source: string; reason: string } | null;
  /** What stops the cap going higher. */
  readonly binding:
    | { kind: "budget"; level: string; name: string }
    | { kind: "profile" | "maximum" | "no-gain" | "pinned" | "safety"; level?: string; name?: string };
  /** Tokens/s per further watt for this GPU's job at its cap. */
  readonly marginalTokensPerJoule: number;
  readonly safety: SafetyHold | null;
  readonly text: string;
}

function optional<K extends string>(key: K, value: number | undefined): { [k in K]?: number } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]: number });
}

/**
 * AC-to-DC efficiency the controller plans with when the budget options give none: inside the
 * roughly 90–96% band 80 PLUS Platinum and Titanium server supplies are certified for, from 20%
 * to full load (an assumption). Meters read AC and caps bound DC, so a level's GPUs get
 * limit × efficiency − other draw, and a level draws at most (Σ caps + other draw) / efficiency.
 */
export const PLANNED_PSU_EFFICIENCY = 0.92;

/**
 * Inference throughput is taken as flat above 45% of the maximum cap: decode draws ~137–300 W of
 * H200's 700 W (FACTS.md, 0.2–0.43 of it) and runs no faster above its own draw. A curve that
 * claims even a small gain up to the maximum makes strict priorities hand every watt to the
 * services: on the outcome bench that kept 0.856 of tokens at an 85% budget, against 0.999 with
 * the flat curve (docs/power.md).
 */
export const DECODE_KNEE = 0.45;

const IDLE_PREFIX = "idle:";
/** A GPU without a known job weighs this much: it only gets watts nothing else wants. */
const IDLE_WEIGHT = 1e-6;
const linear: ThroughputCurve = (x) => x;

interface JobPlan {
  job: ControlledJob;
  resolution: Resolution | null;
  profile: PowerProfile | null;
}

export class PowerController {
  readonly build: BuildResult;
  private budgetOptions: BudgetOptions;
  private policy: ProfilePolicy;
  private readonly safetyConfig: SafetyConfig;
  private readonly stepWatts: number;
  private readonly curves: Record<WorkloadKind, ThroughputCurve>;
  private treeValue: BudgetTree;
  private jobs: readonly ControlledJob[] = [];
  private plans = new Map<string, JobPlan>();
  private jobOfGpu = new Map<string, string>();
  private pinned = new Set<string>();
  private allocation: Allocation | undefined;
  /** The allocation's jobs by id (explanations look one up per GPU). */
  private jobAllocation = new Map<string, JobAllocation>();
  private allocatedCap: Float64Array;
  private slots: readonly GpuSlot[] = [];
  private safetyState: SafetyState = initialSafetyState();
  private last: ControlDecision | undefined;
  private deviceLimit = new Map<string, number>();
  private readonly otherDraw = new OtherDrawWindow();
  /** Each budget's GPU watts as allocated, from nameplate or measured other draw. */
  private planned: PlannedLevel[] = [];
  private lastObservedMs = Number.NEGATIVE_INFINITY;
  private readonly measureOtherDraw: boolean;

  constructor(options: ControllerOptions) {
    this.build = options.build;
    this.budgetOptions = { psuEfficiency: PLANNED_PSU_EFFICIENCY, ...options.budget };
    this.policy = options.policy ?? definePolicy({ rules: [], default: "max-p" });
    this.safetyConfig = options.safety ?? DEFAULT_SAFETY_CONFIG;
    this.stepWatts = options.stepWatts ?? 1;
    this.measureOtherDraw = options.otherDraw === "measured";
    this.curves = {
      training: options.curves?.training ?? computeBoundCurve(),
      inference: options.curves?.inference ?? decodeCurve(DECODE_KNEE, 0),
    };
    this.treeValue = deriveBudgets(this.build, this.budgetOptions);
    this.allocatedCap = new Float64Array(this.treeValue.gpus.length);
    for (const d of this.build.graph.ofKind("power"))
      this.deviceLimit.set(d.id, d.limitWatts ?? Number.POSITIVE_INFINITY);
    this.reallocate();
  }

  get tree(): BudgetTree {
    return this.treeValue;
  }

  get options(): BudgetOptions {
    return this.budgetOptions;
  }

  get currentAllocation(): Allocation {
    return this.allocation!;
  }

  /** The jobs allocated for now, each with its profile and its allocation. */
  allocatedJobs(): {
    job: ControlledJob;
    profile: PowerProfile | null;
    allocation: JobAllocation | undefined;
  }[] {
    return [...this.plans.values()].map(({ job, profile }) => ({
      job,
      profile,
      allocation: this.jobAllocation.get(job.id),
    }));
  }

  get lastDecision(): ControlDecision | undefined {
    return this.last;
  }

  /**
   * New budget options (a facility target, overrides). Atomic: when the new tree cannot hold the
   * running work at its minimum caps, this throws `PowerError` and nothing changes.
   */
  setBudgetOptions(options: BudgetOptions): void {
    const full = { psuEfficiency: PLANNED_PSU_EFFICIENCY, ...options };
    const tree = deriveBudgets(this.build, full);
    this.commit(tree, this.jobs, this.policy, this.pinned);
    this.budgetOptions = full;
  }

  private get efficiency(): number {
    return this.budgetOptions.psuEfficiency ?? 1;
  }

  setFacilityTarget(target: FacilityTarget | undefined): void {
    const { facility: _, ...rest } = this.budgetOptions;
    this.setBudgetOptions(target ? { ...rest, facility: target } : rest);
  }

  /** The running jobs; throws for a GPU that is unknown or in two jobs (nothing changes). */
  setJobs(jobs: readonly ControlledJob[]): void {
    this.commit(this.treeValue, jobs, this.policy, this.pinned);
  }

  setPolicy(policy: ProfilePolicy): void {
    this.commit(this.treeValue, this.jobs, policy, this.pinned);
  }

  /** GPUs whose cap cannot be confirmed: allocated as drawing their maximum. */
  setPinned(gpus: Iterable<string>): void {
    const next = new Set(gpus);
    if (next.size === this.pinned.size && [...next].every((g) => this.pinned.has(g))) return;
    this.commit(this.treeValue, this.jobs, this.policy, next);
  }

  /** The allocator's cap of one GPU (its allowed maximum now). */
  allocatedWatts(gpu: string): number | undefined {
    const i = this.treeValue.gpuIndex.get(gpu);
    return i === undefined ? undefined : this.allocatedCap[i];
  }

  /** Validates and allocates a candidate; swaps it in only when all of it succeeds. */
  private commit(
    tree: BudgetTree,
    jobs: readonly ControlledJob[],
    policy: ProfilePolicy,
    pinned: ReadonlySet<string>,
  ): void {
    const saved = {
      tree: this.treeValue,
      jobs: this.jobs,
      policy: this.policy,
      pinned: this.pinned,
      plans: this.plans,
      jobOfGpu: this.jobOfGpu,
    };
    try {
      this.treeValue = tree;
      this.jobs = jobs;
      this.policy = policy;
      this.pinned = new Set(pinned);
      this.plan();
      this.reallocate();
    } catch (err) {
      Object.assign(this, {
        treeValue: saved.tree,
        jobs: saved.jobs,
        policy: saved.policy,
        pinned: saved.pinned,
        plans: saved.plans,
        jobOfGpu: saved.jobOfGpu,
      });
      throw err;
    }
  }

  private plan(): void {
    const plans = new Map<string, JobPlan>();
    const jobOfGpu = new Map<string, string>();
    const { gpuIndex } = this.treeValue;
    for (const job of this.jobs) {
      if (plans.has(job.id)) throw new PowerError("bad-job", `job ${job.id} appears twice`);
      if (job.gpus.length === 0) throw new PowerError("bad-job", `job ${job.id} has no GPUs`);
      for (const g of job.gpus) {
        if (!gpuIndex.has(g)) throw new PowerError("bad-job", `job ${job.id}: no GPU ${g} under any budget`);
        const other = jobOfGpu.get(g);
        if (other !== undefined)
          throw new PowerError("bad-job", `GPU ${g} is in both job ${other} and job ${job.id}`);
        jobOfGpu.set(g, job.id);
      }
      const gpuType = this.build.graph.get(job.gpus[0]!)?.type ?? "";
      let resolution: Resolution | null = null;
      if (job.profile !== undefined) {
        const one = definePolicy({ rules: [], default: job.profile, profiles: this.policy.profiles });
        resolution = {
          ...resolveProfile(one, job, gpuType, this.build.catalog.gpus),
          reason: "requested by the job",
        };
      } else resolution = resolveProfile(this.policy, job, gpuType, this.build.catalog.gpus);
      plans.set(job.id, { job, resolution, profile: resolution.profile });
    }
    this.plans = plans;
    this.jobOfGpu = jobOfGpu;
  }

  private reallocate(): void {
    const tree = this.treeValue;
    this.planned = this.plannedLevels();
    const budgets = tree.budgets.map((b, k) => ({ ...b, watts: this.planned[k]!.gpuWatts }));
    const gpus = tree.gpus.map((slot) => {
      if (this.pinned.has(slot.id)) return { ...slot, minWatts: slot.maxWatts };
      const jobId = this.jobOfGpu.get(slot.id);
      const profile = jobId === undefined ? null : this.plans.get(jobId)!.profile;
      return profile ? applyProfile(slot, profile) : slot;
    });
    let lowest = 0;
    for (const job of this.jobs) lowest = Math.min(lowest, job.priority ?? 0);
    const jobs: Job[] = [];
    for (const { job, profile } of this.plans.values()) {
      const base = this.curves[job.kind];
      // A pinned GPU leaves its job's allocation: it is held at its maximum draw on its own.
      const ids = this.pinned.size > 0 ? job.gpus.filter((g) => !this.pinned.has(g)) : job.gpus;
      if (ids.length === 0) continue;
      // Measured against the GPU's true maximum, so tokensPerSecond is at the real maximum.
      let minMax = Number.POSITIVE_INFINITY;
      let trueMax = Number.POSITIVE_INFINITY;
      for (const g of ids) {
        const i = tree.gpuIndex.get(g)!;
        minMax = Math.min(minMax, gpus[i]!.maxWatts);
        trueMax = Math.min(trueMax, tree.gpus[i]!.maxWatts);
      }
      const fraction = profile ? minMax / trueMax : 1;
      jobs.push({
        id: job.id,
        gpus: ids,
        tokensPerSecond: ((job.tokensPerSecond ?? job.gpus.length) * ids.length) / job.gpus.length,
        curve: fraction === 1 ? base : (x) => base(fraction * x),
        priority: job.priority ?? 0,
      });
    }
    for (const slot of tree.gpus) {
      if (this.jobOfGpu.has(slot.id) || this.pinned.has(slot.id)) continue;
      jobs.push({
        id: IDLE_PREFIX + slot.id,
        gpus: [slot.id],
        tokensPerSecond: IDLE_WEIGHT,
        curve: linear,
        priority: lowest - 1,
      });
    }
    this.slots = gpus;
    this.allocation = allocate({
      gpus,
      budgets,
      jobs,
      gpuIndex: tree.gpuIndex,
      stepWatts: this.stepWatts,
    });
    this.jobAllocation = new Map(this.allocation.jobs.map((j) => [j.id, j]));
    this.allocatedCap = this.fillSlack(gpus, budgets, this.allocation);
  }

  private plannedLevels(): PlannedLevel[] {
    const first = this.safetyConfig.firstThreshold;
    if (!this.measureOtherDraw)
      return this.treeValue.budgets.map((b) => ({
        gpuWatts: b.watts,
        otherWatts: b.fixedWatts,
        otherFrom: "nameplate",
      }));
    return this.treeValue.budgets.map((b) =>
      this.otherDraw.plan(b, this.efficiency, first, this.lastObservedMs),
    );
  }

  /**
   * Learns each metered level's other draw (meter after supply losses, less its GPUs' draw,
   * where every GPU under it reports one) and allocates again when that moves a level's GPU
   * watts by more than half a percent of its limit.
   */
  private learnOtherDraw(readings: PowerReadings, metered: readonly (number | undefined)[]): void {
    const tree = this.treeValue;
    this.lastObservedMs = readings.atMs;
    if (!this.measureOtherDraw) return;
    const draws = readings.gpuDrawWatts;
    if (draws && draws.size > 0) {
      const gpuSum = new Float64Array(tree.budgets.length);
      const reported = new Int32Array(tree.budgets.length);
      for (const slot of tree.gpus) {
        const w = draws.get(slot.id);
        if (w === undefined) continue;
        for (let b = slot.budget; b >= 0; b = tree.budgets[b]!.parent) {
          gpuSum[b]! += w;
          reported[b]!++;
        }
      }
      tree.budgets.forEach((b, k) => {
        const m = metered[k];
        if (m !== undefined && reported[k] === b.gpuCount)
          this.otherDraw.record(b.id, readings.atMs, m * this.efficiency - gpuSum[k]!);
      });
    }
    const next = this.plannedLevels();
    const moved = next.some(
      (p, k) => Math.abs(p.gpuWatts - (this.planned[k]?.gpuWatts ?? 0)) > 0.005 * tree.budgets[k]!.limitWatts,
    );
    if (!moved) return;
    try {
      this.reallocate();
    } catch {
      // More watts never make work fit less; keep the last allocation if it somehow does.
    }
  }

  /**
   * Watts no job gains from are not withheld: jobs stopped where their curve goes flat (decode
   * above its knee) share whatever the budgets still have, in a second pass that changes no other
   * cap. The objective is unchanged (those watts gain nothing by the model), but the GPUs keep
   * room for what the model does not see, such as prefill bursts, while power is plentiful.
   */
  private fillSlack(
    gpus: readonly GpuSlot[],
    budgets: readonly BudgetLimit[],
    first: Allocation,
  ): Float64Array {
    const flat = first.jobs.filter((j) => j.stoppedBy === "flat" && !j.id.startsWith(IDLE_PREFIX));
    if (flat.length === 0) return first.capWatts;
    const tree = this.treeValue;
    const open = new Uint8Array(gpus.length);
    const jobs: Job[] = flat.map((j) => {
      const ids = this.plans.get(j.id)!.job.gpus.filter((g) => !this.pinned.has(g));
      for (const g of ids) open[tree.gpuIndex.get(g)!] = 1;
      return { id: j.id, gpus: ids, tokensPerSecond: 1, curve: linear };
    });
    const fixed = gpus.map((slot, i) => {
      const cap = first.capWatts[i]!;
      return { ...slot, minWatts: cap, maxWatts: open[i] ? slot.maxWatts : cap };
    });
    return allocate({
      gpus: fixed,
      budgets,
      jobs,
      gpuIndex: tree.gpuIndex,
      stepWatts: this.stepWatts,
    }).capWatts;
  }

  /**
   * One safety pass over fresh readings: the caps every GPU should have now. Call once per
   * telemetry interval; the safety state carries between calls.
   */
  observe(readings: PowerReadings): ControlDecision {
    const tree = this.treeValue;
    // What the confirmed caps allow each level to draw at most: a meter read before the caps
    // took effect cannot show more than that, so a stale reading does not cut twice.
    const capBound = new Float64Array(tree.budgets.length);
    const applied = readings.appliedCapWatts;
    if (applied) {
      tree.gpus.forEach((slot) => {
        const w = applied.get(slot.id) ?? slot.maxWatts;
        for (let b = slot.budget; b >= 0; b = tree.budgets[b]!.parent) capBound[b]! += w;
      });
    }
    const metered: (number | undefined)[] = [];
    const levels: SafetyLevel[] = tree.budgets.map((b, k) => {
      let measured = this.measure(b.devices, b.limitWatts, readings.deviceWatts);
      metered.push(measured);
      if (applied && measured !== undefined) {
        const most = (capBound[k]! + b.fixedWatts) / this.efficiency;
        measured = Math.min(measured, most);
        // Its confirmed caps keep it under its limit: no cut is needed, whatever the thresholds
        // (the allocator fills budgets to their limit, above the first threshold).
        if (most <= b.limitWatts)
          measured = Math.min(measured, b.limitWatts * this.safetyConfig.firstThreshold * 0.999);
      }
      return {
        id: b.id,
        ...(b.parent >= 0 ? { parent: tree.budgets[b.parent]!.id } : {}),
        limitWatts: b.limitWatts,
        ...optional("measuredWatts", measured),
        fixedWatts: b.fixedWatts,
      };
    });
    this.learnOtherDraw(readings, metered);
    let top = 0;
    let lowest = 0;
    for (const job of this.jobs) {
      top = Math.max(top, job.priority ?? 0);
      lowest = Math.min(lowest, job.priority ?? 0);
    }
    const safetyGpus: SafetyGpu[] = [];
    tree.gpus.forEach((slot, i) => {
      if (slot.budget < 0) return;
      const jobId = this.jobOfGpu.get(slot.id);
      const priority =
        jobId === undefined ? top - lowest + 1 : top - (this.plans.get(jobId)!.job.priority ?? 0);
      const max = this.allocatedCap[i]!;
      const applied = readings.appliedCapWatts?.get(slot.id);
      const draw = readings.gpuDrawWatts?.get(slot.id);
      safetyGpus.push({
        id: slot.id,
        level: tree.budgets[slot.budget]!.id,
        priority,
        minWatts: Math.min(this.slots[i]!.minWatts, max),
        maxWatts: max,
        // Unconfirmed: at its worst, the GPU's true maximum.
        capWatts: applied ?? slot.maxWatts,
        ...(draw !== undefined ? { drawWatts: draw } : {}),
      });
    });
    const decision = decideSafety(
      this.safetyState,
      { atMs: readings.atMs, levels, gpus: safetyGpus },
      this.safetyConfig,
    );
    this.safetyState = decision.state;
    const capWatts = new Map<string, number>();
    tree.gpus.forEach((slot, i) => {
      capWatts.set(slot.id, decision.capWatts[slot.id] ?? this.allocatedCap[i]!);
    });
    const bands = new Map(decision.explanation.map((r) => [r.level, r]));
    const status = this.levelStatus(metered, bands);
    this.last = Object.freeze({ atMs: readings.atMs, capWatts, actions: decision.actions, levels: status });
    return this.last;
  }

  /** The levels with their allocation and, when observed, their last reading. */
  levels(): readonly LevelStatus[] {
    return this.last?.levels ?? this.levelStatus(undefined, new Map());
  }

  private levelStatus(
    metered: readonly (number | undefined)[] | undefined,
    bands: ReadonlyMap<string, SafetyLevelReport>,
  ): LevelStatus[] {
    const tree = this.treeValue;
    const alloc = this.allocation!;
    const allocated = new Float64Array(tree.budgets.length);
    tree.gpus.forEach((slot, i) => {
      for (let b = slot.budget; b >= 0; b = tree.budgets[b]!.parent) allocated[b]! += this.allocatedCap[i]!;
    });
    return tree.budgets.map((b, k) => {
      const draw = metered?.[k];
      const use = alloc.budgets[k]!;
      const report = bands.get(b.id);
      return {
        id: b.id,
        name: this.levelName(b.devices),
        parent: b.parent >= 0 ? tree.budgets[b.parent]!.id : null,
        limitWatts: b.limitWatts,
        gpuWatts: this.planned[k]!.gpuWatts,
        otherWatts: this.planned[k]!.otherWatts,
        otherFrom: this.planned[k]!.otherFrom,
        allocatedWatts: allocated[k]!,
        drawWatts: draw,
        headroomWatts: draw === undefined ? undefined : b.limitWatts - draw,
        binds: use.binds,
        marginalTokensPerJoule: use.marginalTokensPerJoule,
        gpuCount: b.gpuCount,
        ...(report ? { band: report.band } : {}),
      };
    });
  }

  /** A level for people: its tightest device of each side, `fpdu-a1 (A) / fpdu-b1 (B)`, or `facility`. */
  levelName(devices: readonly string[]): string {
    if (devices[0] === "facility") return "facility";
    const seen = new Set<string>();
    const names: string[] = [];
    for (const d of devices) {
      const e = this.build.graph.get(d);
      const side = e?.side ?? "";
      if (seen.has(side)) continue;
      seen.add(side);
      names.push(e ? (side ? `${e.name} (${side})` : e.name) : d);
    }
    return names.join(" / ");
  }

  /**
   * A level's measured node draw from its devices' meters. Devices of one side that constrain
   * the same nodes either chain (an upstream device carries the same load) or are siblings that
   * each carry part of every node (two rack PDUs per side): per side, the deepest devices' sum is
   * the side's load and the sides add up to the nodes' draw. A device loaded out of balance (a
   * failed PSU moves load to its other cords) is caught by its own reading scaled to the level.
   * Undefined when a needed reading is missing.
   */
  private measure(
    devices: readonly string[],
    limitWatts: number,
    readings: ReadonlyMap<string, number>,
  ): number | undefined {
    const { graph } = this.build;
    const bySide = new Map<string, { depth: number; sum: number; missing: boolean }>();
    let worstScaled = 0;
    let facility: number | undefined;
    for (const id of devices) {
      if (id === "facility") {
        facility = readings.get("facility") ?? this.feedsTotal(readings);
        continue;
      }
      const entity = graph.get(id);
      if (!entity) continue;
      const depth = this.depth(entity.index);
      const side = entity.side ?? "";
      const reading = readings.get(id);
      let group = bySide.get(side);
      if (!group || depth > group.depth) {
        group = { depth, sum: 0, missing: false };
        bySide.set(side, group);
      }
      if (depth === group.depth) {
        if (reading === undefined) group.missing = true;
        else group.sum += reading;
      }
      const limit = this.deviceLimit.get(id) ?? Number.POSITIVE_INFINITY;
      if (reading !== undefined && Number.isFinite(limit) && limit > 0)
        worstScaled = Math.max(worstScaled, (reading / limit) * limitWatts);
    }
    let total = 0;
    let known = bySide.size > 0;
    for (const g of bySide.values()) {
      if (g.missing) known = false;
      total += g.sum;
    }
    if (!known) return facility;
    return Math.max(total, worstScaled, facility ?? 0);
  }

  /** The sum of the top-level feeds' readings; undefined when any is missing. */
  private feedsTotal(readings: ReadonlyMap<string, number>): number | undefined {
    let sum = 0;
    for (const d of this.build.graph.ofKind("power")) {
      if (this.depth(d.index) !== 0) continue;
      const r = readings.get(d.id);
      if (r === undefined) return undefined;
      sum += r;
    }
    return sum;
  }

  private depthCache = new Map<number, number>();
  private depth(index: number): number {
    const cached = this.depthCache.get(index);
    if (cached !== undefined) return cached;
    const { offsets, items } = this.build.graph.rel.feedsUp;
    const up = offsets[index + 1]! > offsets[index]! ? items[offsets[index]!]! : -1;
    const d = up < 0 ? 0 : this.depth(up) + 1;
    this.depthCache.set(index, d);
    return d;
  }

  /** Why `gpu` has its cap; undefined for an unknown GPU. */
  explainGpu(gpu: string): GpuExplanation | undefined {
    const tree = this.treeValue;
    const i = tree.gpuIndex.get(gpu);
    if (i === undefined) return undefined;
    const slot = tree.gpus[i]!;
    const allocated = this.allocatedCap[i]!;
    const cap = this.last?.capWatts.get(gpu) ?? allocated;
    const jobId = this.jobOfGpu.get(gpu) ?? null;
    const plan = jobId === null ? undefined : this.plans.get(jobId);
    const allocJobId = jobId ?? IDLE_PREFIX + gpu;
    const ja = this.jobAllocation.get(allocJobId);
    const held = this.safetyState.held[gpu] ?? null;
    const profileCap = this.slots[i]!.maxWatts;
    const W = (w: number) => `${w.toFixed(0)} W`;
    let binding: GpuExplanation["binding"];
    let why: string;
    if (this.pinned.has(gpu)) {
      binding = { kind: "pinned" };
      why = "its cap cannot be confirmed on the device, so it is counted at its maximum draw";
    } else if (held && held.capWatts < allocated) {
      binding = { kind: "safety", ...(held.reason.level ? { level: held.reason.level } : {}) };
      why = `the safety loop holds it: ${held.reason.text}`;
    } else if (ja?.stoppedBy === "budget" && ja.blockedBy >= 0) {
      const b = tree.budgets[ja.blockedBy]!;
      binding = { kind: "budget", level: b.id, name: this.levelName(b.devices) };
      const p = this.planned[ja.blockedBy]!;
      const other = p.otherFrom === "meters" ? "measured" : "nameplate";
      why = `budget ${this.levelName(b.devices)} is fully allocated (${W(p.gpuWatts)} for its GPUs, ${W(p.otherWatts)} ${other} other draw)`;
    } else if (ja?.stoppedBy === "max" && profileCap < slot.maxWatts) {
      binding = { kind: "profile" };
      why = `its profile ${plan?.profile?.name ?? ""} caps it at ${W(profileCap)}`;
    } else if (ja?.stoppedBy === "flat") {
      binding = { kind: "no-gain" };
      why =
        allocated > ja.capWatts
          ? `more watts would not raise its job's throughput above ${W(ja.capWatts)}; it has what no other job gains from`
          : "more watts would not raise its job's throughput";
    } else {
      binding = { kind: "maximum" };
      why = "it is at its maximum";
    }
    const priority = plan ? (plan.job.priority ?? 0) : null;
    let marginal = 0;
    if (ja && ja.blockedBy >= 0) marginal = this.allocation!.budgets[ja.blockedBy]!.marginalTokensPerJoule;
    const profile = plan?.profile
      ? {
          name: plan.profile.name,
          capWatts: plan.profile.capWatts.value,
          source: plan.profile.capWatts.source,
          reason: plan.resolution?.reason ?? "default",
        }
      : null;
    const who = jobId ? `job ${jobId}${priority !== null ? ` (priority ${priority})` : ""}` : "no known job";
    return {
      gpu,
      capWatts: cap,
      allocatedWatts: allocated,
      minWatts: slot.minWatts,
      maxWatts: slot.maxWatts,
      job: jobId,
      priority,
      profile,
      binding,
      marginalTokensPerJoule: marginal,
      safety: held,
      text: `${gpu} (${who}) is capped at ${W(cap)} of ${W(slot.minWatts)}–${W(slot.maxWatts)}: ${why}.`,
    };
  }
}
