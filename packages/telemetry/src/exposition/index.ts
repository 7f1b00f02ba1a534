/**
 * Prometheus text 0.0.4 and OpenMetrics 1.0 pages: a streaming scanner with a visitor, a
 * convenience parser into families, a renderer, and Content-Type negotiation.
 */
export { ParseError } from "./errors.ts";
export {
  contentTypeFor,
  type ExpositionFormat,
  formatFromContentType,
  type MetricType,
  SCRAPE_ACCEPT_HEADER,
} from "./format.ts";
export {
  type Exemplar,
  type Family,
  labelValue,
  type ParseOptions,
  parseExposition,
  type Sample,
} from "./parse.ts";
export { escapeHelp, escapeLabelValue, formatNumber, renderExposition } from "./render.ts";
export {
  createExpositionScanner,
  type ExpositionScanner,
  type ExpositionVisitor,
  type SampleRecord,
  type ScanOptions,
  type ScanResult,
  scanExposition,
} from "./scanner.ts";
