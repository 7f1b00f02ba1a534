/**
 * Live series store benchmarks: the twin's dcgm fields for every GPU of the lab (128 GPUs, 38
 * fields: one series each), scraped every 10 s for an hour, appended one batch per node page as the
 * collector will, then queried. Values are rounded as dcgm-exporter prints them (six decimals for
 * doubles, integers otherwise), so the store sees what a scrape of the twin would give it.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadFactoryFile } from "@flightdeck/model";
import {
  advance,
  createJobEngine,
  createState,
  DCGM_FIELDS,
  DRIVER_VERSION,
  type FactoryState,
  gpuUuid,
  loadScenario,
  pciBusId,
  tick,
} from "@flightdeck/sim";
import { createSeriesStore, type SeriesRef, type SeriesStore } from "@flightdeck/telemetry";
import { median, type Row, rng } from "./lib.ts";

const LAB = join(import.meta.dirname, "../examples/factories/lab.yaml");
const LAB_SCENARIO = join(import.meta.dirname, "../examples/scenarios/lab.yaml");
const SCRAPE_MS = 10_000;
const HOUR_SCRAPES = 360;
const T0 = 1_767_225_600_000;

interface Scraped {
  store: SeriesStore;
  /** Series of node page n: refs[n][gpu * fields + f]. */
  pages: SeriesRef[][];
  gpus: number;
  appendMs: number;
  samples: number;
  nowMs: number;
}

/** The values a scrape of node `n` reads, in the order of `pages[n]`. */
function readPage(state: FactoryState, n: number, out: Float64Array): number {
  const { topo } = state;
  let k = 0;
  for (let g = topo.nodeGpuStart[n]!; g < topo.nodeGpuStart[n + 1]!; g++)
    for (const f of DCGM_FIELDS) {
      const v = f.value(state, g);
      out[k++] = f.float ? Math.round(v * 1e6) / 1e6 : Math.floor(v + 0.5);
    }
  return k;
}

function labelPages(state: FactoryState, store: SeriesStore): SeriesRef[][] {
  const { topo } = state;
  const pages: SeriesRef[][] = [];
  for (let n = 0; n < topo.nodeCount; n++) {
    const refs: SeriesRef[] = [];
    const start = topo.nodeGpuStart[n]!;
    const end = topo.nodeGpuStart[n + 1]!;
    for (let g = start; g < end; g++) {
      const ordinal = topo.gpuOrdinal[g]!;
      const id = topo.graph.at(topo.gpuEntity[g]!).id;
      const labels = {
        gpu: String(ordinal),
        UUID: gpuUuid(topo.siteName, id),
        pci_bus_id: pciBusId(ordinal, end - start),
        device: `nvidia${ordinal}`,
        modelName: topo.models[topo.gpuModel[g]!]!.spec.model,
        Hostname: topo.nodeNames[n]!,
        DCGM_FI_DRIVER_VERSION: DRIVER_VERSION,
        instance: `${topo.nodeNames[n]}:9400`,
        job: "dcgm",
        entity: `gpu:${id}`,
      };
      for (const f of DCGM_FIELDS) refs.push(store.getOrCreate({ __name__: f.name, ...labels }));
    }
    pages.push(refs);
  }
  return pages;
}

/** Scrapes every node page `scrapes` times, stepping the twin 10 s between scrapes. */
function scrape(withJobs: boolean, scrapes: number): Scraped {
  const build = loadFactoryFile(LAB).build;
  if (!build) throw new Error("the lab example does not load");
  const state = createState(build.graph, build.catalog, { seed: 1, workload: { synthetic: !withJobs } });
  const engine = withJobs
    ? createJobEngine(
        state,
        loadScenario(readFileSync(LAB_SCENARIO, "utf8"), build.graph, LAB_SCENARIO, dirname(LAB_SCENARIO)),
      )
    : undefined;
  const store = createSeriesStore({ retentionMs: 3_600_000 });
  const pages = labelPages(state, store);
  const groups = pages.map((_, n) => store.group(`http://${state.topo.nodeNames[n]}:9400/metrics`));
  const buf = new Float64Array(64 * DCGM_FIELDS.length);
  let appendMs = 0;
  let samples = 0;
  let nowMs = T0;
  for (let s = 0; s < scrapes; s++) {
    if (engine) for (let i = 0; i < 10; i++) advance(state, engine, 1);
    else tick(state, 10);
    nowMs = T0 + s * SCRAPE_MS;
    for (let n = 0; n < pages.length; n++) {
      const count = readPage(state, n, buf);
      if (count === 0) continue;
      const t = performance.now();
      samples += store.appendBatch(groups[n]!, nowMs, pages[n]!, buf.subarray(0, count));
      appendMs += performance.now() - t;
    }
  }
  return { store, pages, gpus: state.topo.gpuCount, appendMs, samples, nowMs };
}

