/**
 * The live series store's contract: the in-memory window of every scraped series at full
 * resolution. The collector writes it (one `appendBatch` per scraped page), the KPI engine and the
 * API read it. Data model and query semantics follow Prometheus
 * (https://prometheus.io/docs/prometheus/latest/querying/basics/): series are label sets with
 * `__name__`, instant queries look back 5 minutes, staleness markers end a series at once.
 */
import type { Labels, Matcher } from "./selector.ts";

/** A series handle: a small dense integer, stable for the store's lifetime. */
export type SeriesRef = number;
/** A scrape group handle: series scraped together share its timestamp column. */
export type GroupRef = number;

/** Why an append or staleness marker was refused. Nothing stored is changed by a refusal. */
export type RejectReason =
  /** At or before the series' (or its group's) newest sample or staleness marker. */
  | "out-of-order"
  /** The series already has a sample at this timestamp. */
  | "duplicate"
  /** Not an integer in [0, 2^52) milliseconds. */
  | "bad-timestamp"
  /** Older than the retention window (the newest timestamp seen minus retentionMs). */
  | "too-old"
  /** Not a ref this store handed out. */
  | "unknown-series"
  /** The series is bound to another scrape group (a series belongs to the group of its first append). */
  | "wrong-group";

export interface SeriesStoreOptions {
  /** Data older than this behind the newest timestamp is dropped, in whole chunks. Default 1 h. */
  retentionMs?: number;
  /** Instant-query lookback (Prometheus' --query.lookback-delta). Default 5 min. */
  lookbackMs?: number;
  /** Samples per chunk (≤ 250). Default 120, as Prometheus' head chunks. */
  chunkSamples?: number;
  /** A chunk is also cut when it spans this long. Default retentionMs / 3. */
  chunkSpanMs?: number;
}

/** Sample arrays of one series, oldest first. */
export interface SeriesRange {
  timestampsMs: Float64Array;
  values: Float64Array;
}

/** A sum over many series and how many contributed (NaN and absent series are left out). */
export interface SeriesSum {
  sum: number;
  count: number;
}

export interface SeriesStoreStats {
  /** Series ever created. */
  series: number;
  /** Series with at least one sample inside the window. */
  activeSeries: number;
  /** Samples held. */
  samples: number;
  /** Everything the store holds: chunk bits, open chunks, timestamp columns, per-series state, index. */
  bytes: number;
  /** bytes / activeSeries (0 when none). */
  bytesPerSeries: number;
  /** Where the bytes are. */
  breakdown: { sealedChunks: number; openChunks: number; seriesState: number; index: number; stale: number };
  rejected: Readonly<Record<RejectReason, number>>;
}

/**
 * The live series store. Not thread-safe (one event loop); every method is synchronous.
 *
 * @example
 *   const store = createSeriesStore({ retentionMs: 3_600_000 });
 *   const page = store.group("r01-dgx1:9400");
 *   const power = store.getOrCreate({ __name__: "DCGM_FI_DEV_POWER_USAGE", entity: "gpu:r01-dgx1/3" });
 *   store.appendBatch(page, scrapeMs, [power], [612.5]);
 *   store.instant(power, scrapeMs); // 612.5
 *   store.sumInstant(store.select('DCGM_FI_DEV_POWER_USAGE{entity=~"gpu:r01-.*"}'), nowMs);
 */
export interface SeriesStore {
  /** The series of a label set, created on first sight. Throws when `__name__` is missing. Empty label values count as absent. */
  getOrCreate(labels: Labels): SeriesRef;
  /** The series of a label set, if it exists. */
  get(labels: Labels): SeriesRef | undefined;
  /** The label set of a series. */
  labels(ref: SeriesRef): Labels;
  /** Every series of a metric name, ascending. */
  byName(name: string): SeriesRef[];
  /** Every series whose `entity` label is `entity` (a model entity id such as "gpu:r01-dgx1/3"), ascending. */
  byEntity(entity: string): SeriesRef[];
  /** Series matching a PromQL selector (text or parsed matchers), ascending. Regexes are fully anchored. */
  select(selector: string | readonly Matcher[]): SeriesRef[];

  /** The scrape group for a key (e.g. a target URL), created on first use. */
  group(key: string): GroupRef;
  /**
   * Appends one scrape of a group: `values[i]` for `refs[i]`, all at `timestampMs`, which every
   * series of the group shares (one timestamp column per group, not per series). Timestamps must
   * not go back within a group; a second batch at the group's newest timestamp adds series to that
   * scrape. Returns how many samples were stored; each refusal is counted by reason in `stats()`.
   */
  appendBatch(
    group: GroupRef,
    timestampMs: number,
    refs: ArrayLike<SeriesRef>,
    values: ArrayLike<number>,
  ): number;
  /** Appends one sample; a series never batched gets a timestamp column of its own. */
  append(ref: SeriesRef, timestampMs: number, value: number): boolean;
  /**
   * A Prometheus staleness marker: the series vanished from its target's scrape at `timestampMs`
   * (after its newest sample). From that instant it has no value until a newer sample arrives.
   */
  markStale(ref: SeriesRef, timestampMs: number): boolean;

  /**
   * The value at `atMs`: the newest sample at or before it, if newer than `atMs - lookbackMs`
   * (left-open, as Prometheus 3) and not followed by a staleness marker at or before `atMs`.
   */
  instant(ref: SeriesRef, atMs: number, lookbackMs?: number): number | undefined;
  /** Samples with startMs ≤ t ≤ endMs (staleness markers are not samples). */
  range(ref: SeriesRef, startMs: number, endMs: number): SeriesRange;
  /**
   * Exact counter increase between two instants: from the newest sample at or before `startMs`
   * (any age still held; else the first sample after it) through every sample up to `endMs`, the
   * sum of rises, a drop counting as a reset from 0 (the new value is the increase). Additive:
   * delta(a,b) + delta(b,c) = delta(a,c). NaN samples are skipped. Undefined without samples.
   */
  counterDelta(ref: SeriesRef, startMs: number, endMs: number): number | undefined;
  /**
   * PromQL `increase(v[range])` at `endMs` with range endMs − startMs: samples in (startMs, endMs],
   * resets corrected, extrapolated to the window edges as Prometheus' extrapolatedRate does.
   * Undefined with fewer than two samples.
   */
  increase(ref: SeriesRef, startMs: number, endMs: number): number | undefined;
  /** PromQL `rate`: `increase` per second of the window. */
  rate(ref: SeriesRef, startMs: number, endMs: number): number | undefined;
  /** Sum of `instant` over many series. */
  sumInstant(refs: ArrayLike<SeriesRef>, atMs: number, lookbackMs?: number): SeriesSum;
  /** Sum of `counterDelta` over many series. */
  sumCounterDelta(refs: ArrayLike<SeriesRef>, startMs: number, endMs: number): SeriesSum;

  /** Drops whole chunks older than the newest timestamp minus retentionMs (appends also do this as they go). */
  applyRetention(): void;
  /** Sizes and counts; bytes are measured from the typed arrays held, index structures estimated. */
  stats(): SeriesStoreStats;
}
