/**
 * Ingest benchmark: CPU seconds per million samples ingested, Flightdeck's collector against a
 * real Prometheus, side by side in one run. Both scrape the same twin (500 racks of DGX H100:
 * 2,000 dcgm-exporter pages of 304 samples, ~600k series) on the same interval, at the same time,
 * each in its own process, the twin in a third so that rendering pages is charged to neither.
 * After a warm-up that creates every series, both are measured over the same window: CPU time
 * (user + system, all threads) and the samples each appended to its store.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { CollectorMark } from "./ingest-collector.ts";
import {
  CLK_TCK,
  type Mark,
  processCpuSeconds,
  type RunningPrometheus,
  startPrometheus,
} from "./ingest-prometheus.ts";
import type { Row } from "./lib.ts";

const RACKS = 500;
const NODES = RACKS * 4;

/** 500 racks of 4 DGX H100 in one row, A/B fed through 50 floor PDUs a side, ten racks each. */
function factoryYaml(): string {
  return `apiVersion: flightdeck/v1
kind: Factory
metadata:
  name: ingest-bench
  description: ${RACKS} racks of DGX H100, ${NODES} nodes, ${NODES * 8} GPUs
defaults:
  derating: 0.8
  redundancy: N+N
orgs:
  - name: acme
power:
  - name: util-a
    kind: feed
    side: A
    rating: { kw: 30000 }
    children:
      - name: fpdu-a{01..50}
        kind: floorPdu
        rating: { kw: 600 }
  - name: util-b
    kind: feed
    side: B
    rating: { kw: 30000 }
    children:
      - name: fpdu-b{01..50}
        kind: floorPdu
        rating: { kw: 600 }
halls:
  - name: hall1
    rows:
      - name: row1
        racks:
          - name: r{001..${RACKS}}
            type: dgx-h100-4
            org: acme
            power: { A: "fpdu-a{01..50}", B: "fpdu-b{01..50}" }
`;
}

