/**
 * The two text formats a scrape target may answer with, and choosing between them from the
 * response's Content-Type, as a Prometheus server does.
 *
 * Prometheus text 0.0.4: https://prometheus.io/docs/instrumenting/exposition_formats/
 * OpenMetrics 1.0: https://github.com/prometheus/OpenMetrics/blob/v1.0.0/specification/OpenMetrics.md
 */

/** `prometheus`: text format 0.0.4; `openmetrics`: OpenMetrics 1.0 text. */
export type ExpositionFormat = "prometheus" | "openmetrics";

/**
 * The metric types of both formats. `untyped` is 0.0.4's name for a family without `# TYPE`;
 * OpenMetrics calls it `unknown` and adds `info`, `stateset` and `gaugehistogram`.
 */
export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "summary"
  | "untyped"
  | "unknown"
  | "info"
  | "stateset"
  | "gaugehistogram";

/** The Accept header a scraper sends: OpenMetrics preferred, 0.0.4 as the fallback. */
export const SCRAPE_ACCEPT_HEADER =
  "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/**
 * The format of a response body from its Content-Type header. OpenMetrics only for
 * `application/openmetrics-text` (version 1.0.0, or no version, which the spec says means 1.0.0);
 * everything else — `text/plain; version=0.0.4`, a missing header, an unknown type — is read as
 * 0.0.4, which is what Prometheus falls back to as well.
 *
 * @example formatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8") // "openmetrics"
 */
export function formatFromContentType(header: string | null | undefined): ExpositionFormat {
  if (!header) return "prometheus";
  const parts = header.split(";");
  if (parts[0]!.trim().toLowerCase() !== "application/openmetrics-text") return "prometheus";
  for (let i = 1; i < parts.length; i++) {
    const [key, value] = parts[i]!.split("=", 2);
    if (key?.trim().toLowerCase() !== "version") continue;
    const v = value?.trim().replace(/^"|"$/g, "") ?? "";
    // 0.0.1 is the pre-1.0 draft Prometheus also reads with its OpenMetrics parser.
    return v === "1.0.0" || v === "0.0.1" ? "openmetrics" : "prometheus";
  }
  return "openmetrics";
}

/** The Content-Type an exporter sets for `format`. */
export function contentTypeFor(format: ExpositionFormat): string {
  return format === "openmetrics"
    ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
    : "text/plain; version=0.0.4; charset=utf-8";
}
