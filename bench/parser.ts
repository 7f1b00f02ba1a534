/**
 * Exposition parser throughput: samples per second on one core over the real captures
 * (`fixtures/dcgm/*.prom`, `fixtures/vllm/*.prom`), each parsed many times by a reused scanner
 * (one per target, as a scrape loop keeps it), the median of several rounds. The OpenMetrics row
 * reads the same captures rendered as OpenMetrics (counters renamed to their family, `# EOF`).
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

/** Samples per second reading `pages` in `format`: median of `rounds`, each ~`repsPerRound` passes. */
function throughput(pages: string[], format: ExpositionFormat, rounds = 9, repsPerRound = 400): number {
  let sink = 0;
  const visitor: ExpositionVisitor = {
    sample: (s) => {
      sink += s.labelCount;
    },
  };
  const scanners = pages.map(() => createExpositionScanner({ format }));
  const pass = () => {
    let n = 0;
    for (let i = 0; i < pages.length; i++) n += scanners[i]!.scan(pages[i]!, visitor).samples;
    return n;
  };
  for (let i = 0; i < repsPerRound; i++) pass(); // warm up: optimized code, interned names
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let samples = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < repsPerRound; i++) samples += pass();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(samples / seconds);
  }
  if (sink < 0) console.log(sink);
  return Math.round(median(rates));
}

export function benchParser(): Row[] {
  const pages = CAPTURES.map((f) => readFileSync(join(FIXTURES, f), "utf8"));
  return [
    {
      bench: "parser.prometheus",
      metric: "samples/s, dcgm + vLLM + SGLang captures",
      value: throughput(pages, "prometheus"),
      unit: "samples/s",
      target: ">= 2000000",
    },
    {
      bench: "parser.openmetrics",
      metric: "samples/s, same captures as OpenMetrics",
      value: throughput(pages.map(toOpenMetrics), "openmetrics"),
      unit: "samples/s",
      target: ">= 2000000",
    },
  ];
}
