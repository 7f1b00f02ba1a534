/**
 * PromQL's `increase` over a window: Prometheus' extrapolatedRate (promql/functions.go), which
 * corrects counter resets, then extrapolates the sampled interval to the window edges — fully when
 * the first/last sample is within 1.1 average intervals of the edge, else by half an interval — and
 * never extrapolates a counter below zero.
 */
export function extrapolatedIncrease(
  ts: Float64Array,
  vals: Float64Array,
  n: number,
  startMs: number,
  endMs: number,
): number | undefined {
  if (n < 2) return undefined;
  let result = vals[n - 1]! - vals[0]!;
  for (let i = 1; i < n; i++) if (vals[i]! < vals[i - 1]!) result += vals[i - 1]!;
  const sampled = (ts[n - 1]! - ts[0]!) / 1000;
  const average = sampled / (n - 1);
  let toStart = (ts[0]! - startMs) / 1000;
  const toEnd = (endMs - ts[n - 1]!) / 1000;
  if (result > 0 && vals[0]! >= 0) {
    const toZero = sampled * (vals[0]! / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = average * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : average / 2;
  interval += toEnd < threshold ? toEnd : average / 2;
  return result * (interval / sampled);
}
