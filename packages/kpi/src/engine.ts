/**
 * The token KPIs: what the factory produced (tokens) for what it consumed (joules, GPU time),
 * measured from the telemetry, grouped up the graph.
 *
 * - Tokens come from the model servers' and trainers' own counters over the window (prompt and
 *   generated tokens of vLLM, trained tokens of a training job), counter resets handled. A
 *   server's or job's tokens are shared evenly by the GPUs of the nodes it runs on.
 * - Energy comes from each GPU's DCGM total-energy counter (millijoules); a GPU without one has
 *   its power integrated instead. Rack energy also comes from the rack's PDU meters, so the ratio
 *   of PDU energy to GPU energy shows what the node and power chain add.
 * - GPU time is the time each GPU was seen (its series not stale); usable GPU time is the part in
 *   which it was healthy (no Xid reported) and productive (utilization above zero).
 */
import type { FactoryGraph } from "@flightdeck/model";

/** What the engine reads from the series store. */
export interface KpiReader {
  /** Series of metric `name` about `entity` (several when they differ in other labels). */
  find(name: string, entity: string): number[];
  /** Σ of the increases of a counter over (startMs, endMs], a drop counting as a reset to 0. */
  counterDelta(ref: number, startMs: number, endMs: number): number;
  /** Samples in [startMs, endMs], stale points left out. */
  range(
    ref: number,
    startMs: number,
    endMs: number,
  ): { timestampsMs: ArrayLike<number>; values: ArrayLike<number> };
  /** The value at `atMs` (the latest within the lookback), undefined when absent or stale. */
  instant(ref: number, atMs: number): number | undefined;
}

/** Something that produces tokens on some nodes: a model server or a training job. */
export interface TokenSource {
  /** `server:NAME` or `job:NAME`: the entity label of its series. */
  entity: string;
  kind: "inference" | "training";
  /** The service (for a replica) or the job: what `by=job` groups by. */
  job: string;
  model?: string;
  org?: string;
  nodes: string[];
}

/** What a KPI can be grouped by. */
export const KPI_GROUPINGS = ["gpu", "node", "rack", "row", "hall", "org", "job", "model", "site"] as const;
export type KpiGrouping = (typeof KPI_GROUPINGS)[number];

/** One group's KPIs over the window. */
export interface KpiRow {
  key: string;
  gpus: number;
  promptTokens: number;
  generatedTokens: number;
  trainingTokens: number;
  /** prompt + generated + training. */
  tokens: number;
  /** GPU energy (DCGM counters, or integrated power). */
  energyJoules: number;
  tokensPerJoule: number;
  tokensPerKWh: number;
  tokensPerSecond: number;
  /** Σ over the group's GPUs of the time each was seen. */
  gpuSeconds: number;
  tokensPerGpuHour: number;
  /** GPU time healthy (no Xid) and productive (utilization > 0). */
  usableGpuSeconds: number;
  usableShare: number;
  meanPowerWatts: number;
  /** Rack grouping only: energy metered into the rack's PDUs and its ratio to the GPU energy. */
  pduEnergyJoules?: number;
  pduToGpuEnergyRatio?: number;
  /** Rack grouping only: tokens per rack-hour. */
  tokensPerRackHour?: number;
}

export interface KpiQuery {
  by: KpiGrouping;
  startMs: number;
  endMs: number;
  /**
   * Longest gap one sample may stand for (default 30 s): past it a GPU counts as unseen, as when
   * it vanished. Fixed per query rather than read from the data, so that adjacent windows add up.
   * Twice the scrape interval is right.
   */
  maxSampleGapMs?: number;
  /** Only the GPUs this accepts (before grouping), e.g. those of the racks an org may see. */
  keep?: (gpuIndex: number) => boolean;
}

/** DCGM field names (dcgm-exporter default counters) and the vLLM / trainer counters read. */
export const METRICS = {
  gpuEnergyMillijoules: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
  gpuPowerWatts: "DCGM_FI_DEV_POWER_USAGE",
  gpuUtilPercent: "DCGM_FI_DEV_GPU_UTIL",
  gpuXid: "DCGM_FI_DEV_XID_ERRORS",
  promptTokens: "vllm:prompt_tokens_total",
  generatedTokens: "vllm:generation_tokens_total",
  trainingTokens: "training_tokens_total",
  pduEnergyJoules: "redfish_device_energy_joules",
  devicePowerWatts: "redfish_device_power_watts",
} as const;

interface GpuFigures {
  energyJoules: number;
  seenSeconds: number;
  usableSeconds: number;
  promptTokens: number;
  generatedTokens: number;
  trainingTokens: number;
  source: TokenSource | undefined;
}

