/**
 * The live series store: every scraped series at full resolution for the retention window,
 * compressed in memory. Re-exported by the telemetry package's index.ts.
 */
export type { Labels, Matcher } from "./selector.ts";
export { parseSelector } from "./selector.ts";
export { createSeriesStore } from "./store.ts";
export type {
  GroupRef,
  RejectReason,
  SeriesRange,
  SeriesRef,
  SeriesStore,
  SeriesStoreOptions,
  SeriesStoreStats,
  SeriesSum,
} from "./types.ts";
