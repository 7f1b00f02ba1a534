/**
 * The twin's workload manager and its jobs: a scenario's training jobs and inference services
 * arrive, get whole nodes (first-fit, or from a Kubernetes scheduler extender), run, and drive
 * their GPUs' utilization and compute share, which the physics turns into watts; the physics'
 * speed of each GPU (its cap, heat and faults) feeds back into how fast the jobs go.
 *
 * - Training is synchronous: a step takes as long as its slowest GPU's compute plus the
 *   collective communication, which slows when a leaf switch under the job is degraded or a GPU's
 *   NVLinks fail. Tokens count when a step completes (global batch tokens per step).
 * - Inference replicas batch continuously (vLLM): each scheduler iteration prefills admitted
 *   prompts (chunked, compute-bound) and decodes one token for every running sequence
 *   (memory-bound); requests come from the Azure LLM trace or a synthetic stream.
 *
 * Sources and assumptions are in docs/twin.md.
 */
import { type FaultKind, injectFault, LEAF_DEGRADED_BANDWIDTH } from "./faults.ts";
import { hung, kvCapacityTokens, type Sequence, stepReplica } from "./inference.ts";
import type { JobSpec, Scenario, ScenarioFault } from "./scenario.ts";
import { type FactoryState, PROFILE_MAX_P, PROFILE_MAX_Q, setGpuProfile } from "./state.ts";
import { nodesUnderLeaves } from "./topology.ts";
import { type Arrival, type ArrivalStream, readAzureTrace, syntheticStream, traceStream } from "./trace.ts";
import { WORK_IDLE, WORK_JOB } from "./workload.ts";

/** Where a job is in its life. */
export type JobPhase = "waiting" | "running" | "finished";

/** Model FLOPs utilization of training at full speed: Llama 3 405B reached 38–43% on H100 (Meta, 2024). */
export const DEFAULT_MFU = 0.4;
/** Share of a step in collective communication at full speed (assumption for 3D-parallel training). */
export const DEFAULT_COMM_SHARE = 0.15;
/** How much slower collectives run when a GPU's NVLinks are failing (Xid 74; assumption). */
export const NVLINK_FAILING_COMM_SLOWDOWN = 2;
/** Utilization DCGM shows on a training GPU that never waits: kernels run nearly all the time. */
export const TRAINING_BUSY_UTILIZATION = 0.98;
/** What a replica has done, for its exporter and the ground truth. */
export interface ReplicaCounters {
  promptTokens: number;
  generatedTokens: number;
  requestsFinished: number;
  requestsArrived: number;
  /** Requests turned away because the replica's queue was full (the balancer's 503). */
  requestsRejected: number;
}

/** A finished request, as a model server would account for it. */
export interface FinishedRequest {
  promptTokens: number;
  generatedTokens: number;
  queueSeconds: number;
  ttftSeconds: number;
  e2eSeconds: number;
  prefillSeconds: number;
  decodeSeconds: number;
}

/** Hooks a replica's exporter hangs on the replica (see exporters/vllm.ts). */
export interface ReplicaObserver {
  iteration(promptTokens: number, generatedTokens: number): void;
  finished(request: FinishedRequest): void;
  load(running: number, waiting: number, kvCacheUsage: number): void;
}

/** One model server process (a vLLM replica) on whole nodes. */
export interface Replica {
  /** `SERVICE-N`: its name on the twin's listener. */
  name: string;
  service: JobRuntime;
  nodes: number[];
  gpus: number[];
  waiting: Arrival[];
  running: Sequence[];
  kvTokensUsed: number;
  kvTokensCapacity: number;
  /** Sim time the scheduler has run to: an iteration may end past a tick's end. */
  clockSeconds: number;
  counters: ReplicaCounters;
  observer?: ReplicaObserver;
}

/** A job as the twin runs it. */
export interface JobRuntime {
  spec: JobSpec;
  phase: JobPhase;
  /** Why it waits (no room, extender refusal), while it waits. */
  reason?: string;
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
  nodes: number[];
  gpus: number[];
  /** Σ energy of its GPUs while it ran, joules. */
  gpuEnergyJoules: number;
  /** Training: completed steps, tokens, the step time now and the time spent stalled. */
  steps: number;
  trainingTokens: number;
  stepSeconds: number;
  stepProgress: number;
  stalledSeconds: number;
  /** Inference: its replicas and the request stream feeding them round-robin. */
  replicas: Replica[];
  stream?: ArrivalStream;
  nextReplica: number;
}

