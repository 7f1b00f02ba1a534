/**
 * Prometheus remote-write 1.0 out to any Prometheus-compatible TSDB (Prometheus with
 * `--web.enable-remote-write-receiver`, VictoriaMetrics, Mimir, Thanos Receive, Cortex).
 * Spec: https://prometheus.io/docs/specs/remote_write_spec/
 */
export { encodeLabels, encodeWriteRequest, type RemoteWriteSample, type WireSeries } from "./protobuf.ts";
export { RemoteWriteError, type RemoteWriteSeries, staleMarker } from "./series.ts";
export {
  createRemoteWriter,
  type RemoteWriter,
  type RemoteWriterOptions,
  type RemoteWriteStats,
  USER_AGENT,
} from "./writer.ts";
