/**
 * Fitting the twin's power/performance curves to measured traces: the Zeus (NSDI'23) power-limit
 * sweeps, `summary_power_<gpu>.csv` with columns dataset, network, batch_size, optimizer,
 * power_limit [W], time_per_epoch [s], average_power [W]. Everything here is pure: it takes the
 * CSV text and returns numbers, so a test can show that the constants in `calibration.ts` are what
 * the data gives.
 */
import { readFileSync } from "node:fs";
import { type CurveParams, relativeThroughput } from "./calibration.ts";

/** One row of a Zeus power sweep. */
export interface ZeusRow {
  /** dataset/network/batch size/optimizer: one training workload. */
  workload: string;
  powerLimitWatts: number;
  timePerEpochSeconds: number;
  averagePowerWatts: number;
}

/** A median point of the sweep at one cap fraction x = cap / max cap. */
export interface SweepPoint {
  x: number;
  /** Median over workloads of time_per_epoch at the max cap ÷ time_per_epoch at this cap. */
  relativeThroughput: number;
  /** Median over workloads of average power ÷ the max cap. */
  powerOfMax: number;
  /** Median over workloads of average power ÷ the same workload's average power uncapped. */
  powerOfUncapped: number;
  workloads: number;
}

/** A fitted curve with its root-mean-square error against the median points. */
export interface CurveFit extends CurveParams {
  rmsError: number;
  points: SweepPoint[];
  /** Median of average power ÷ cap over runs whose uncapped draw was at or above that cap. */
  capDrawRatio: number;
}

const COLUMNS = [
  "dataset",
  "network",
  "batch_size",
  "optimizer",
  "power_limit",
  "time_per_epoch",
  "average_power",
];

/** Parses a Zeus summary CSV. Throws naming the line and the reason for any malformed row. */
export function parseZeusCsv(text: string, where = "csv"): ZeusRow[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(",").map((s) => s.trim());
  if (!header || COLUMNS.some((c, i) => header[i] !== c))
    throw new Error(`${where}:1: expected header ${COLUMNS.join(",")}`);
  const rows: ZeusRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const f = line.split(",");
    const nums = [f[4], f[5], f[6]].map(Number);
    if (f.length !== COLUMNS.length || nums.some((n) => !Number.isFinite(n) || n <= 0))
      throw new Error(
        `${where}:${i + 1}: expected ${COLUMNS.length} fields with positive numbers, got "${line}"`,
      );
    rows.push({
      workload: f.slice(0, 4).join("/"),
      powerLimitWatts: nums[0]!,
      timePerEpochSeconds: nums[1]!,
      averagePowerWatts: nums[2]!,
    });
  }
  return rows;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median relative throughput and power draw per cap, relative to each workload's max-cap run. */
export function sweepPoints(rows: ZeusRow[]): SweepPoint[] {
  const maxCap = Math.max(...rows.map((r) => r.powerLimitWatts));
  const byWorkload = new Map<string, Map<number, ZeusRow>>();
  for (const r of rows) {
    const m = byWorkload.get(r.workload) ?? new Map<number, ZeusRow>();
    m.set(r.powerLimitWatts, r);
    byWorkload.set(r.workload, m);
  }
  const caps = [...new Set(rows.map((r) => r.powerLimitWatts))].sort((a, b) => a - b);
  return caps.map((cap) => {
    const rel: number[] = [];
    const ofMax: number[] = [];
    const ofUncapped: number[] = [];
    for (const runs of byWorkload.values()) {
      const at = runs.get(cap);
      const top = runs.get(maxCap);
      if (!at || !top) continue;
      rel.push(top.timePerEpochSeconds / at.timePerEpochSeconds);
      ofMax.push(at.averagePowerWatts / maxCap);
      ofUncapped.push(at.averagePowerWatts / top.averagePowerWatts);
    }
    return {
      x: cap / maxCap,
      relativeThroughput: median(rel),
      powerOfMax: median(ofMax),
      powerOfUncapped: median(ofUncapped),
      workloads: rel.length,
    };
  });
}

/** Median of average power ÷ cap over capped runs whose uncapped draw was at least the cap. */
export function capDrawRatio(rows: ZeusRow[]): number {
  const maxCap = Math.max(...rows.map((r) => r.powerLimitWatts));
  const uncapped = new Map<string, number>();
  for (const r of rows) if (r.powerLimitWatts === maxCap) uncapped.set(r.workload, r.averagePowerWatts);
  const ratios: number[] = [];
  for (const r of rows) {
    const top = uncapped.get(r.workload);
    if (top !== undefined && r.powerLimitWatts < maxCap && top >= r.powerLimitWatts)
      ratios.push(r.averagePowerWatts / r.powerLimitWatts);
  }
  return median(ratios);
}

/** Root-mean-square error of the curve against the points' median relative throughput. */
export function rmsError(params: CurveParams, points: SweepPoint[]): number {
  let sum = 0;
  for (const p of points) sum += (relativeThroughput(p.x, params) - p.relativeThroughput) ** 2;
  return Math.sqrt(sum / points.length);
}

/**
 * Least-squares fit of k and x0: a coarse grid (k 0.5–20, x0 from −0.5 to just under the lowest
 * cap measured), then a pattern search that halves its steps until they are below 1e-7.
 */
export function fitCurve(points: SweepPoint[]): CurveParams & { rmsError: number } {
  const x0Max = Math.min(...points.map((p) => p.x)) - 1e-3;
  const err = (k: number, x0: number): number =>
    k <= 0 || x0 >= x0Max ? Number.POSITIVE_INFINITY : rmsError({ k, x0 }, points);
  let best = { k: 1, x0: 0, e: Number.POSITIVE_INFINITY };
  for (let k = 0.5; k <= 20; k += 0.1)
    for (let x0 = -0.5; x0 < x0Max; x0 += 0.005) {
      const e = err(k, x0);
      if (e < best.e) best = { k, x0, e };
    }
  let stepK = 0.1;
  let stepX = 0.005;
  while (stepK > 1e-7 || stepX > 1e-7) {
    let moved = false;
    for (const [dk, dx] of [
      [stepK, 0],
      [-stepK, 0],
      [0, stepX],
      [0, -stepX],
    ] as const) {
      const e = err(best.k + dk, best.x0 + dx);
      if (e < best.e) {
        best = { k: best.k + dk, x0: best.x0 + dx, e };
        moved = true;
      }
    }
    if (!moved) {
      stepK /= 2;
      stepX /= 2;
    }
  }
  return { k: best.k, x0: best.x0, rmsError: best.e };
}

/** The whole calibration of one GPU's sweep: median points, fitted curve and cap draw ratio. */
export function calibrate(rows: ZeusRow[]): CurveFit {
  const points = sweepPoints(rows);
  return { ...fitCurve(points), points, capDrawRatio: capDrawRatio(rows) };
}

/** Reads and calibrates one `summary_power_<gpu>.csv` file. */
export function calibrateZeusFile(file: string): CurveFit {
  return calibrate(parseZeusCsv(readFileSync(file, "utf8"), file));
}
