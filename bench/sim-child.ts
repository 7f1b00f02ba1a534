/**
 * Runs the twin of one factory in a fresh process and prints one JSON line: median tick time,
 * time to render every exporter page (dcgm per node, vLLM per replica, trainer per job), the
 * rate against real time, and the peak memory. With a scenario file its jobs drive the GPUs;
 * without, the synthetic load does.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadFactoryFile } from "@flightdeck/model";
import {
  advance,
  attachModelServers,
  createDcgmExporter,
  createJobEngine,
  createState,
  loadScenario,
  renderAllNodePages,
  renderTrainingPage,
} from "@flightdeck/sim";
import { median } from "./lib.ts";

const file = process.argv[2]!;
const ticks = Number(process.argv[3] ?? 20);
const scenarioFile = process.argv[4];
const build = loadFactoryFile(file).build;
if (!build) throw new Error(`${file} does not load`);
const scenario = scenarioFile
  ? loadScenario(readFileSync(scenarioFile, "utf8"), build.graph, scenarioFile, dirname(scenarioFile))
  : { apiVersion: "flightdeck/v1" as const, kind: "Scenario" as const, metadata: { name: "none" } };
const state = createState(build.graph, build.catalog, { seed: 1, workload: { synthetic: !scenarioFile } });
const engine = createJobEngine(state, scenario);
const renderReplica = attachModelServers(engine, Date.now());
// The first step places every job: timed apart from the steady ticks.
const t0 = performance.now();
advance(state, engine, 1);
const placeMs = performance.now() - t0;
const tickMs: number[] = [];
for (let i = 0; i < ticks; i++) {
  const t = performance.now();
  advance(state, engine, 1);
  tickMs.push(performance.now() - t);
}
const exporter = createDcgmExporter(state);
const renders: number[] = [];
let bytes = 0;
let pages = 0;
for (let i = 0; i < 2; i++) {
  const t = performance.now();
  bytes = renderAllNodePages(state, exporter);
  pages =
    state.topo.nodeCount -
    state.topo.nodeGpuStart.filter(
      (_, n) => n < state.topo.nodeCount && state.topo.nodeGpuStart[n + 1] === state.topo.nodeGpuStart[n],
    ).length;
  for (const job of engine.jobs) {
    if (job.phase !== "running") continue;
    if (job.spec.type === "training") {
      bytes += renderTrainingPage(job).length;
      pages++;
    } else
      for (const r of job.replicas) {
        bytes += renderReplica(r).length;
        pages++;
      }
  }
  renders.push(performance.now() - t);
}
console.log(
  JSON.stringify({
    gpus: build.summary.counts.gpu,
    placeMs,
    tickMs: median(tickMs),
    firstRenderMs: renders[0],
    renderMs: renders[1],
    pages,
    bytes,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
