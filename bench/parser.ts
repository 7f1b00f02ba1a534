/**
 * Exposition parser throughput: samples per second on one core over the real captures
 * (`fixtures/dcgm/*.prom`, `fixtures/vllm/*.prom`), each parsed many times by a reused scanner
 * (one per target, as a scrape loop keeps it), the median of several rounds. The OpenMetrics rows
 * read the same captures rendered as OpenMetrics (counters renamed to their family, `# EOF`).
 *
 * Seconds are the process's CPU time, not wall time: "on one core" is what is measured, and the
 * figure does not drop when other work shares the machine. Besides all captures together, each
 * capture alone, and the first scrape of a target (a new scanner per page, nothing remembered).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createExpositionScanner,
  type ExpositionFormat,
  type ExpositionVisitor,
  parseExposition,
  renderExposition,
} from "../packages/telemetry/src/exposition/index.ts";
import { median, type Row } from "./lib.ts";

const FIXTURES = join(import.meta.dirname, "../../shared/data/fixtures");
export const CAPTURES = [
  "dcgm/datadog-dcgm-exporter-T4-mixed.prom",
  "dcgm/nvidia-cloud-native-docs-dcgm-exporter-A100-MIG-excerpt.prom",
  "vllm/datadog-vllm-metrics-opt-125m.prom",
  "vllm/sglang-docs-metrics-llama3.1-8b-light.prom",
  "vllm/sglang-docs-metrics-llama3.1-8b-under-load.prom",
];

/** A 0.0.4 page as OpenMetrics: a counter family drops its `_total`, untyped becomes unknown. */
function toOpenMetrics(page: string): string {
  const families = parseExposition(page).families.map((f) =>
    f.type === "counter"
      ? {
          ...f,
          name: f.name.replace(/_total$/, ""),
          samples: f.samples.map((s) => ({
            ...s,
            name: f.name.endsWith("_total") ? s.name : `${s.name}_total`,
          })),
        }
      : f.type === "untyped"
        ? { ...f, type: "unknown" as const }
        : f,
  );
  return renderExposition(families, "openmetrics");
}

/**
 * Samples per CPU second reading `pages` in `format`: median of `rounds`, each `repsPerRound`
 * passes; with `fresh`, a new scanner for every page read.
 */
function throughput(
  pages: string[],
  format: ExpositionFormat,
  { rounds = 9, repsPerRound = 400, fresh = false } = {},
): number {
  let sink = 0;
  const visitor: ExpositionVisitor = {
    sample: (s) => {
      sink += s.labelCount;
    },
  };
  const scanners = pages.map(() => createExpositionScanner({ format }));
  const pass = () => {
    let n = 0;
    for (let i = 0; i < pages.length; i++) {
      const scanner = fresh ? createExpositionScanner({ format }) : scanners[i]!;
      n += scanner.scan(pages[i]!, visitor).samples;
    }
    return n;
  };
  for (let i = 0; i < repsPerRound; i++) pass(); // warm up: optimized code, interned names
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let samples = 0;
    const t0 = process.cpuUsage();
    for (let i = 0; i < repsPerRound; i++) samples += pass();
    const cpu = process.cpuUsage(t0);
    rates.push(samples / ((cpu.user + cpu.system) / 1e6));
  }
  if (sink < 0) console.log(sink);
  return Math.round(median(rates));
}

export function benchParser(): Row[] {
  const prometheus = CAPTURES.map((f) => readFileSync(join(FIXTURES, f), "utf8"));
  const openmetrics = prometheus.map(toOpenMetrics);
  const rows: Row[] = [];
  for (const [format, pages] of [
    ["prometheus", prometheus],
    ["openmetrics", openmetrics],
  ] as const) {
    const as = format === "prometheus" ? "" : ", as OpenMetrics";
    rows.push({
      bench: `parser.${format}`,
      metric: `samples/s, dcgm + vLLM + SGLang captures${as}`,
      value: throughput([...pages], format),
      unit: "samples/s",
      target: ">= 2000000",
    });
    pages.forEach((page, i) => {
      rows.push({
        bench: `parser.${format}.capture`,
        metric: `samples/s, ${CAPTURES[i]}${as}`,
        value: throughput([page], format, { repsPerRound: 1000 }),
        unit: "samples/s",
        target: ">= 2000000",
      });
    });
    rows.push({
      bench: `parser.${format}.first-scrape`,
      metric: `samples/s, all captures${as}, a new scanner for each page`,
      value: throughput([...pages], format, { rounds: 5, repsPerRound: 100, fresh: true }),
      unit: "samples/s",
      target: "",
    });
  }
  return rows;
}