/** Decides which nodes a job gets; null when it must wait (with the reason). */
export interface Placer {
  /**
   * Picks `count` nodes among `candidates` (node slots, in first-fit order) for one unit of a job
   * (the whole training job, or one replica). May answer later (a remote extender).
   */
  place(
    job: JobRuntime,
    unit: string,
    candidates: Int32Array,
    count: number,
  ): PlacementAnswer | Promise<PlacementAnswer>;
}

export type PlacementAnswer = { nodes: number[] } | { reason: string };

/** The workload manager's state. */
export interface JobEngine {
  jobs: JobRuntime[];
  byName: Map<string, JobRuntime>;
  replicasByName: Map<string, Replica>;
  /** Node slot → job holding it. */
  nodeOwner: (JobRuntime | undefined)[];
  faults: ScenarioFault[];
  nextFault: number;
  placer: Placer;
  /** Placements asked of a remote placer and not yet answered, by job name. */
  inFlight: Set<string>;
  /** Errors of remote placement, newest last (bounded). */
  placementErrors: string[];
  /** Scenario faults the state refused when their time came. */
  faultErrors: string[];
  /** Called when a replica starts (to hang its exporter on it). */
  onReplica?: (replica: Replica) => void;
  seed: number;
}

/** Places on the first free nodes in slot order (the default, and deterministic). */
export const firstFit: Placer = {
  place(_job, _unit, candidates, count) {
    return candidates.length >= count
      ? { nodes: Array.from(candidates.subarray(0, count)) }
      : { reason: `needs ${count} free node(s), ${candidates.length} fit` };
  },
};

/** A job engine for a scenario; the state must have been created without synthetic load. */
export function createJobEngine(
  state: FactoryState,
  scenario: Scenario,
  placer: Placer = firstFit,
): JobEngine {
  const jobs = (scenario.jobs ?? []).map(
    (spec): JobRuntime => ({
      spec,
      phase: "waiting",
      reason: "not yet submitted",
      submittedAt: spec.at ?? 0,
      nodes: [],
      gpus: [],
      gpuEnergyJoules: 0,
      steps: 0,
      trainingTokens: 0,
      stepSeconds: 0,
      stepProgress: 0,
      stalledSeconds: 0,
      replicas: [],
      nextReplica: 0,
    }),
  );
  return {
    jobs,
    byName: new Map(jobs.map((j) => [j.spec.name, j])),
    replicasByName: new Map(),
    nodeOwner: new Array(state.topo.nodeCount).fill(undefined),
    faults: [...(scenario.faults ?? [])].sort((a, b) => a.at - b.at),
    nextFault: 0,
    placer,
    inFlight: new Set(),
    placementErrors: [],
    faultErrors: [],
    seed: state.seed,
  };
}

/**
 * Advances the jobs by `dtSeconds` from `state.timeSeconds` (call before `tick`): injects the
 * scenario's faults that are due, places waiting jobs, finishes those whose time is up, and runs
 * every running job, writing its GPUs' utilization and compute share.
 */
export function stepJobs(engine: JobEngine, state: FactoryState, dtSeconds: number): void {
  const now = state.timeSeconds;
  while (engine.nextFault < engine.faults.length && engine.faults[engine.nextFault]!.at <= now) {
    const f = engine.faults[engine.nextFault++]!;
    try {
      injectFault(state, {
        kind: f.kind as FaultKind,
        target: f.target,
        ...(f.durationSeconds !== undefined ? { durationSeconds: f.durationSeconds } : {}),
      });
    } catch (err) {
      // A fault the state refuses now (a GPU already off the bus) is recorded, not fatal.
      engine.faultErrors.push(`at ${now} s, ${f.kind} on ${f.target}: ${(err as Error).message}`);
    }
  }
  for (const job of engine.jobs) {
    if (job.phase === "waiting" && job.submittedAt <= now) tryPlace(engine, state, job);
    if (job.phase !== "running") continue;
    const duration = job.spec.durationSeconds;
    if (duration !== undefined && now >= job.startedAt! + duration) {
      finish(engine, state, job);
      continue;
    }
    if (job.spec.type === "training") stepTraining(state, job, dtSeconds);
    else for (const r of job.replicas) stepReplica(state, r, now, dtSeconds);
  }
}

