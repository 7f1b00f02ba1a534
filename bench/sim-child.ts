/**
 * Runs the twin of one factory in a fresh process and prints one JSON line: median tick time,
 * time to render every node's dcgm page, the rate against real time, and the peak memory.
 */
import { loadFactoryFile } from "@flightdeck/model";
import { createDcgmExporter, createState, renderAllNodePages, tick } from "@flightdeck/sim";
import { median } from "./lib.ts";

const file = process.argv[2]!;
const ticks = Number(process.argv[3] ?? 20);
const build = loadFactoryFile(file).build;
if (!build) throw new Error(`${file} does not load`);
const state = createState(build.graph, build.catalog, { seed: 1 });
const tickMs: number[] = [];
for (let i = 0; i < ticks; i++) {
  const t0 = performance.now();
  tick(state, 1);
  tickMs.push(performance.now() - t0);
}
const exporter = createDcgmExporter(state);
const renders: number[] = [];
let bytes = 0;
for (let i = 0; i < 2; i++) {
  const t0 = performance.now();
  bytes = renderAllNodePages(state, exporter);
  renders.push(performance.now() - t0);
}
console.log(
  JSON.stringify({
    gpus: build.summary.counts.gpu,
    tickMs: median(tickMs),
    firstRenderMs: renders[0],
    renderMs: renders[1],
    bytes,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