/** Computes the KPIs of every group over [startMs, endMs]. */
export function computeKpis(
  graph: FactoryGraph,
  reader: KpiReader,
  sources: readonly TokenSource[],
  query: KpiQuery,
): KpiRow[] {
  const { startMs, endMs } = query;
  const windowSeconds = Math.max(0, (endMs - startMs) / 1000);
  const gpus = graph.ofKind("gpu");
  const figures = new Map<number, GpuFigures>();
  const figuresOf = (index: number): GpuFigures => {
    let f = figures.get(index);
    if (!f) {
      f = gpuFigures(reader, graph.at(index).id, startMs, endMs, query.maxSampleGapMs ?? 30_000);
      figures.set(index, f);
    }
    return f;
  };
  // Tokens of each source, shared evenly by the GPUs of its nodes.
  for (const source of sources) {
    const gpuIndexes: number[] = [];
    for (const name of source.nodes) {
      const node = graph.get(`node:${name}`);
      if (node) for (const g of graph.descendants(node.index, "gpu")) gpuIndexes.push(g.index);
    }
    if (gpuIndexes.length === 0) continue;
    const sum = (metric: string) =>
      reader.find(metric, source.entity).reduce((s, ref) => s + reader.counterDelta(ref, startMs, endMs), 0);
    const prompt = source.kind === "inference" ? sum(METRICS.promptTokens) : 0;
    const generated = source.kind === "inference" ? sum(METRICS.generatedTokens) : 0;
    const training = source.kind === "training" ? sum(METRICS.trainingTokens) : 0;
    for (const g of gpuIndexes) {
      const f = figuresOf(g);
      f.promptTokens += prompt / gpuIndexes.length;
      f.generatedTokens += generated / gpuIndexes.length;
      f.trainingTokens += training / gpuIndexes.length;
      f.source = source;
    }
  }
  const rows = new Map<string, KpiRow>();
  for (const gpu of gpus) {
    if (query.keep && !query.keep(gpu.index)) continue;
    const f = figuresOf(gpu.index);
    const key = groupKey(graph, gpu.index, query.by, f.source);
    if (key === undefined) continue;
    let row = rows.get(key);
    if (!row) {
      row = emptyRow(key);
      rows.set(key, row);
    }
    row.gpus++;
    row.promptTokens += f.promptTokens;
    row.generatedTokens += f.generatedTokens;
    row.trainingTokens += f.trainingTokens;
    row.energyJoules += f.energyJoules;
    row.gpuSeconds += f.seenSeconds;
    row.usableGpuSeconds += f.usableSeconds;
  }
  if (query.by === "rack") addPduEnergy(graph, reader, rows, startMs, endMs);
  for (const row of rows.values()) finish(row, windowSeconds, query.by);
  return [...rows.values()].sort((a, b) => a.key.localeCompare(b.key, "en", { numeric: true }));
}

/**
 * How far either side of a window the engine looks for the samples that bound an interval: an
 * interval that straddles an edge counts in part, so that adjacent windows add up exactly; a
 * longer gap counts as unseen. Prometheus's default lookback.
 */
const LOOKBACK_MS = 5 * 60_000;

function gpuFigures(
  reader: KpiReader,
  gpuId: string,
  startMs: number,
  endMs: number,
  maxGapMs: number,
): GpuFigures {
  const energyRefs = reader.find(METRICS.gpuEnergyMillijoules, gpuId);
  let energyJoules = 0;
  if (energyRefs.length > 0)
    for (const ref of energyRefs) energyJoules += reader.counterDelta(ref, startMs, endMs) / 1000;
  else
    for (const ref of reader.find(METRICS.gpuPowerWatts, gpuId))
      energyJoules += integrate(
        reader.range(ref, startMs - LOOKBACK_MS, endMs + LOOKBACK_MS),
        startMs,
        endMs,
      );
  // Seen and usable time from the utilization series: each sample stands for the time since the
  // previous one (at most maxGapMs, so a GPU that vanished is not counted through its gap),
  // clipped to the window.
  let seenSeconds = 0;
  let usableSeconds = 0;
  const util = reader.find(METRICS.gpuUtilPercent, gpuId)[0];
  if (util !== undefined) {
    // One sample either side of the window: the intervals straddling its edges count in part.
    const u = reader.range(util, startMs - LOOKBACK_MS, endMs + LOOKBACK_MS);
    const xidRef = reader.find(METRICS.gpuXid, gpuId)[0];
    const xid =
      xidRef === undefined ? undefined : reader.range(xidRef, startMs - LOOKBACK_MS, endMs + LOOKBACK_MS);
    const ts = u.timestampsMs;
    let x = 0;
    for (let i = 1; i < ts.length; i++) {
      const full = ts[i]! - ts[i - 1]!;
      const inside = Math.min(ts[i]!, endMs) - Math.max(ts[i - 1]!, startMs);
      // A gap longer than the lookback counts as unseen in every window that holds part of it.
      if (inside <= 0 || full > LOOKBACK_MS) continue;
      const dt = (Math.min(full, maxGapMs) * (inside / full)) / 1000;
      seenSeconds += dt;
      while (xid && x + 1 < xid.timestampsMs.length && xid.timestampsMs[x + 1]! <= ts[i]!) x++;
      const healthy = !xid || xid.values.length === 0 || xid.values[x] === 0;
      if (healthy && u.values[i]! > 0) usableSeconds += dt;
    }
  }
  return {
    energyJoules,
    seenSeconds,
    usableSeconds,
    promptTokens: 0,
    generatedTokens: 0,
    trainingTokens: 0,
    source: undefined,
  };
}