/** Adds each running job's GPU energy of the tick just taken (call after `tick`). */
export function accountEnergy(engine: JobEngine, state: FactoryState, dtSeconds: number): void {
  const watts = state.gpu.powerWatts;
  for (const job of engine.jobs) {
    if (job.phase !== "running") continue;
    let sum = 0;
    for (const g of job.gpus) sum += watts[g]!;
    job.gpuEnergyJoules += sum * dtSeconds;
  }
}

/** Nodes a job may take now: free, powered, every GPU on the bus, in the job's org's racks. */
export function candidateNodes(engine: JobEngine, state: FactoryState, job: JobRuntime): number[] {
  const { topo, faults } = state;
  const out: number[] = [];
  for (let n = 0; n < topo.nodeCount; n++) {
    const start = topo.nodeGpuStart[n]!;
    const end = topo.nodeGpuStart[n + 1]!;
    if (end === start || engine.nodeOwner[n] || faults.nodeUnpowered[n] === 1) continue;
    if (job.spec.org !== undefined && topo.graph.orgOf(topo.nodeEntity[n]!) !== job.spec.org) continue;
    let healthy = true;
    for (let g = start; g < end; g++) if (faults.offBus[g]! > 0) healthy = false;
    if (healthy) out.push(n);
  }
  return out;
}

/** Units of a job: the training job as one unit, or each replica of a service. */
function units(
  state: FactoryState,
  job: JobRuntime,
  candidates: number[],
): { name: string; count: number }[] {
  const gpusPerNode = candidates.length > 0 ? nodeGpus(state, candidates[0]!) : 8;
  if (job.spec.type === "training")
    return [{ name: job.spec.name, count: Math.ceil(job.spec.gpus / gpusPerNode) }];
  const per = Math.ceil(job.spec.gpusPerReplica / gpusPerNode);
  return Array.from({ length: job.spec.replicas }, (_, i) => ({ name: `${job.spec.name}-${i}`, count: per }));
}

const nodeGpus = (state: FactoryState, n: number) =>
  state.topo.nodeGpuStart[n + 1]! - state.topo.nodeGpuStart[n]!;

function tryPlace(engine: JobEngine, state: FactoryState, job: JobRuntime): void {
  if (engine.inFlight.has(job.spec.name)) return;
  const candidates = candidateNodes(engine, state, job);
  const all = units(state, job, candidates);
  const chosen: number[][] = [];
  // What is left for the next unit: the nodes a placer took drop out. First fit takes a prefix,
  // which drops out as a view without copying (3,000 replicas on 18,000 nodes place in one pass).
  let left = Int32Array.from(candidates);
  const placeFrom = (i: number): PlacementAnswer | Promise<PlacementAnswer> => {
    if (i === all.length) return { nodes: chosen.flat() };
    const unit = all[i]!;
    const answer = engine.placer.place(job, unit.name, left, unit.count);
    const next = (a: PlacementAnswer): PlacementAnswer | Promise<PlacementAnswer> => {
      if ("reason" in a) return a;
      const prefix = a.nodes.every((n, k) => left[k] === n);
      if (prefix) left = left.subarray(a.nodes.length);
      else {
        const taken = new Set(a.nodes);
        left = left.filter((n) => !taken.has(n));
      }
      chosen.push(a.nodes);
      return placeFrom(i + 1);
    };
    return answer instanceof Promise ? answer.then(next) : next(answer);
  };
  const result = placeFrom(0);
  if (!(result instanceof Promise)) {
    applyPlacement(engine, state, job, result, chosen);
    return;
  }
  engine.inFlight.add(job.spec.name);
  result.then(
    (answer) => {
      engine.inFlight.delete(job.spec.name);
      // Nodes may have been taken or failed while the extender thought: check again.
      const stillFree = new Set(candidateNodes(engine, state, job));
      if ("nodes" in answer && answer.nodes.some((n) => !stillFree.has(n)))
        job.reason = "placement went stale while the extender answered";
      else applyPlacement(engine, state, job, answer, chosen);
    },
    (err: Error) => {
      engine.inFlight.delete(job.spec.name);
      job.reason = `placement failed: ${err.message}`;
      engine.placementErrors.push(`${job.spec.name}: ${err.message}`);
      if (engine.placementErrors.length > 100) engine.placementErrors.shift();
    },
  );
}

