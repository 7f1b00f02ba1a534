/**
 * Telemetry: what the control plane reads from the factory through the protocols real equipment
 * speaks — Prometheus text and OpenMetrics pages (dcgm-exporter, vLLM, trainers), Redfish (BMCs,
 * PDUs, power shelves), syslog (kernel Xid lines) — kept as a live window of series per entity,
 * and written on to any Prometheus-compatible TSDB by remote-write.
 */
export * from "./redfish/index.ts";
export * from "./syslog/index.ts";
export * from "./exposition/index.ts";
