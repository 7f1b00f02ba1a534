/**
 * One run of the power outcome bench: a fresh twin of the bench factory, the same seed and
 * workload, one policy under one facility budget, in 1 s ticks over the horizon.
 */
import type { BuildResult } from "@flightdeck/model";
import { type ControlledJob, deriveBudgets } from "@flightdeck/power";
import {
  advance,
  createJobEngine,
  createState,
  type FactoryState,
  type JobEngine,
  type JobRuntime,
} from "@flightdeck/sim";
import { facilityWatts, LimitWatch, levelsOf } from "./power-outcome-levels.ts";
import { CapLine, createPolicy, type FlightdeckVariant, type PolicyName } from "./power-outcome-policies.ts";
import { benchFactory, benchScenario } from "./power-outcome-world.ts";

export const TICK_SECONDS = 1;
export const SEED = 1;

export interface RunOptions {
  racks: number;
  horizonSeconds: number;
  policy: PolicyName;
  /** Facility budget at the feeds, watts; none for the unconstrained run. */
  budgetWatts?: number;
  /** Tokens/s per controlled job at full power (the unconstrained run's), for the controller's weights. */
  weights?: ReadonlyMap<string, number>;
  variant?: FlightdeckVariant;
}

export interface RunResult {
  tokens: number;
  /** Energy into the feeds, joules. */
  facilityJoules: number;
  peakFacilityWatts: number;
  secondsOverLimit: number;
  worstReactionSeconds: number;
  /** Tokens/s of every controlled job (training job or replica) over the time it ran. */
  jobRates: Map<string, number>;
}

const worlds = new Map<number, BuildResult>();
function world(racks: number): BuildResult {
  let build = worlds.get(racks);
  if (!build) {
    build = benchFactory(racks);
    worlds.set(racks, build);
  }
  return build;
}

/**
 * The jobs as the control plane admits them: a training job, or each inference replica, with
 * its GPUs. Job k of the scenario holds rack k; replica i its node i (the twin's first fit does
 * the same, which `checkPlacement` confirms once the jobs run).
 */
export function admittedJobs(
  build: BuildResult,
  racks: number,
  weights?: ReadonlyMap<string, number>,
): ControlledJob[] {
  const scenario = benchScenario(racks);
  const nodesOfRack = (r: number) => {
    const rack = build.graph.ofKind("rack")[r]!;
    return build.graph.ofKind("node").filter((n) => build.graph.enclosing(n.index, "rack")?.id === rack.id);
  };
  const gpusOf = (node: { index: number }) => {
    const { offsets, items } = build.graph.rel.children;
    const out: string[] = [];
    for (let k = offsets[node.index]!; k < offsets[node.index + 1]!; k++) {
      const e = build.graph.at(items[k]!);
      if (e.kind === "gpu") out.push(e.id);
    }
    return out;
  };
  const jobs: ControlledJob[] = [];
  (scenario.jobs ?? []).forEach((spec, r) => {
    const nodes = nodesOfRack(r);
    const priority = -(spec.priority ?? 0);
    const weight = (id: string) => {
      const w = weights?.get(id);
      return w !== undefined && w > 0 ? { tokensPerSecond: w } : {};
    };
    if (spec.type === "training")
      jobs.push({
        id: spec.name,
        kind: "training",
        priority,
        gpus: nodes.flatMap(gpusOf),
        ...(spec.profile ? { profile: spec.profile } : {}),
        ...weight(spec.name),
      });
    else
      nodes.forEach((node, i) => {
        const id = `${spec.name}-${i}`;
        jobs.push({
          id,
          kind: "inference",
          priority,
          gpus: gpusOf(node),
          ...(spec.profile ? { profile: spec.profile } : {}),
          ...weight(id),
        });
      });
  });
  return jobs;
}

/** Throws when the twin placed a job elsewhere than the control plane admitted it. */
function checkPlacement(
  build: BuildResult,
  state: FactoryState,
  engine: JobEngine,
  jobs: readonly ControlledJob[],
): void {
  const placed = new Map<string, string>();
  const key = (gpus: number[]) =>
    gpus
      .map((g) => build.graph.at(state.topo.gpuEntity[g]!).id)
      .sort()
      .join(",");
  for (const job of engine.jobs) {
    if (job.spec.type === "training") placed.set(job.spec.name, key(job.gpus));
    else for (const r of job.replicas) placed.set(r.name, key(r.gpus));
  }
  for (const j of jobs)
    if (placed.get(j.id) !== [...j.gpus].sort().join(","))
      throw new Error(`job ${j.id} runs on other GPUs in the twin than admitted`);
}

/** Runs one policy under one budget and measures it. */
export function runOnce(options: RunOptions): RunResult {
  const { racks, horizonSeconds } = options;
  const build = world(racks);
  const state = createState(build.graph, build.catalog, { seed: SEED, workload: { synthetic: false } });
  const engine = createJobEngine(state, benchScenario(racks));
  const caps = new CapLine(state);
  const jobs = admittedJobs(build, racks, options.weights);
  const budgetWatts = options.budgetWatts ?? Number.POSITIVE_INFINITY;
  const tree = deriveBudgets(build, Number.isFinite(budgetWatts) ? { facility: { watts: budgetWatts } } : {});
  const watch = new LimitWatch(levelsOf(build, tree, state));
  const ctx = { build, state, engine, caps, budgetWatts, jobs };
  const policy = createPolicy(options.policy, ctx, options.variant);
  policy.step(ctx);
  let peak = 0;
  let joules = 0;
  let checked = false;
  while (state.timeSeconds < horizonSeconds) {
    caps.applyDue();
    advance(state, engine, TICK_SECONDS);
    const site = facilityWatts(state);
    peak = Math.max(peak, site);
    joules += site * TICK_SECONDS;
    watch.observe(state, state.timeSeconds, TICK_SECONDS);
    if (!checked && engine.jobs.every((j) => j.phase === "running")) {
      checkPlacement(build, state, engine, jobs);
      checked = true;
    }
    policy.step(ctx);
  }
  watch.finish(state.timeSeconds);
  return {
    tokens: tokensOf(engine),
    facilityJoules: joules,
    peakFacilityWatts: peak,
    secondsOverLimit: watch.secondsOver,
    worstReactionSeconds: watch.worstReactionSeconds,
    jobRates: jobRates(engine, state.timeSeconds),
  };
}

/**
 * Every token the factory produced: training tokens (the step under way counts in proportion,
 * so a run's end does not round a job down to its last whole step), prompt tokens prefilled,
 * tokens generated.
 */
function tokensOf(engine: JobEngine): number {
  let sum = 0;
  for (const job of engine.jobs) {
    sum += trainingTokens(job);
    for (const r of job.replicas) sum += r.counters.promptTokens + r.counters.generatedTokens;
  }
  return sum;
}

function jobRates(engine: JobEngine, now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const job of engine.jobs) {
    const ran = now - (job.startedAt ?? now);
    if (ran <= 0) continue;
    if (job.spec.type === "training") out.set(job.spec.name, trainingTokens(job) / ran);
    else
      for (const r of job.replicas)
        out.set(r.name, (r.counters.promptTokens + r.counters.generatedTokens) / ran);
  }
  return out;
}

function trainingTokens(job: JobRuntime): number {
  return job.spec.type === "training"
    ? job.trainingTokens + job.stepProgress * job.spec.globalBatchTokens
    : 0;
}
