/** Digital twin benchmarks: the ~1 GW example (288k GPUs) and the lab example. */
import { join } from "node:path";
import type { Row } from "./lib.ts";
import { GIGAWATT, runChild } from "./model.ts";

const LAB = join(import.meta.dirname, "../examples/factories/lab.yaml");

interface SimFigures {
  gpus: number;
  tickMs: number;
  firstRenderMs: number;
  renderMs: number;
  maxRssMB: number;
}

export function benchSim(): Row[] {
  const big = JSON.parse(runChild("sim-child.ts", [GIGAWATT, "20"])) as SimFigures;
  const lab = JSON.parse(runChild("sim-child.ts", [LAB, "2000"])) as SimFigures;
  const name = `sim.${Math.round(big.gpus / 1000)}k-gpus`;
  return [
    {
      bench: name,
      metric: "tick (1 s of sim time), median",
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
      bench: "sim.lab",
      metric: "speed against real time (1 s ticks)",
      value: 1000 / lab.tickMs,
      unit: "x",
      target: ">= 100",
    },
  ];
}
