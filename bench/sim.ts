/** Digital twin benchmarks: the ~1 GW example (288k GPUs), idle-synthetic and busy with jobs, and the lab. */
import { join } from "node:path";
import type { Row } from "./lib.ts";
import { GIGAWATT, runChild } from "./model.ts";

const LAB = join(import.meta.dirname, "../examples/factories/lab.yaml");
const LAB_SCENARIO = join(import.meta.dirname, "../examples/scenarios/lab.yaml");
const GIGAWATT_SCENARIO = join(import.meta.dirname, "../examples/scenarios/gigawatt.yaml");

interface SimFigures {
  gpus: number;
  placeMs: number;
  tickMs: number;
  firstRenderMs: number;
  renderMs: number;
  pages: number;
  maxRssMB: number;
}

export function benchSim(): Row[] {
  const big = JSON.parse(runChild("sim-child.ts", [GIGAWATT, "20"])) as SimFigures;
  const busy = JSON.parse(runChild("sim-child.ts", [GIGAWATT, "20", GIGAWATT_SCENARIO])) as SimFigures;
  const lab = JSON.parse(runChild("sim-child.ts", [LAB, "2000", LAB_SCENARIO])) as SimFigures;
  const name = `sim.${Math.round(big.gpus / 1000)}k-gpus`;
  const jobs = `${name}.jobs`;
  return [
    {
      bench: name,
      metric: "tick (1 s of sim time), median, synthetic load",
      value: big.tickMs,
      unit: "ms",
      target: "<= 250",
    },
    {
      bench: name,
      metric: "render every dcgm page, first scrape",
      value: big.firstRenderMs,
      unit: "ms",
      target: "<= 5000",
    },
    {
      bench: name,
      metric: "render every dcgm page, later scrapes",
      value: big.renderMs,
      unit: "ms",
      target: "",
    },
    { bench: name, metric: "peak memory", value: big.maxRssMB, unit: "MB", target: "<= 4096" },
    {
      bench: jobs,
      metric: "first step: place 5 jobs, 3,000 replicas",
      value: busy.placeMs,
      unit: "ms",
      target: "",
    },
    {
      bench: jobs,
      metric: "tick (1 s of sim time), median, jobs running",
      value: busy.tickMs,
      unit: "ms",
      target: "<= 250",
    },
    {
      bench: jobs,
      metric: `render every exporter page (${busy.pages} pages), first scrape`,
      value: busy.firstRenderMs,
      unit: "ms",
      target: "<= 5000",
    },
    { bench: jobs, metric: "peak memory", value: busy.maxRssMB, unit: "MB", target: "<= 4096" },
    {
      bench: "sim.lab.jobs",
      metric: "speed against real time (1 s ticks, lab scenario)",
      value: 1000 / lab.tickMs,
      unit: "x",
      target: ">= 100",
    },
  ];
}
