/**
 * Hand-written protobuf encoder for the three messages of remote-write 1.0 (prompb
 * `remote.proto` / `types.proto`, as restated in the spec,
 * https://prometheus.io/docs/specs/remote_write_spec/#protocol):
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Sizes are computed first so that each request is written into one exactly sized buffer.
 */

/** One sample of a series. */
export interface RemoteWriteSample {
  /** Milliseconds since the Unix epoch (spec: "Timestamps MUST be int64 counted as milliseconds"). */
  timestampMs: number;
  /** Any float64, NaN and ±Inf included. */
  value: number;
  /** Marks the series as ended at `timestampMs` (a Prometheus stale marker); `value` is ignored. */
  stale?: boolean;
}

/** A series as the encoder takes it: its labels already encoded, its samples in timestamp order. */
export interface WireSeries {
  /** The series' `repeated Label labels = 1` fields, from {@link encodeLabels}. */
  labelBytes: Uint8Array;
  samples: readonly RemoteWriteSample[];
}

// Field keys: (field number << 3) | wire type (2 = length-delimited, 1 = 64-bit, 0 = varint).
const KEY_TIMESERIES = 0x0a; // WriteRequest.timeseries = 1
const KEY_LABELS = 0x0a; // TimeSeries.labels = 1
const KEY_SAMPLES = 0x12; // TimeSeries.samples = 2
const KEY_NAME = 0x0a; // Label.name = 1
const KEY_VALUE = 0x12; // Label.value = 2
const KEY_SAMPLE_VALUE = 0x09; // Sample.value = 1, double
const KEY_SAMPLE_TIMESTAMP = 0x10; // Sample.timestamp = 2, int64

// JavaScript does not promise to keep NaN payloads, so both NaNs are written bit by bit.
// The spec reserves 0x7ff0000000000002 for stale markers ("This value MUST NOT be used
// otherwise"); an ordinary NaN is written as Prometheus's own value.NormalNaN.
const STALE_NAN_HI = 0x7ff00000;
const STALE_NAN_LO = 0x00000002;
const NORMAL_NAN_HI = 0x7ff80000;
const NORMAL_NAN_LO = 0x00000001;

/** Bytes of `v` as a protobuf varint; negative int64 values take the full ten bytes. */
function varintSize(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    // int64 is sent as its 64-bit two's complement.
    let big = BigInt.asUintN(64, BigInt(v));
    while (big >= 128n) {
      buf[pos++] = Number(big & 127n) | 128;
      big >>= 7n;
    }
    buf[pos++] = Number(big);
    return pos;
  }
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Size of one encoded `Sample` message body. */
function sampleSize(s: RemoteWriteSample): number {
  return 1 + 8 + 1 + varintSize(s.timestampMs);
}

/**
 * Encodes label pairs as the `labels` fields of a `TimeSeries`. The caller gives them sorted by
 * name, without duplicates or empty values (spec, "Labels").
 */
export function encodeLabels(labels: readonly (readonly [string, string])[]): Uint8Array {
  const parts = labels.map(([name, value]) => [Buffer.from(name, "utf8"), Buffer.from(value, "utf8")]);
  let size = 0;
  for (const [name, value] of parts) {
    const body = 1 + varintSize(name!.length) + name!.length + 1 + varintSize(value!.length) + value!.length;
    size += 1 + varintSize(body) + body;
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (const [name, value] of parts) {
    const body = 1 + varintSize(name!.length) + name!.length + 1 + varintSize(value!.length) + value!.length;
    out[pos++] = KEY_LABELS;
    pos = writeVarint(out, pos, body);
    out[pos++] = KEY_NAME;
    pos = writeVarint(out, pos, name!.length);
    out.set(name!, pos);
    pos += name!.length;
    out[pos++] = KEY_VALUE;
    pos = writeVarint(out, pos, value!.length);
    out.set(value!, pos);
    pos += value!.length;
  }
  return out;
}

/** Encodes a `WriteRequest` holding `series` in the given order. */
export function encodeWriteRequest(series: readonly WireSeries[]): Uint8Array {
  const seriesSizes = new Array<number>(series.length);
  let size = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    let body = s.labelBytes.length;
    for (const sample of s.samples) {
      const n = sampleSize(sample);
      body += 1 + varintSize(n) + n;
    }
    seriesSizes[i] = body;
    size += 1 + varintSize(body) + body;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    out[pos++] = KEY_TIMESERIES;
    pos = writeVarint(out, pos, seriesSizes[i]!);
    out.set(s.labelBytes, pos);
    pos += s.labelBytes.length;
    for (const sample of s.samples) {
      out[pos++] = KEY_SAMPLES;
      pos = writeVarint(out, pos, sampleSize(sample));
      out[pos++] = KEY_SAMPLE_VALUE;
      if (sample.stale) {
        view.setUint32(pos, STALE_NAN_LO, true);
        view.setUint32(pos + 4, STALE_NAN_HI, true);
      } else if (Number.isNaN(sample.value)) {
        view.setUint32(pos, NORMAL_NAN_LO, true);
        view.setUint32(pos + 4, NORMAL_NAN_HI, true);
      } else {
        view.setFloat64(pos, sample.value, true);
      }
      pos += 8;
      out[pos++] = KEY_SAMPLE_TIMESTAMP;
      pos = writeVarint(out, pos, sample.timestampMs);
    }
  }
  return out;
}