/** A bench script in its own Node process, talking over IPC. */
function forkScript(script: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = fork(join(import.meta.dirname, script), args, {
    cwd: join(import.meta.dirname, ".."),
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const onData = (d: Buffer): void => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  return { child, output: () => output };
}

/** The next message of a child, or an error with its output when it exits or takes too long. */
function nextMessage<T>(
  { child, output }: ReturnType<typeof forkScript>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (m: unknown): void => {
      done();
      resolve(m as T);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`${what}: the child exited with ${code}:\n${output()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  if (child.connected) child.send("stop");
  else child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Marks {
  fd: CollectorMark;
  prom: Mark;
  twinCpu: number;
  machineCpu: number;
  at: number;
}

/** CPU seconds the whole machine has been busy, all cores, from /proc/stat. */
function machineCpuSeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const busy = f.slice(0, 8).reduce((x, y) => x + y, 0) - f[3]! - f[4]!;
  return busy / CLK_TCK;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchIngest(seconds = 60, intervalSeconds = 10): Promise<Row[]> {
  const timeoutSeconds = Math.max(1, Math.floor(intervalSeconds * 0.8));
  const dir = mkdtempSync(join(tmpdir(), "fd-bench-ingest-"));
  const factory = join(dir, "factory.yaml");
  const targets = join(dir, "targets.json");
  writeFileSync(factory, factoryYaml());
  const twin = forkScript("ingest-twin.ts", [factory, targets]);
  let collector: ReturnType<typeof forkScript> | undefined;
  let prometheus: RunningPrometheus | undefined;
  try {
    const { url } = await nextMessage<{ url: string }>(twin, "starting the twin", 120_000);
    collector = forkScript("ingest-collector.ts", [
      factory,
      url,
      String(intervalSeconds),
      String(timeoutSeconds),
    ]);
    const ready = nextMessage<string>(collector, "starting the collector", 120_000);
    ready.catch(() => undefined); // awaited below; Prometheus may fail first
    prometheus = await startPrometheus(dir, targets, intervalSeconds, timeoutSeconds);
    await ready;
    const mark = async (): Promise<Marks> => {
      const c = nextMessage<CollectorMark>(collector!, "marking the collector", 10_000);
      collector!.child.send("mark");
      const p = prometheus!.mark();
      return {
        fd: await c,
        prom: await p,
        twinCpu: processCpuSeconds(twin.child.pid!),
        machineCpu: machineCpuSeconds(),
        at: Date.now(),
      };
    };
    // Warm-up: until both have read every page once (creating every series), then the window.
    const page = await (await fetch(`${url}/nodes/r001-dgx1/metrics`)).text();
    const firstPass = NODES * page.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
    const warmUntil = Date.now() + Math.max(60, 6 * intervalSeconds) * 1000;
    let a = await mark();
    while ((a.fd.samples < firstPass || a.prom.samples < firstPass) && Date.now() < warmUntil) {
      await sleep(1000);
      a = await mark();
    }
    await sleep(seconds * 1000);
    const b = await mark();
    const wall = (b.at - a.at) / 1000;
    const health = await prometheus.scrapeHealth(Math.round(wall), b.at / 1000);
    const fdSamples = b.fd.samples - a.fd.samples;
    const promSamples = b.prom.samples - a.prom.samples;
    if (fdSamples <= 0 || promSamples <= 0)
      throw new Error(`nothing ingested: Flightdeck ${fdSamples} samples, Prometheus ${promSamples}`);
    const fdCpu = (b.fd.cpuUs - a.fd.cpuUs) / 1e6;
    const promCpu = b.prom.cpuSeconds - a.prom.cpuSeconds;
    const twinCpu = b.twinCpu - a.twinCpu;
    const fdPerM = fdCpu / (fdSamples / 1e6);
    const promPerM = promCpu / (promSamples / 1e6);
    const bench = `ingest.${NODES / 1000}k-nodes`;
    const fdFailed = b.fd.failures - a.fd.failures;
    const why = fdFailed > 0 && b.fd.errors[0] ? `; most: ${b.fd.errors[0][0].slice(0, 60)}` : "";
    // Everything else the machine ran in the window (this process included): contention.
    const others = b.machineCpu - a.machineCpu - fdCpu - promCpu - twinCpu;
    return [
      {
        bench,
        metric: `CPU per million samples, Flightdeck collector (${intervalSeconds} s scrapes)`,
        value: fdPerM,
        unit: "s",
        target: "",
      },
      {
        bench,
        metric: `CPU per million samples, Prometheus ${prometheus.version}`,
        value: promPerM,
        unit: "s",
        target: "",
      },
      {
        bench,
        metric: "CPU per sample, Flightdeck / Prometheus",
        value: fdPerM / promPerM,
        unit: "x",
        target: "<= 1.0",
      },
      {
        bench,
        metric: "samples ingested/s, Flightdeck",
        value: fdSamples / wall,
        unit: "samples/s",
        target: "",
      },
      {
        bench,
        metric: "samples ingested/s, Prometheus",
        value: promSamples / wall,
        unit: "samples/s",
        target: "",
      },
      {
        bench,
        metric: `scrapes failed, Flightdeck (of ${b.fd.scrapes - a.fd.scrapes}${why})`,
        value: fdFailed,
        unit: "",
        target: "",
      },
      {
        bench,
        metric: `scrapes failed, Prometheus (of ${health.scrapes})`,
        value: health.failed,
        unit: "",
        target: "",
      },
      { bench, metric: "resident memory, Flightdeck", value: b.fd.rssMB, unit: "MB", target: "" },
      { bench, metric: "resident memory, Prometheus", value: b.prom.rssMB, unit: "MB", target: "" },
      {
        bench,
        metric: "baseline: the twin's CPU serving both",
        value: twinCpu / wall,
        unit: "cores",
        target: "",
      },
      {
        bench,
        metric: `baseline: every other process on the machine (${cpus().length} cores)`,
        value: others / wall,
        unit: "cores",
        target: "",
      },
    ];
  } finally {
    await Promise.allSettled([
      collector ? stopChild(collector.child) : undefined,
      prometheus?.stop(),
      stopChild(twin.child),
    ]);
    rmSync(dir, { recursive: true, force: true });
  }
}
