/**
 * A synthetic, seeded load until real jobs drive the twin: every node runs one kind of work —
 * compute-bound (training, prefill), memory-bound decode, or nothing — at a steady level with
 * slowly wandering noise (a first-order autoregressive process, time constant 10 s).
 */
import { nextFloat, nextNormal, type Prng } from "./prng.ts";
import type { SimTopology } from "./topology.ts";

/** Kinds of work, by how they respond to a power cap. */
export const WORK_COMPUTE = 0;
export const WORK_DECODE = 1;
export const WORK_IDLE = 2;
/** Driven by a job of the scenario (jobs.ts), which writes its utilization and compute share. */
export const WORK_JOB = 3;

/**
 * Share of (max − idle) power drawn at full utilization, by kind. Compute-bound work saturates
 * the GPU (DGX H100 ~8.4 kW measured peak in training, FACTS.md). Decode draws ~137–300 W of an
 * H200's 700 W (FACTS.md, arXiv 2605.11999): 0.25 puts a 700 W / 90 W-idle GPU at ~240 W.
 */
export const DYNAMIC_POWER_SHARE = [1, 0.25, 0] as const;
/** Dynamic power share of memory-bound (decode) work; compute-bound work draws all of it. */
export const DECODE_POWER_SHARE = DYNAMIC_POWER_SHARE[WORK_DECODE];

/** How the synthetic load is drawn. */
export interface WorkloadOptions {
  /** Share of nodes running decode (default 0.3). */
  decodeShare?: number;
  /** Share of nodes idle (default 0.1). */
  idleShare?: number;
  /** Standard deviation of the utilization noise (default 0.03). */
  noise?: number;
  /** Without synthetic load every GPU idles until a scenario's job takes it (default true). */
  synthetic?: boolean;
}

/** Per-GPU workload: kind, base utilization and the current noise. */
export interface WorkloadState {
  kind: Uint8Array;
  /**
   * Share of the busy time spent in compute-bound work (training, prefill) rather than
   * memory-bound decode, 0–1: it sets how much power the work draws and how a cap slows it.
   */
  computeShare: Float32Array;
  baseUtilization: Float32Array;
  noise: Float32Array;
  noiseStd: number;
}

const NOISE_TIME_CONSTANT_S = 10;

/** Draws each node's kind and level from the generator. */
export function assignWorkload(topo: SimTopology, prng: Prng, options: WorkloadOptions = {}): WorkloadState {
  const decodeShare = options.decodeShare ?? 0.3;
  const idleShare = options.idleShare ?? 0.1;
  const noiseStd = options.noise ?? 0.03;
  if (!(decodeShare >= 0 && idleShare >= 0 && decodeShare + idleShare <= 1 && noiseStd >= 0))
    throw new Error("workload: decodeShare and idleShare must be ≥ 0 with a sum ≤ 1, noise ≥ 0");
  const kind = new Uint8Array(topo.gpuCount);
  const baseUtilization = new Float32Array(topo.gpuCount);
  const computeShare = new Float32Array(topo.gpuCount);
  const noise = new Float32Array(topo.gpuCount);
  if (options.synthetic === false) {
    kind.fill(WORK_IDLE);
    return { kind, computeShare, baseUtilization, noise, noiseStd };
  }
  for (let n = 0; n < topo.nodeCount; n++) {
    const u = nextFloat(prng);
    const k = u < idleShare ? WORK_IDLE : u < idleShare + decodeShare ? WORK_DECODE : WORK_COMPUTE;
    const level = nextFloat(prng);
    const base = k === WORK_COMPUTE ? 0.9 + 0.08 * level : k === WORK_DECODE ? 0.55 + 0.3 * level : 0;
    for (let g = topo.nodeGpuStart[n]!; g < topo.nodeGpuStart[n + 1]!; g++) {
      kind[g] = k;
      computeShare[g] = k === WORK_COMPUTE ? 1 : 0;
      baseUtilization[g] = base;
    }
  }
  return { kind, computeShare, baseUtilization, noise, noiseStd };
}

/** Advances the noise by dt and writes each GPU's utilization (0–1). */
export function stepWorkload(
  w: WorkloadState,
  prng: Prng,
  dtSeconds: number,
  utilization: Float32Array,
): void {
  const a = Math.exp(-dtSeconds / NOISE_TIME_CONSTANT_S);
  const kick = w.noiseStd * Math.sqrt(1 - a * a);
  const { kind, baseUtilization, noise } = w;
  for (let g = 0; g < kind.length; g++) {
    if (kind[g] === WORK_JOB) continue;
    if (kind[g] === WORK_IDLE) {
      utilization[g] = 0;
      continue;
    }
    const e = noise[g]! * a + kick * nextNormal(prng);
    noise[g] = e;
    const u = baseUtilization[g]! + e;
    utilization[g] = Math.max(0, Math.min(u, 1));
  }
}