function applyPlacement(
  engine: JobEngine,
  state: FactoryState,
  job: JobRuntime,
  answer: PlacementAnswer,
  perUnit: number[][],
): void {
  if ("reason" in answer) {
    job.reason = answer.reason;
    return;
  }
  const { topo, workload } = state;
  job.phase = "running";
  delete job.reason;
  job.startedAt = state.timeSeconds;
  job.nodes = answer.nodes;
  job.gpus = [];
  const profile = job.spec.profile === "max-q" ? PROFILE_MAX_Q : PROFILE_MAX_P;
  for (const n of job.nodes) {
    engine.nodeOwner[n] = job;
    for (let g = topo.nodeGpuStart[n]!; g < topo.nodeGpuStart[n + 1]!; g++) {
      job.gpus.push(g);
      workload.kind[g] = WORK_JOB;
      workload.computeShare[g] = job.spec.type === "training" ? 1 : 0;
      state.gpu.utilization[g] = 0;
      setGpuProfile(state, g, profile);
    }
  }
  if (job.spec.type === "inference") {
    const spec = job.spec;
    const start = state.timeSeconds;
    job.stream =
      "trace" in spec.requests
        ? traceStream(readAzureTrace(spec.requests.trace.file), start, spec.requests.trace.rateScale ?? 1)
        : syntheticStream(
            start,
            spec.requests.synthetic.requestsPerSecond,
            spec.requests.synthetic.promptTokensMean,
            spec.requests.synthetic.generatedTokensMean,
            engine.seed * 1_000_003 + engine.jobs.indexOf(job),
          );
    job.replicas = perUnit.map((nodes, i) => {
      const gpus: number[] = [];
      for (const n of nodes)
        for (let g = topo.nodeGpuStart[n]!; g < topo.nodeGpuStart[n + 1]!; g++) gpus.push(g);
      const replica: Replica = {
        name: `${spec.name}-${i}`,
        service: job,
        nodes,
        gpus: gpus.slice(0, spec.gpusPerReplica),
        waiting: [],
        running: [],
        kvTokensUsed: 0,
        clockSeconds: state.timeSeconds,
        kvTokensCapacity: kvCapacityTokens(state, gpus.slice(0, spec.gpusPerReplica), job),
        counters: {
          promptTokens: 0,
          generatedTokens: 0,
          requestsFinished: 0,
          requestsArrived: 0,
          requestsRejected: 0,
        },
      };
      engine.replicasByName.set(replica.name, replica);
      engine.onReplica?.(replica);
      return replica;
    });
  }
}

function finish(engine: JobEngine, state: FactoryState, job: JobRuntime): void {
  job.phase = "finished";
  job.finishedAt = state.timeSeconds;
  for (const n of job.nodes) engine.nodeOwner[n] = undefined;
  for (const g of job.gpus) {
    state.workload.kind[g] = WORK_IDLE;
    state.workload.computeShare[g] = 0;
    state.gpu.utilization[g] = 0;
    setGpuProfile(state, g, PROFILE_MAX_P);
  }
  // The replicas' processes are gone: their pages answer 404 and their queues are dropped.
  for (const r of job.replicas) {
    engine.replicasByName.delete(r.name);
    r.waiting = [];
    r.running = [];
  }
}

/** How many times slower the job's collectives run now: degraded leaves and failing NVLinks. */
function commSlowdown(state: FactoryState, job: JobRuntime): number {
  let slow = 1;
  const leaves = state.faults.leafDegraded;
  if (leaves.size > 0) {
    const under = nodesUnderLeaves(state.topo);
    for (const leaf of leaves.keys()) {
      const nodes = under.get(leaf);
      if (nodes && job.nodes.some((n) => nodes.includes(n)))
        slow = Math.max(slow, 1 / LEAF_DEGRADED_BANDWIDTH);
    }
  }
  const failing = state.faults.nvlinkFailing;
  for (const g of job.gpus) if (failing[g]! > 0) slow = Math.max(slow, NVLINK_FAILING_COMM_SLOWDOWN);
  return slow;
}

