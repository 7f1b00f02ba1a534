/** KPI frames as the API sends them, and the totals and history the overview draws from them. */

/** A KPI row as the API gives it. */
export interface KpiRow {
  key: string;
  gpus: number;
  tokens: number;
  energyJoules: number;
  tokensPerJoule: number;
  tokensPerSecond: number;
  gpuSeconds: number;
  usableGpuSeconds: number;
  usableShare: number;
  meanPowerWatts: number;
  pduEnergyJoules?: number;
}

export interface KpiFrame {
  by: string;
  startMs: number;
  endMs: number;
  rows: KpiRow[];
}

export interface TotalsPoint {
  atMs: number;
  tokensPerSecond: number;
  tokensPerJoule: number;
  powerWatts: number;
  usableShare: number;
}

/** The totals of a frame of rack rows. */
export function totalsOf(frame: KpiFrame): TotalsPoint {
  let tokensPerSecond = 0;
  let energy = 0;
  let tokens = 0;
  let power = 0;
  let gpuSeconds = 0;
  let usable = 0;
  for (const r of frame.rows) {
    tokensPerSecond += r.tokensPerSecond;
    energy += r.energyJoules;
    tokens += r.tokens;
    power += r.meanPowerWatts;
    gpuSeconds += r.gpuSeconds;
    usable += r.usableGpuSeconds;
  }
  return {
    atMs: frame.endMs,
    tokensPerSecond,
    tokensPerJoule: energy > 0 ? tokens / energy : 0,
    powerWatts: power,
    usableShare: gpuSeconds > 0 ? usable / gpuSeconds : 0,
  };
}

/** A one-minute rollup row of /v1/kpi/history. */
export interface Rollup {
  minuteMs: number;
  promptTokens: number;
  generatedTokens: number;
  trainingTokens: number;
  energyJoules: number;
  gpuSeconds: number;
  usableGpuSeconds: number;
  /** The rack PDUs' metered energy (rollups by rack); null where none was metered. */
  pduEnergyJoules?: number | null;
}

/** The racks' metered power a minute, from rollups by rack: their PDUs' energy over 60 s. */
export function pduPowerPoints(rows: Rollup[]): { atMs: number; watts: number }[] {
  const by = new Map<number, number>();
  for (const r of rows)
    if (typeof r.pduEnergyJoules === "number")
      by.set(r.minuteMs, (by.get(r.minuteMs) ?? 0) + r.pduEnergyJoules);
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([minuteMs, joules]) => ({ atMs: minuteMs + 60_000, watts: joules / 60 }));
}

/** Sums the one-minute rollups of every org into one point a minute. */
export function minutePoints(rows: Rollup[]): TotalsPoint[] {
  const by = new Map<number, { tokens: number; energy: number; gpu: number; usable: number }>();
  for (const r of rows) {
    const m = by.get(r.minuteMs) ?? { tokens: 0, energy: 0, gpu: 0, usable: 0 };
    m.tokens += r.promptTokens + r.generatedTokens + r.trainingTokens;
    m.energy += r.energyJoules;
    m.gpu += r.gpuSeconds;
    m.usable += r.usableGpuSeconds;
    by.set(r.minuteMs, m);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([minuteMs, m]) => ({
      atMs: minuteMs + 60_000,
      tokensPerSecond: m.tokens / 60,
      tokensPerJoule: m.energy > 0 ? m.tokens / m.energy : 0,
      powerWatts: m.energy / 60,
      usableShare: m.gpu > 0 ? m.usable / m.gpu : 0,
    }));
}