function timeEach<T>(inputs: T[], fn: (x: T) => unknown): number {
  const times: number[] = [];
  for (const x of inputs) {
    const t0 = process.hrtime.bigint();
    fn(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}

export function benchSeries(): Row[] {
  const name = "series.lab";
  const hour = scrape(false, HOUR_SCRAPES);
  const { store, nowMs } = hour;
  const stats = store.stats();
  const all = hour.pages.flat();
  const random = rng(7);
  const sample = Array.from({ length: 5000 }, () => all[Math.floor(random() * all.length)]!);
  const pastMs = nowMs - 1_234_000;
  for (const r of sample.slice(0, 500)) store.range(r, nowMs - 3_600_000, nowMs);
  const power = store.byName("DCGM_FI_DEV_POWER_USAGE");
  const energy = store.byName("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION");
  const jobs = scrape(true, HOUR_SCRAPES).store.stats();
  // Steady state: 1.5 h of scrapes into a 1 h window holds whole chunks beyond the hour.
  const steady = scrape(false, HOUR_SCRAPES + HOUR_SCRAPES / 2).store.stats();
  return [
    {
      bench: name,
      metric: `bytes per series, 1 h of 10 s samples (${stats.activeSeries} series, synthetic load)`,
      value: stats.bytesPerSeries,
      unit: "B",
      target: "<= 200",
    },
    {
      bench: name,
      metric: "of which chunk bits (sealed + open)",
      value: (stats.breakdown.sealedChunks + stats.breakdown.openChunks) / stats.activeSeries,
      unit: "B",
      target: "",
    },
    {
      bench: name,
      metric: "bytes per series, 1 h, lab scenario jobs",
      value: jobs.bytesPerSeries,
      unit: "B",
      target: "<= 200",
    },
    {
      bench: name,
      metric: `bytes per series, 1 h window after 1.5 h (${(steady.samples / steady.activeSeries).toFixed(0)} samples held)`,
      value: steady.bytesPerSeries,
      unit: "B",
      target: "",
    },
    {
      bench: name,
      metric: "append throughput (batches of one node page)",
      value: hour.samples / (hour.appendMs / 1000),
      unit: "samples/s",
      target: ">= 1000000",
    },
    {
      bench: name,
      metric: "instant query at the newest scrape, median",
      value: timeEach(sample, (r) => store.instant(r, nowMs)),
      unit: "µs",
      target: "",
    },
    {
      bench: name,
      metric: "instant query 20 min back (decodes a chunk), median",
      value: timeEach(sample, (r) => store.instant(r, pastMs)),
      unit: "µs",
      target: "<= 20",
    },
    {
      bench: name,
      metric: "range query, 1 h (360 samples), median",
      value: timeEach(sample, (r) => store.range(r, nowMs - 3_600_000, nowMs)),
      unit: "µs",
      target: "<= 50",
    },
    {
      bench: name,
      metric: `sum of power over ${power.length} GPUs at a past instant`,
      value: timeEach([1, 2, 3, 4, 5], () => store.sumInstant(power, pastMs)) / 1000,
      unit: "ms",
      target: "",
    },
    {
      bench: name,
      metric: `sum of energy counter deltas over ${energy.length} GPUs, 1 h`,
      value: timeEach([1, 2, 3, 4, 5], () => store.sumCounterDelta(energy, nowMs - 3_600_000, nowMs)) / 1000,
      unit: "ms",
      target: "",
    },
  ];
}
