/**
 * Which sample names belong to a metric family of each type.
 *
 * OpenMetrics 1.0 ("Metric types"): counter → `_total`, `_created`; gauge, unknown, stateset →
 * the bare name; info → `_info`; histogram → `_bucket`, `_count`, `_sum`, `_created`;
 * gaugehistogram → `_bucket`, `_gcount`, `_gsum`; summary → bare (with `quantile`), `_count`,
 * `_sum`, `_created`. Text 0.0.4 names counters and gauges by their sample name, and Prometheus'
 * own text parser (expfmt) also takes a bare sample into a histogram family.
 */
import type { MetricType } from "./format.ts";

/** What a sample is to its family; NONE when it is not part of it. */
export const Role = {
  NONE: 0,
  BARE: 1,
  TOTAL: 2,
  CREATED: 3,
  BUCKET: 4,
  COUNT: 5,
  SUM: 6,
  GCOUNT: 7,
  GSUM: 8,
  INFO: 9,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * The scanner's record of one family. A scanner keeps one per name across pages and resets it
 * when the name comes back, so that a scrape does not allocate its families anew.
 */
export interface FamilyState {
  readonly name: string;
  /** The page (the scanner's count of scans) the family was last on; it is on the page being read when equal. */
  page: number;
  type: MetricType;
  /** A `# TYPE` line was read for it. */
  typed: boolean;
  help: string | undefined;
  unit: string | undefined;
  samples: number;
}

function suffixed(name: string, base: string, suffix: string): boolean {
  return name.length === base.length + suffix.length && name.startsWith(base) && name.endsWith(suffix);
}

/** The role of sample `name` in family `f`, under OpenMetrics rules when `om`. */
export function roleOf(f: FamilyState, name: string, om: boolean): Role {
  const base = f.name;
  switch (f.type) {
    case "counter":
      if (!om) return name === base ? Role.BARE : Role.NONE;
      if (suffixed(name, base, "_total")) return Role.TOTAL;
      return suffixed(name, base, "_created") ? Role.CREATED : Role.NONE;
    case "histogram":
      if (suffixed(name, base, "_bucket")) return Role.BUCKET;
      if (suffixed(name, base, "_count")) return Role.COUNT;
      if (suffixed(name, base, "_sum")) return Role.SUM;
      if (om) return suffixed(name, base, "_created") ? Role.CREATED : Role.NONE;
      return name === base ? Role.BARE : Role.NONE;
    case "summary":
      if (name === base) return Role.BARE;
      if (suffixed(name, base, "_count")) return Role.COUNT;
      if (suffixed(name, base, "_sum")) return Role.SUM;
      return om && suffixed(name, base, "_created") ? Role.CREATED : Role.NONE;
    case "gaugehistogram":
      if (suffixed(name, base, "_bucket")) return Role.BUCKET;
      if (suffixed(name, base, "_gcount")) return Role.GCOUNT;
      return suffixed(name, base, "_gsum") ? Role.GSUM : Role.NONE;
    case "info":
      return suffixed(name, base, "_info") ? Role.INFO : Role.NONE;
    default:
      return name === base ? Role.BARE : Role.NONE;
  }
}

/** The sample names a family of `type` takes, for error messages. */
export function expectedNames(f: FamilyState, om: boolean): string {
  const s = (...x: string[]) => x.map((v) => `"${f.name}${v}"`).join(", ");
  switch (f.type) {
    case "counter":
      return om ? s("_total", "_created") : s("");
    case "histogram":
      return om ? s("_bucket", "_count", "_sum", "_created") : s("", "_bucket", "_count", "_sum");
    case "summary":
      return om ? s("", "_count", "_sum", "_created") : s("", "_count", "_sum");
    case "gaugehistogram":
      return s("_bucket", "_gcount", "_gsum");
    case "info":
      return s("_info");
    default:
      return s("");
  }
}

/** Suffixes a sample may carry, tried when it starts a family to find the family it belongs to. */
export const PROM_SUFFIXES = ["_bucket", "_count", "_sum"] as const;
export const OM_SUFFIXES = [
  "_total",
  "_created",
  "_bucket",
  "_count",
  "_sum",
  "_gcount",
  "_gsum",
  "_info",
] as const;

/** Types a `# TYPE` line may name in each format. */
export const PROM_TYPES: ReadonlySet<string> = new Set([
  "counter",
  "gauge",
  "histogram",
  "summary",
  "untyped",
]);
export const OM_TYPES: ReadonlySet<string> = new Set([
  "counter",
  "gauge",
  "histogram",
  "gaugehistogram",
  "stateset",
  "info",
  "summary",
  "unknown",
]);

const CANONICAL = new Map<string, MetricType>(
  (
    [
      "counter",
      "gauge",
      "histogram",
      "summary",
      "untyped",
      "unknown",
      "info",
      "stateset",
      "gaugehistogram",
    ] as const
  ).map((t) => [t, t]),
);

/**
 * The type named by `s`, as the one string every family of that type shares (so that comparing
 * types compares references), or undefined.
 */
export function canonicalType(s: string): MetricType | undefined {
  return CANONICAL.get(s);
}
