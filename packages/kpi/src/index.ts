/**
 * Token KPIs: tokens per GPU, rack, row, hall, org, job and model, per joule and per GPU-hour,
 * usable GPU time and stranded power, measured from the telemetry.
 */
export {
  computeKpis,
  KPI_GROUPINGS,
  type KpiGrouping,
  type KpiQuery,
  type KpiReader,
  type KpiRow,
  METRICS,
  type TokenSource,
} from "./engine.ts";
export { type StrandedRow, strandedPower } from "./stranded.ts";
