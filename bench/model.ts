/** Factory model benchmarks: loading the ~1 GW example, and graph queries on it. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type FactoryGraph, loadFactoryFile } from "@flightdeck/model";
import { median, type Row, rng } from "./lib.ts";

const root = join(import.meta.dirname, "..");
export const GIGAWATT = join(root, "examples/factories/gigawatt.yaml");

/** Runs a bench script in a child process pinned to one core, so its time and memory are its own. */
export function runChild(script: string, args: string[]): string {
  const argv = ["--import", "tsx", join(import.meta.dirname, script), ...args];
  const pinned = existsSync("/usr/bin/taskset");
  const out = execFileSync(
    pinned ? "taskset" : process.execPath,
    pinned ? ["-c", "0", process.execPath, ...argv] : argv,
    {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return out.trim().split("\n").pop()!;
}

function loadInChild(mode?: string): { ms: number; maxRssMB: number } {
  return JSON.parse(runChild("model-load-child.ts", [GIGAWATT, ...(mode ? [mode] : [])]));
}

export function benchModelLoad(runs = 3): Row[] {
  const full = Array.from({ length: runs }, () => loadInChild());
  const parse = Array.from({ length: runs }, () => loadInChild("--parse-only"));
  return [
    {
      bench: "model.load.1gw",
      metric: "load+validate median",
      value: median(full.map((r) => r.ms)),
      unit: "ms",
      target: "<= 3000",
    },
    {
      bench: "model.load.1gw",
      metric: "peak memory",
      value: Math.max(...full.map((r) => r.maxRssMB)),
      unit: "MB",
      target: "<= 1536",
    },
    {
      bench: "model.load.1gw",
      metric: "baseline: YAML parse only",
      value: median(parse.map((r) => r.ms)),
      unit: "ms",
      target: "",
    },
  ];
}

/** Times `fn` over `inputs`, returning the median per call in microseconds. */
function timeEach<T>(inputs: T[], fn: (x: T) => unknown): number {
  const times: number[] = [];
  for (const x of inputs) {
    const t0 = process.hrtime.bigint();
    fn(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}

/** A power path found the slow way, scanning every power edge at each step: what an index saves. */
function naivePowerPath(g: FactoryGraph, index: number): number {
  const { feedsDown } = g.rel;
  let hops = 0;
  let frontier = [g.at(index).parent];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (let up = 0; up < g.size; up++) {
      for (let k = feedsDown.offsets[up]!; k < feedsDown.offsets[up + 1]!; k++) {
        if (frontier.includes(feedsDown.items[k]!)) next.push(up);
      }
    }
    frontier = [...new Set(next)];
    hops++;
  }
  return hops;
}

export function benchModelQueries(): Row[] {
  const result = loadFactoryFile(GIGAWATT);
  if (!result.build) throw new Error("the gigawatt example does not load");
  const g = result.build.graph;
  const random = rng(42);
  const gpus = g.ofKind("gpu");
  const sample = Array.from({ length: 20_000 }, () => gpus[Math.floor(random() * gpus.length)]!.index);
  // Warm up the code paths before timing.
  for (const i of sample.slice(0, 2000)) g.powerPaths(i);
  const rows = g.ofKind("row").map((r) => r.index);
  const leaves = g
    .ofKind("switch")
    .filter((s) => s.tier === "leaf")
    .map((s) => s.index);
  const feeds = g
    .ofKind("power")
    .filter((p) => p.type === "feed")
    .map((p) => p.index);
  for (const r of rows.slice(0, 5)) g.descendants(r, "gpu");
  return [
    {
      bench: "model.query.1gw",
      metric: "power path of a GPU, median",
      value: timeEach(sample, (i) => g.powerPaths(i)),
      unit: "µs",
      target: "<= 50",
    },
    {
      bench: "model.query.1gw",
      metric: "baseline: power path by edge scan",
      value: timeEach(sample.slice(0, 3), (i) => naivePowerPath(g, i)),
      unit: "µs",
      target: "",
    },
    {
      bench: "model.query.1gw",
      metric: `all GPUs under a row (${g.descendants(rows[0]!, "gpu").length}), median`,
      value: timeEach([...rows, ...rows], (i) => g.descendants(i, "gpu")) / 1000,
      unit: "ms",
      target: "<= 5",
    },
    {
      bench: "model.query.1gw",
      metric: "all GPUs behind a leaf switch, median",
      value: timeEach(leaves.slice(0, 2000), (i) => g.descendants(i, "gpu")) / 1000,
      unit: "ms",
      target: "",
    },
    {
      bench: "model.query.1gw",
      metric: `all GPUs on a feed (${g.descendants(feeds[0]!, "gpu").length}), median`,
      value: timeEach(feeds, (i) => g.descendants(i, "gpu")) / 1000,
      unit: "ms",
      target: "",
    },
  ];
}