/** Trapezoidal ∫ power dt over [startMs, endMs] in joules, intervals straddling the edges in part. */
function integrate(
  r: { timestampsMs: ArrayLike<number>; values: ArrayLike<number> },
  startMs: number,
  endMs: number,
): number {
  let joules = 0;
  const ts = r.timestampsMs;
  for (let i = 1; i < ts.length; i++) {
    const inside = Math.min(ts[i]!, endMs) - Math.max(ts[i - 1]!, startMs);
    if (inside > 0 && ts[i]! - ts[i - 1]! <= LOOKBACK_MS)
      joules += ((r.values[i]! + r.values[i - 1]!) / 2) * (inside / 1000);
  }
  return joules;
}

function groupKey(
  graph: FactoryGraph,
  gpu: number,
  by: KpiGrouping,
  source: TokenSource | undefined,
): string | undefined {
  switch (by) {
    case "gpu":
      return graph.at(gpu).id;
    case "node":
      return graph.enclosing(gpu, "node")?.name;
    case "rack":
      return graph.enclosing(gpu, "rack")?.name;
    case "row":
      return graph.enclosing(gpu, "row")?.id.slice("row:".length);
    case "hall":
      return graph.enclosing(gpu, "hall")?.name;
    case "org":
      return graph.orgOf(gpu) ?? "(shared)";
    case "job":
      return source?.job ?? "(no job)";
    case "model":
      return source?.model ?? "(no model)";
    case "site":
      return graph.ofKind("site")[0]?.name ?? "site";
  }
}

function addPduEnergy(
  graph: FactoryGraph,
  reader: KpiReader,
  rows: Map<string, KpiRow>,
  startMs: number,
  endMs: number,
): void {
  for (const device of graph.ofKind("power")) {
    const rack = graph.enclosing(device.index, "rack");
    const row = rack ? rows.get(rack.name) : undefined;
    if (!row) continue;
    for (const ref of reader.find(METRICS.pduEnergyJoules, device.id))
      row.pduEnergyJoules = (row.pduEnergyJoules ?? 0) + reader.counterDelta(ref, startMs, endMs);
  }
}

function emptyRow(key: string): KpiRow {
  return {
    key,
    gpus: 0,
    promptTokens: 0,
    generatedTokens: 0,
    trainingTokens: 0,
    tokens: 0,
    energyJoules: 0,
    tokensPerJoule: 0,
    tokensPerKWh: 0,
    tokensPerSecond: 0,
    gpuSeconds: 0,
    tokensPerGpuHour: 0,
    usableGpuSeconds: 0,
    usableShare: 0,
    meanPowerWatts: 0,
  };
}

/** Joules in a kilowatt-hour. */
const JOULES_PER_KWH = 3.6e6;

function finish(row: KpiRow, windowSeconds: number, by: KpiGrouping): void {
  row.tokens = row.promptTokens + row.generatedTokens + row.trainingTokens;
  row.tokensPerJoule = row.energyJoules > 0 ? row.tokens / row.energyJoules : 0;
  row.tokensPerKWh = row.tokensPerJoule * JOULES_PER_KWH;
  row.tokensPerSecond = windowSeconds > 0 ? row.tokens / windowSeconds : 0;
  row.tokensPerGpuHour = row.gpuSeconds > 0 ? row.tokens / (row.gpuSeconds / 3600) : 0;
  row.usableShare = row.gpuSeconds > 0 ? row.usableGpuSeconds / row.gpuSeconds : 0;
  row.meanPowerWatts = windowSeconds > 0 ? row.energyJoules / windowSeconds : 0;
  if (by === "rack") {
    row.tokensPerRackHour = windowSeconds > 0 ? row.tokens / (windowSeconds / 3600) : 0;
    if (row.pduEnergyJoules !== undefined)
      row.pduToGpuEnergyRatio = row.energyJoules > 0 ? row.pduEnergyJoules / row.energyJoules : 0;
  }
}
