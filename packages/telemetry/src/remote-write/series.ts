/**
 * Turns the caller's series into what remote-write 1.0 allows on the wire, or says precisely
 * why it cannot (spec, "Labels" and "Ordering",
 * https://prometheus.io/docs/specs/remote_write_spec/#labels).
 */
import { encodeLabels, type RemoteWriteSample } from "./protobuf.ts";

/** One series to write: its full label set (with `__name__`) and some of its samples. */
export interface RemoteWriteSeries {
  /** Label names to values; `__name__` is the metric name. An empty value means "no such label". */
  labels: Readonly<Record<string, string>>;
  samples: readonly RemoteWriteSample[];
}

/** Bad input given to the remote writer (a series, a label, a sample or an option). */
export class RemoteWriteError extends Error {
  override name = "RemoteWriteError";
}

/** A validated series, labels encoded once so a retry or a regrouping never re-encodes them. */
export interface PreparedSeries {
  /** Identifies the series: its encoded labels, length-prefixed and so unambiguous, as a string. */
  key: string;
  labelBytes: Uint8Array;
  /** In timestamp order. */
  samples: RemoteWriteSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// With the u flag a paired surrogate reads as one code point, so only a lone one matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** Builds the sample for a Prometheus stale marker: the series ended at `timestampMs`. */
export function staleMarker(timestampMs: number): RemoteWriteSample {
  return { timestampMs, value: Number.NaN, stale: true };
}

/**
 * Validates and normalizes series: labels sorted by name (by UTF-16 code unit, which orders
 * the ASCII-only valid names exactly as Go's byte order does), labels with empty values left
 * out, samples sorted by timestamp. Throws {@link RemoteWriteError} naming the series and the
 * reason; nothing is returned half-done.
 */
export function prepareSeries(series: readonly RemoteWriteSeries[]): PreparedSeries[] {
  return series.map((s, i) => {
    const where = () => `series ${i} (${JSON.stringify(s?.labels ?? null)})`;
    if (s === null || typeof s !== "object" || s.labels === null || typeof s.labels !== "object") {
      throw new RemoteWriteError(`series ${i}: expected { labels, samples }`);
    }
    if (!Array.isArray(s.samples)) throw new RemoteWriteError(`${where()}: samples must be an array`);
    const name = s.labels.__name__;
    if (typeof name !== "string" || !METRIC_NAME.test(name)) {
      throw new RemoteWriteError(`${where()}: __name__ must match ${METRIC_NAME.source}`);
    }
    const pairs: [string, string][] = [];
    for (const [label, value] of Object.entries(s.labels)) {
      if (!LABEL_NAME.test(label)) {
        throw new RemoteWriteError(`${where()}: label name "${label}" must match ${LABEL_NAME.source}`);
      }
      if (typeof value !== "string") {
        throw new RemoteWriteError(`${where()}: label "${label}" must have a string value`);
      }
      // A lone surrogate has no UTF-8 form; the spec allows only UTF-8 label values.
      if (LONE_SURROGATE.test(value)) {
        throw new RemoteWriteError(`${where()}: label "${label}" is not valid Unicode (lone surrogate)`);
      }
      if (value !== "") pairs.push([label, value]);
    }
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const samples = s.samples.map((sample, j) => {
      if (!Number.isSafeInteger(sample?.timestampMs)) {
        throw new RemoteWriteError(`${where()}, sample ${j}: timestampMs must be an integer (ms)`);
      }
      if (typeof sample.value !== "number") {
        throw new RemoteWriteError(`${where()}, sample ${j}: value must be a number`);
      }
      return sample.stale
        ? staleMarker(sample.timestampMs)
        : { timestampMs: sample.timestampMs, value: sample.value };
    });
    sortByTime(samples);
    const labelBytes = encodeLabels(pairs);
    return {
      key: Buffer.from(labelBytes.buffer, labelBytes.byteOffset, labelBytes.length).toString("latin1"),
      labelBytes,
      samples,
    };
  });
}

/** Sorts samples by timestamp in place, stably, skipping the work when already in order. */
export function sortByTime(samples: RemoteWriteSample[]): void {
  for (let k = 1; k < samples.length; k++) {
    if (samples[k]!.timestampMs < samples[k - 1]!.timestampMs) {
      samples.sort((a, b) => a.timestampMs - b.timestampMs);
      return;
    }
  }
}
