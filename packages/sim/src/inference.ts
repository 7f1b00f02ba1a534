/**
 * Inference replicas of the twin: vLLM's continuous batching over a replica's own clock. Each
 * scheduler iteration prefills admitted prompts (chunked, compute-bound) and decodes one token
 * for every running sequence (memory-bound); iterations of pure decode between two events are
 * taken together. Sources and assumptions are in docs/twin.md.
 */
import type { JobRuntime, Replica } from "./jobs.ts";
import type { FactoryState } from "./state.ts";
import type { Arrival } from "./trace.ts";

/** Prefill runs at this share of dense tensor peak (assumption: large-batch GEMMs). */
export const PREFILL_MFU = 0.5;
/** Decode reaches this share of HBM bandwidth (assumption). */
export const DECODE_BANDWIDTH_EFFICIENCY = 0.8;
/** Fixed cost of one scheduler iteration: kernel launches, sampling, scheduling (assumption). */
export const ITERATION_OVERHEAD_SECONDS = 0.002;
/** Prompt tokens one iteration prefills at most (vLLM chunked prefill `max_num_batched_tokens`). */
export const MAX_BATCHED_TOKENS = 8192;
/** Weights in BF16: two bytes per parameter. */
const BYTES_PER_PARAMETER = 2;
/** GPU memory vLLM may use (its default `gpu_memory_utilization`). */
const GPU_MEMORY_UTILIZATION = 0.9;
/** KV cache bytes per token of Llama 3 70B: 80 layers × 8 KV heads × 128 dims × K and V × 2 bytes. */
const LLAMA3_70B_KV_BYTES_PER_TOKEN = 327_680;
/** vLLM's KV block size in tokens. */
export const KV_BLOCK_TOKENS = 16;

/** Requests a replica holds waiting before its balancer turns new ones away. */
export const MAX_WAITING_REQUESTS = 10_000;

/** A request inside a replica. */
export interface Sequence {
  arrival: Arrival;
  /** Sim time it was admitted into the running batch. */
  admittedAt: number;
  prefillLeft: number;
  /** Tokens generated so far. */
  generated: number;
  firstTokenAt: number;
  /** Sim time its prefill finished (its first token). */
  prefillDoneAt: number;
}

/** The KV cache bytes per token of the job's model: given, or scaled from Llama 3 70B by √size. */
function kvBytesPerToken(job: JobRuntime): number {
  const m = job.spec.model;
  return m.kvBytesPerToken ?? LLAMA3_70B_KV_BYTES_PER_TOKEN * Math.sqrt(m.parameters / 70e9);
}

/** Tokens of KV cache a replica holds: the memory vLLM may use, less the weights. */
export function kvCapacityTokens(state: FactoryState, gpus: number[], job: JobRuntime): number {
  let bytes = 0;
  for (const g of gpus) bytes += state.topo.models[state.topo.gpuModel[g]!]!.spec.memoryGB * 1e9;
  const free = bytes * GPU_MEMORY_UTILIZATION - job.spec.model.parameters * BYTES_PER_PARAMETER;
  const tokens = Math.floor(free / kvBytesPerToken(job) / KV_BLOCK_TOKENS) * KV_BLOCK_TOKENS;
  return Math.max(0, tokens);
}

/** Whether any of the job's GPUs is off the bus or without power: a synchronous job hangs. */
export function hung(state: FactoryState, gpus: number[]): boolean {
  const { offBus, nodeUnpowered } = state.faults;
  const gpuNode = state.topo.gpuNode;
  for (const g of gpus) if (offBus[g]! > 0 || nodeUnpowered[gpuNode[g]!] === 1) return true;
  return false;
}

/** Prompt tokens per second a replica prefills at full speed. */
function prefillTokensPerSecond(state: FactoryState, replica: Replica): number {
  let flops = 0;
  for (const g of replica.gpus) flops += state.topo.models[state.topo.gpuModel[g]!]!.info.denseBf16Flops;
  return (flops * PREFILL_MFU) / (2 * replica.service.spec.model.parameters);
}

/** One decode iteration's memory time: the weights once, plus every running sequence's KV cache. */
function decodeSeconds(state: FactoryState, replica: Replica, contextTokens: number): number {
  let bandwidth = 0;
  for (const g of replica.gpus)
    bandwidth += state.topo.models[state.topo.gpuModel[g]!]!.info.hbmBytesPerSecond;
  const bytes =
    replica.service.spec.model.parameters * BYTES_PER_PARAMETER +
    contextTokens * kvBytesPerToken(replica.service);
  return bytes / (bandwidth * DECODE_BANDWIDTH_EFFICIENCY);
}

/**
 * Runs a replica's scheduler over [now, now + dt): arrivals join the queue, the queue is admitted
 * while the batch and KV cache have room, and each iteration prefills up to MAX_BATCHED_TOKENS
 * prompt tokens and decodes one token per running sequence. Iterations of pure decode with no
 * arrival or completion between them are taken together.
 */
