/** The convenience reading of a page: every family with its samples, allocated. */
import type { ExpositionFormat, MetricType } from "./format.ts";
import { type SampleRecord, type ScanOptions, scanExposition } from "./scanner.ts";

/** An exemplar: labels flat as in {@link Sample.labels}. */
export interface Exemplar {
  labels: string[];
  value: number;
  timestampMs?: number;
}

/** One sample of a family. */
export interface Sample {
  /** The sample's own name: `x_bucket`, `x_total`, … */
  name: string;
  /**
   * Label names and values, flat and in page order: `[name0, value0, name1, value1, …]` (no
   * `__proto__` pitfalls, cheap to copy and to key series by); read one with {@link labelValue}.
   */
  labels: string[];
  value: number;
  /** Milliseconds since the epoch (OpenMetrics seconds are converted and rounded to the ms). */
  timestampMs?: number;
  exemplar?: Exemplar;
}

/** A metric family: its metadata and its samples in page order. */
export interface Family {
  name: string;
  /** `untyped` (0.0.4) or `unknown` (OpenMetrics) when the page has no `# TYPE` for it. */
  type: MetricType;
  help?: string;
  unit?: string;
  samples: Sample[];
}

/** Options of {@link parseExposition}. */
export interface ParseOptions extends ScanOptions {
  format?: ExpositionFormat;
}

/**
 * Reads a whole page into families, in the order the page first names them. Throws `ParseError`
 * (`LINE:COL: reason`) at the first fault; nothing of a faulty page is returned.
 *
 * @example
 * const { families } = parseExposition(body, { format: formatFromContentType(res.headers.get("content-type")) });
 */
export function parseExposition(text: string, options: ParseOptions = {}): { families: Family[] } {
  const byName = new Map<string, Family>();
  const families: Family[] = [];
  const get = (name: string, type: MetricType): Family => {
    let f = byName.get(name);
    if (f === undefined) {
      f = { name, type, samples: [] };
      byName.set(name, f);
      families.push(f);
    }
    return f;
  };
  const untyped: MetricType = options.format === "openmetrics" ? "unknown" : "untyped";
  scanExposition(
    text,
    {
      help: (name, help) => {
        get(name, untyped).help = help;
      },
      type: (name, type) => {
        get(name, type).type = type;
      },
      unit: (name, unit) => {
        get(name, untyped).unit = unit;
      },
      sample: (r) => {
        get(r.family, r.type).samples.push(toSample(r));
      },
    },
    options,
  );
  return { families };
}

function toSample(r: Readonly<SampleRecord>): Sample {
  const s: Sample = { name: r.name, labels: r.labels.slice(0, 2 * r.labelCount), value: r.value };
  if (!Number.isNaN(r.timestampMs)) s.timestampMs = r.timestampMs;
  if (r.hasExemplar) {
    const e: Exemplar = {
      labels: r.exemplarLabels.slice(0, 2 * r.exemplarLabelCount),
      value: r.exemplarValue,
    };
    if (!Number.isNaN(r.exemplarTimestampMs)) e.timestampMs = r.exemplarTimestampMs;
    s.exemplar = e;
  }
  return s;
}

/** The value of label `name` in flat `labels`, or undefined. */
export function labelValue(labels: readonly string[], name: string): string | undefined {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) return labels[i + 1];
  return undefined;
}