/** A training step's duration at full speed: 6 × parameters × tokens FLOPs over the GPUs' dense peak × MFU. */
export function idealStepSeconds(state: FactoryState, job: JobRuntime): number {
  if (job.spec.type !== "training") return 0;
  let flops = 0;
  for (const g of job.gpus) flops += state.topo.models[state.topo.gpuModel[g]!]!.info.denseBf16Flops;
  const mfu = job.spec.mfu ?? DEFAULT_MFU;
  return (6 * job.spec.model.parameters * job.spec.globalBatchTokens) / (flops * mfu);
}

function stepTraining(state: FactoryState, job: JobRuntime, dt: number): void {
  if (job.spec.type !== "training") return;
  const { utilization, throughputRel } = state.gpu;
  if (hung(state, job.gpus)) {
    // A collective waits forever for the lost rank: no progress, the GPUs go quiet.
    for (const g of job.gpus) utilization[g] = 0;
    job.stalledSeconds += dt;
    return;
  }
  const ideal = idealStepSeconds(state, job);
  const comm = job.spec.commShare ?? DEFAULT_COMM_SHARE;
  let slowest = 1;
  for (const g of job.gpus) slowest = Math.min(slowest, throughputRel[g]!);
  slowest = Math.max(slowest, 1e-3);
  const commSeconds = ideal * comm * commSlowdown(state, job);
  const step = (ideal * (1 - comm)) / slowest + commSeconds;
  job.stepSeconds = step;
  // Each GPU computes at its own speed, then waits at the collective for the slowest one.
  for (const g of job.gpus) {
    const own = (ideal * (1 - comm)) / Math.max(throughputRel[g]!, 1e-3) + commSeconds;
    utilization[g] = TRAINING_BUSY_UTILIZATION * Math.min(1, own / step);
  }
  job.stepProgress += dt / step;
  const done = Math.floor(job.stepProgress);
  if (done > 0) {
    job.stepProgress -= done;
    job.steps += done;
    job.trainingTokens += done * job.spec.globalBatchTokens;
    const share = (done * job.spec.globalBatchTokens) / job.gpus.length;
    for (const g of job.gpus) state.gpu.trainingTokens[g]! += share;
  }
}

/** What the ground truth reports of a job. */
export interface JobTruth {
  name: string;
  type: "training" | "inference";
  phase: JobPhase;
  reason?: string;
  org?: string;
  model: string;
  nodes: string[];
  gpuCount: number;
  startedAtSeconds?: number;
  finishedAtSeconds?: number;
  gpuEnergyJoules: number;
  /** Training: completed steps and their tokens; the current step time; time hung on a fault. */
  steps?: number;
  trainingTokens?: number;
  stepSeconds?: number;
  stalledSeconds?: number;
  /** Inference: tokens prefilled and generated, requests, per replica too. */
  promptTokens?: number;
  generatedTokens?: number;
  requestsFinished?: number;
  replicas?: ({ name: string; nodes: string[] } & ReplicaCounters)[];
}

/** The jobs as the ground truth lists them. */
export function jobsTruth(engine: JobEngine, state: FactoryState): JobTruth[] {
  const names = state.topo.nodeNames;
  return engine.jobs.map((job) => {
    const base: JobTruth = {
      name: job.spec.name,
      type: job.spec.type,
      phase: job.phase,
      ...(job.reason !== undefined ? { reason: job.reason } : {}),
      ...(job.spec.org !== undefined ? { org: job.spec.org } : {}),
      model: job.spec.model.name,
      nodes: job.nodes.map((n) => names[n]!),
      gpuCount: job.gpus.length,
      ...(job.startedAt !== undefined ? { startedAtSeconds: job.startedAt } : {}),
      ...(job.finishedAt !== undefined ? { finishedAtSeconds: job.finishedAt } : {}),
      gpuEnergyJoules: job.gpuEnergyJoules,
    };
    if (job.spec.type === "training")
      return {
        ...base,
        steps: job.steps,
        trainingTokens: job.trainingTokens,
        stepSeconds: job.stepSeconds,
        stalledSeconds: job.stalledSeconds,
      };
    const replicas = job.replicas.map((r) => ({
      name: r.name,
      nodes: r.nodes.map((n) => names[n]!),
      ...r.counters,
    }));
    return {
      ...base,
      promptTokens: replicas.reduce((s, r) => s + r.promptTokens, 0),
      generatedTokens: replicas.reduce((s, r) => s + r.generatedTokens, 0),
      requestsFinished: replicas.reduce((s, r) => s + r.requestsFinished, 0),
      replicas,
    };
  });
}