export function stepReplica(state: FactoryState, replica: Replica, now: number, dt: number): void {
  const job = replica.service;
  if (job.spec.type !== "inference") return;
  const maxSeqs = job.spec.maxNumSeqs ?? 256;
  const { utilization, throughputRel } = state.gpu;
  const stream = job.stream!;
  const end = now + dt;
  // The load balancer hands this tick's arrivals to the replicas in turn.
  if (replica === job.replicas[0]) {
    while (stream.peek().atSeconds < end) {
      const target = job.replicas[job.nextReplica++ % job.replicas.length]!;
      const request = stream.take();
      target.counters.requestsArrived++;
      if (target.waiting.length >= MAX_WAITING_REQUESTS) target.counters.requestsRejected++;
      else target.waiting.push(request);
    }
  }
  if (hung(state, replica.gpus)) {
    for (const g of replica.gpus) utilization[g] = 0;
    replica.observer?.load(replica.running.length, replica.waiting.length, kvUsage(replica));
    return;
  }
  let speed = 1;
  for (const g of replica.gpus) speed = Math.min(speed, throughputRel[g]!);
  speed = Math.max(speed, 1e-3);
  const prefillRate = prefillTokensPerSecond(state, replica) * speed;
  let t = Math.max(now, replica.clockSeconds);
  const promptBefore = replica.counters.promptTokens;
  const generatedBefore = replica.counters.generatedTokens;
  let busy = 0;
  let prefillBusy = 0;
  let context = 0;
  for (const s of replica.running) context += s.arrival.promptTokens + s.generated;
  while (t < end) {
    // Admit what has arrived, oldest first, while the batch and the cache have room.
    while (
      replica.waiting.length > 0 &&
      replica.running.length < maxSeqs &&
      replica.waiting[0]!.atSeconds <= t
    ) {
      const a = replica.waiting[0]!;
      const need = a.promptTokens + a.generatedTokens;
      if (replica.kvTokensUsed + need > replica.kvTokensCapacity && replica.running.length > 0) break;
      replica.waiting.shift();
      replica.kvTokensUsed += need;
      replica.running.push({
        arrival: a,
        admittedAt: t,
        prefillLeft: a.promptTokens,
        generated: 0,
        firstTokenAt: 0,
        prefillDoneAt: 0,
      });
    }
    if (replica.running.length === 0) {
      const next = replica.waiting[0]?.atSeconds ?? end;
      t = Math.max(t, Math.min(next, end));
      if (next >= end) break;
      continue;
    }
    let prefill = 0;
    for (const s of replica.running) {
      if (s.prefillLeft === 0) continue;
      const take = Math.min(s.prefillLeft, MAX_BATCHED_TOKENS - prefill);
      if (take <= 0) break;
      s.prefillLeft -= take;
      prefill += take;
    }
    const memory = decodeSeconds(state, replica, context) / speed;
    const compute = prefill / prefillRate;
    let iteration = ITERATION_OVERHEAD_SECONDS + Math.max(memory, compute);
    // Pure decode with nothing arriving: take k identical iterations at once.
    let repeat = 1;
    if (prefill === 0) {
      let fewest = Number.POSITIVE_INFINITY;
      for (const s of replica.running) fewest = Math.min(fewest, s.arrival.generatedTokens - s.generated);
      // The next event is a completion, or an arrival that could join (the queue is in order;
      // one that already waits is blocked until a completion frees room).
      const head = replica.waiting[0]?.atSeconds;
      const nextArrival = head === undefined ? end : head > t ? head : Number.POSITIVE_INFINITY;
      const until = Math.min(end, Math.max(nextArrival, t + iteration)) - t;
      repeat = Math.max(1, Math.min(fewest, Math.floor(until / iteration)));
    }
    iteration *= repeat;
    t += iteration;
    busy += iteration;
    prefillBusy += Math.min(iteration, compute);
    let promptDone = 0;
    let generatedNow = 0;
    const still: Sequence[] = [];
    for (const s of replica.running) {
      if (s.prefillLeft === 0 && s.generated === 0) {
        // Prefill finished in this iteration: the first token comes with it.
        s.generated = 1;
        s.firstTokenAt = t;
        s.prefillDoneAt = t;
        promptDone += s.arrival.promptTokens;
        generatedNow += 1;
        context += s.arrival.promptTokens + 1;
      } else if (s.prefillLeft === 0) {
        s.generated += repeat;
        generatedNow += repeat;
        context += repeat;
      }
      if (s.prefillLeft === 0 && s.generated >= s.arrival.generatedTokens) {
        replica.kvTokensUsed -= s.arrival.promptTokens + s.arrival.generatedTokens;
        context -= s.arrival.promptTokens + s.generated;
        replica.counters.requestsFinished++;
        replica.observer?.finished({
          promptTokens: s.arrival.promptTokens,
          generatedTokens: s.generated,
          queueSeconds: s.admittedAt - s.arrival.atSeconds,
          ttftSeconds: s.firstTokenAt - s.arrival.atSeconds,
          e2eSeconds: t - s.arrival.atSeconds,
          prefillSeconds: s.prefillDoneAt - s.admittedAt,
          decodeSeconds: t - s.prefillDoneAt,
        });
      } else still.push(s);
    }
    replica.running = still;
    replica.counters.promptTokens += promptDone;
    replica.counters.generatedTokens += generatedNow;
    replica.observer?.iteration(promptDone, generatedNow);
  }
  replica.clockSeconds = t;
  const promptShare = (replica.counters.promptTokens - promptBefore) / replica.gpus.length;
  const generatedShare = (replica.counters.generatedTokens - generatedBefore) / replica.gpus.length;
  for (const g of replica.gpus) {
    state.gpu.promptTokens[g]! += promptShare;
    state.gpu.generatedTokens[g]! += generatedShare;
  }
  const share = busy > 0 ? Math.min(1, prefillBusy / busy) : 0;
  const util = Math.min(1, busy / dt);
  for (const g of replica.gpus) {
    utilization[g] = util;
    state.workload.computeShare[g] = share;
  }
  replica.observer?.load(replica.running.length, replica.waiting.length, kvUsage(replica));
}

export const kvUsage = (r: Replica) =>
  r.kvTokensCapacity > 0 ? Math.min(1, r.kvTokensUsed / r.kvTokensCapacity) : 0;
