/** `flightdeck parse-metrics FILE`: the control plane's parser run on a saved page, for checking captures. */
import { readFileSync } from "node:fs";
import { type ExpositionFormat, type Family, ParseError, parseExposition } from "@flightdeck/telemetry";
import { table } from "./table.ts";

/** Sets the exit code: 0 when the page parses, 1 when it does not (the error names LINE:COL). */
export function parseMetricsCommand(file: string, format: string | undefined, json: boolean): void {
  if (format !== undefined && format !== "prometheus" && format !== "openmetrics")
    throw new Error(`--format must be prometheus or openmetrics, got ${JSON.stringify(format)}`);
  const text = readFileSync(file, "utf8");
  const chosen: ExpositionFormat =
    (format as ExpositionFormat | undefined) ?? (/# EOF\s*$/.test(text) ? "openmetrics" : "prometheus");
  let families: Family[];
  try {
    families = parseExposition(text, { format: chosen }).families;
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    if (json)
      console.log(
        JSON.stringify(
          { ok: false, format: chosen, error: { line: err.line, col: err.col, reason: err.reason } },
          null,
          2,
        ),
      );
    else console.error(`${file}:${err.message}`);
    process.exitCode = 1;
    return;
  }
  const samples = families.reduce((n, f) => n + f.samples.length, 0);
  if (json) {
    const out = families.map((f) => ({
      name: f.name,
      type: f.type,
      ...(f.help !== undefined ? { help: f.help } : {}),
      ...(f.unit !== undefined ? { unit: f.unit } : {}),
      samples: f.samples.map((s) => ({
        name: s.name,
        labels: Object.fromEntries(pairs(s.labels)),
        value: jsonNumber(s.value),
        ...(s.timestampMs !== undefined ? { timestampMs: s.timestampMs } : {}),
        ...(s.exemplar
          ? {
              exemplar: {
                labels: Object.fromEntries(pairs(s.exemplar.labels)),
                value: jsonNumber(s.exemplar.value),
                ...(s.exemplar.timestampMs !== undefined ? { timestampMs: s.exemplar.timestampMs } : {}),
              },
            }
          : {}),
      })),
    }));
    console.log(JSON.stringify({ ok: true, format: chosen, families: out }, null, 2));
    return;
  }
  console.log(
    table(
      ["FAMILY", "TYPE", "SAMPLES"],
      families.map((f) => [f.name, f.type, String(f.samples.length)]),
    ),
  );
  console.log(`${families.length} families, ${samples} samples (${chosen})`);
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** JSON has no NaN or infinities: they are written as the strings Prometheus's API uses. */
function jsonNumber(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return v;
}
