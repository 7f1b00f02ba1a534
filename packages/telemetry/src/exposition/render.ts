/**
 * Writes families back as a page in either format: the inverse of `parseExposition` for the
 * round-trip tests, and what an exporter (the twin's) can serve.
 */
import type { ExpositionFormat } from "./format.ts";
import type { Family, Sample } from "./parse.ts";

/** The page for `families` in `format`; OpenMetrics pages end with `# EOF`. */
export function renderExposition(families: readonly Family[], format: ExpositionFormat): string {
  const om = format === "openmetrics";
  const out: string[] = [];
  for (const f of families) {
    if (f.help !== undefined) out.push(`# HELP ${f.name} ${escapeHelp(f.help, om)}`);
    const untyped = f.type === "untyped" || f.type === "unknown";
    if (!untyped || (om && f.help === undefined && f.unit === undefined && f.samples.length === 0)) {
      out.push(`# TYPE ${f.name} ${f.type}`);
    }
    if (om && f.unit !== undefined) out.push(`# UNIT ${f.name} ${f.unit}`);
    for (const s of f.samples) out.push(renderSample(s, om));
  }
  if (om) out.push("# EOF");
  return `${out.join("\n")}\n`;
}

function renderSample(s: Sample, om: boolean): string {
  let line = s.name + renderLabels(s.labels, om) + " " + formatNumber(s.value);
  if (s.timestampMs !== undefined)
    line += " " + (om ? formatNumber(s.timestampMs / 1000) : String(s.timestampMs));
  if (s.exemplar) {
    const e = s.exemplar;
    line += " # " + renderLabels(e.labels, true) + " " + formatNumber(e.value);
    if (e.timestampMs !== undefined) line += " " + formatNumber(e.timestampMs / 1000);
  }
  return line;
}

function renderLabels(labels: readonly string[], always: boolean): string {
  if (labels.length === 0) return always ? "{}" : "";
  const parts: string[] = [];
  for (let i = 0; i < labels.length; i += 2) parts.push(`${labels[i]}="${escapeLabelValue(labels[i + 1]!)}"`);
  return `{${parts.join(",")}}`;
}

/** A float in the syntax both formats read: `NaN`, `+Inf`, `-Inf`, `-0`, else JavaScript's shortest form. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  if (v === 0 && 1 / v < 0) return "-0";
  return String(v);
}

/** Escapes `\`, `"` and newline in a label value. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes `\` and newline in HELP text, and `"` in OpenMetrics (its `escaped-string`). */
export function escapeHelp(v: string, om: boolean): string {
  return v.replace(om ? /[\\"\n]/g : /[\\\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}
