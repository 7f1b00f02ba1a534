/**
 * Throughput as a function of the power cap: r(x) for x = cap / maximum cap, with r(1) = 1.
 * The allocator needs r concave and nondecreasing on the job's cap range: then the marginal
 * throughput of each further watt never grows, which is what makes greedy allocation exact.
 */

/** Relative throughput at a cap fraction x = capWatts / maxWatts (1 at the maximum cap). */
export type ThroughputCurve = (x: number) => number;

/**
 * Compute-bound work (training, prefill): r(x) = (1 − e^(−k(x−x0))) / (1 − e^(−k(1−x0))).
 * Fitted to the Zeus (NSDI'23) power-limit traces within ~0.01 (FACTS.md, "Power and
 * performance"): V100 k = 4.75, x0 = 0.13 (the defaults); A40 k = 6, x0 = 0.27.
 */
export function computeBoundCurve(k = 4.75, x0 = 0.13): ThroughputCurve {
  if (!(k > 0) || !(x0 < 1))
    throw new RangeError(`computeBoundCurve needs k > 0 and x0 < 1 (k=${k}, x0=${x0})`);
  const scale = 1 / (1 - Math.exp(-k * (1 - x0)));
  return (x) => (1 - Math.exp(-k * (x - x0))) * scale;
}

/**
 * Memory-bound decode: LLM decode draws well under the cap (~137–300 W of 700 W on H200,
 * FACTS.md), so throughput falls in proportion below its draw and is nearly flat above it.
 * Concave piecewise linear: r(drawFraction) = 1 − gainAbove, r(1) = 1.
 */
export function decodeCurve(drawFraction = 0.4, gainAbove = 0.02): ThroughputCurve {
  if (!(drawFraction > 0 && drawFraction < 1) || !(gainAbove >= 0 && gainAbove < 1))
    throw new RangeError(`decodeCurve needs 0 < drawFraction < 1 and 0 <= gainAbove < 1`);
  const knee = 1 - gainAbove;
  const below = knee / drawFraction;
  const above = gainAbove / (1 - drawFraction);
  // Concave when the slope falls at the knee.
  if (above > below) throw new RangeError("decodeCurve: gainAbove too large for a concave curve");
  return (x) => (x <= drawFraction ? x * below : knee + (x - drawFraction) * above);
}
