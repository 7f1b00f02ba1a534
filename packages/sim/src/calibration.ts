/**
 * The measured power/performance curves the twin's physics runs on. The constants are fitted by
 * `calibrate` (calibration-fit.ts) to the Zeus (NSDI'23) power-limit sweeps cited in FACTS.md
 * (`summary_power_*.csv`), and `test/calibration.test.ts` refits them from the traces at test time.
 */

/** Parameters of the concave throughput-vs-cap curve. */
export interface CurveParams {
  /** Steepness of the knee. */
  k: number;
  /** Cap fraction where throughput reaches zero (below every cap the traces measured). */
  x0: number;
}

/**
 * Relative throughput at cap fraction x = cap / max cap (FACTS.md, "Power and performance"):
 * r(x) = (1 − e^(−k(x−x0))) / (1 − e^(−k(1−x0))), so r(1) = 1; clamped to [0, 1].
 */
export function relativeThroughput(x: number, p: CurveParams): number {
  if (x >= 1) return 1;
  if (x <= p.x0) return 0;
  return (1 - Math.exp(-p.k * (x - p.x0))) / (1 - Math.exp(-p.k * (1 - p.x0)));
}

/**
 * V100 fit: median relative throughput of 68 training workloads at 7 caps (100–250 W of 250 W).
 * Measured RMS error against the medians: 0.0076 (FACTS.md quotes k=4.75, x0=0.13 within ~0.01;
 * those give 0.0081).
 */
export const V100_CURVE: CurveParams = { k: 4.61, x0: 0.126 };

/**
 * A40 fit: median relative throughput of 53 training workloads at 9 caps (100–300 W of 300 W).
 * Measured RMS error against the medians: 0.041. The form misses the A40's sharp knee between
 * 0.42 and 0.58 of max; FACTS.md's k=6, x0=0.27 give 0.042 here, not the ~0.01 it quotes.
 */
export const A40_CURVE: CurveParams = { k: 6.2, x0: 0.273 };

/**
 * The curve the physics uses for compute-bound work (training, prefill): the V100 fit, the one
 * the form matches within 0.01 over every cap measured (0.4–1.0 of max).
 */
export const THROUGHPUT_CURVE: CurveParams = V100_CURVE;

/**
 * Average draw ÷ cap of a run whose uncapped draw is at or above the cap: the GPU's power
 * controller keeps the average a little under the limit. Median over the V100 sweep's 203 bound
 * runs: 0.9385 (A40 0.955, RTX 6000 0.938, P100 0.901).
 */
export const CAP_DRAW_RATIO = 0.9385;
