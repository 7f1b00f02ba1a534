/**
 * Telemetry: what the control plane reads from the factory through the protocols real equipment
 * speaks — Prometheus text and OpenMetrics pages (dcgm-exporter, vLLM, trainers), Redfish (BMCs,
 * PDUs, power shelves), syslog (kernel Xid lines) — kept as a live window of series per entity,
 * and written on to any Prometheus-compatible TSDB by remote-write.
 */

export {
  type Collector,
  type CollectorOptions,
  createCollector,
  type TargetStatus,
} from "./collector/collector.ts";
export { FetchError, fetchBounded } from "./collector/fetch.ts";
export { discoverTargets, staticTargets, type Target, type TargetKind } from "./collector/targets.ts";
export * from "./exposition/index.ts";
export * from "./redfish/index.ts";
export * from "./remote-write/index.ts";
export * from "./series/index.ts";
export * from "./syslog/index.ts";
