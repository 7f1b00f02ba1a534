/**
 * The remote-write client: queues series, sends them in batches as snappy-compressed protobuf
 * `WriteRequest`s (remote-write 1.0, https://prometheus.io/docs/specs/remote_write_spec/),
 * retries what the spec says to retry, and never holds more than a bounded number of samples.
 */
import { compress } from "snappyjs";
import pkg from "../../package.json" with { type: "json" };
import { encodeWriteRequest, type RemoteWriteSample, type WireSeries } from "./protobuf.ts";
import {
  type PreparedSeries,
  prepareSeries,
  RemoteWriteError,
  type RemoteWriteSeries,
  sortByTime,
} from "./series.ts";

/** Options of {@link createRemoteWriter}; every field but `url` has a default. */
export interface RemoteWriterOptions {
  /** The receiver's endpoint, e.g. `http://prometheus:9090/api/v1/write`. */
  url: string;
  /** Most samples in one request (default 2000, Prometheus's `max_samples_per_send`). */
  batchSize?: number;
  /** A partial batch waits at most this long before it is sent (default 5000, `batch_send_deadline`). */
  flushIntervalMs?: number;
  /** Most samples waiting to be sent; past it the oldest are dropped (default 100000). */
  maxQueueSamples?: number;
  /** Limit on one request, body included (default 30000, `remote_timeout`). */
  timeoutMs?: number;
  /** First retry delay, doubled on each retry (default 30, `min_backoff`). */
  minBackoffMs?: number;
  /** Cap on the retry delay (default 5000, `max_backoff`). */
  maxBackoffMs?: number;
  /** Retries of one batch before it is dropped and counted as failed (default 10). */
  maxRetries?: number;
  /** Extra request headers (e.g. `Authorization`, `X-Scope-OrgID`); the protocol's own are refused. */
  headers?: Readonly<Record<string, string>>;
}

/** Counters since the writer was created. */
export interface RemoteWriteStats {
  /** Samples the receiver accepted (2xx). */
  sentSamples: number;
  /** Requests the receiver accepted. */
  sentBatches: number;
  /** Retries after a 5xx, a 429, a timeout or a network error. */
  retries: number;
  /** Batches given up: rejected with a 4xx (never retried), or still failing after `maxRetries`. */
  failedBatches: number;
  /** Samples lost for good: of failed batches, dropped from a full queue, or left at close. */
  droppedSamples: number;
  /** Of `droppedSamples`, the oldest ones dropped because the queue was full. */
  queueFullDroppedSamples: number;
  /** Samples waiting in the queue now (a batch being sent is not counted). */
  queuedSamples: number;
  /** The latest failure, with the receiver's message as it was sent (spec: log it as is). */
  lastError: string | undefined;
}

/**
 * Writes series to a Prometheus-compatible receiver. One request is in flight at a time, so the
 * samples of a series reach the receiver in the order they were written (spec, "Ordering"). It
 * holds at most `maxQueueSamples` queued samples plus the one batch in flight, whatever the
 * receiver does. A batch is retried on 5xx, 429, timeouts and network errors with exponential
 * backoff, and dropped at once on any other 4xx (spec, "Retries & Backoff").
 */
export interface RemoteWriter {
  /**
   * Queues series; returns at once. Each series' samples are sorted by timestamp; across calls
   * the caller keeps a series' timestamps increasing (receivers reject out-of-order samples).
   * Throws {@link RemoteWriteError}, queuing nothing, if any series is invalid or the writer is
   * closed.
   */
  write(series: readonly RemoteWriteSeries[]): void;
  /** Sends everything queued now; resolves when it was delivered or given up. */
  flush(): Promise<void>;
  /** Counters since creation. */
  stats(): RemoteWriteStats;
  /**
   * Stops taking writes and flushes what is queued. After `flushTimeoutMs` (default 60000, the
   * default of Prometheus's `--storage.remote.flush-deadline`) it stops retrying: the batch in
   * flight and what is still queued are dropped and counted. Calling it again changes nothing.
   */
  close(options?: { flushTimeoutMs?: number }): Promise<void>;
}

/** Sent with every request as the spec requires (`User-Agent: <name & version of the sender>`). */
export const USER_AGENT = `flightdeck-telemetry/${pkg.version}`;

// The spec: clients "MUST NOT allow users to configure them in such a way as to send reserved
// headers"; content-length and host belong to the HTTP client.
const RESERVED_HEADERS = new Set([
  "content-encoding",
  "content-type",
  "x-prometheus-remote-write-version",
  "user-agent",
  "content-length",
  "host",
]);

interface QueuedChunk {
  series: PreparedSeries;
  /** Index of the first sample of `series.samples` not yet taken or dropped. */
  next: number;
}

interface Batch {
  series: WireSeries[];
  samples: number;
}

/**
 * Creates a remote writer. Nothing is sent until samples are written.
 *
 * @example
 *   const writer = createRemoteWriter({ url: "http://127.0.0.1:9090/api/v1/write" });
 *   writer.write([{ labels: { __name__: "gpu_power_watts", node: "r01-dgx1", gpu: "0" },
 *                   samples: [{ timestampMs: Date.now(), value: 612.5 }] }]);
 *   await writer.close();
 */
export function createRemoteWriter(options: RemoteWriterOptions): RemoteWriter {
  const url = parseUrl(options.url);
  const batchSize = positiveInt("batchSize", options.batchSize, 2000);
  const flushIntervalMs = positiveInt("flushIntervalMs", options.flushIntervalMs, 5000);
  const maxQueueSamples = positiveInt("maxQueueSamples", options.maxQueueSamples, 100_000);
  const timeoutMs = positiveInt("timeoutMs", options.timeoutMs, 30_000);
  const minBackoffMs = positiveInt("minBackoffMs", options.minBackoffMs, 30);
  const maxBackoffMs = positiveInt("maxBackoffMs", options.maxBackoffMs, 5000);
  const maxRetries = nonNegativeInt("maxRetries", options.maxRetries, 10);
  const headers = requestHeaders(options.headers ?? {});

  const counters = {
    sentSamples: 0,
    sentBatches: 0,
    retries: 0,
    failedBatches: 0,
    droppedSamples: 0,
    queueFullDroppedSamples: 0,
  };
  let lastError: string | undefined;
  // A FIFO of chunks read from `head`; compacted now and then instead of shifted per chunk.
  let queue: (QueuedChunk | undefined)[] = [];
  let head = 0;
  let queued = 0;
  let flushWanted = false;
  let closed = false;
  let draining: Promise<void> | undefined;
  // Aborted when close() runs out of time: cuts a request or a backoff wait short.
  const stop = new AbortController();

  const timer = setInterval(() => {
    if (queued > 0) {
      flushWanted = true;
      void kick();
    }
  }, flushIntervalMs);
  // A writer someone forgot to close must not keep the process alive.
  timer.unref();

  function enqueue(prepared: PreparedSeries[]): void {
    for (const series of prepared) {
      if (series.samples.length === 0) continue;
      queue.push({ series, next: 0 });
      queued += series.samples.length;
    }
    // Drop the oldest first, as Prometheus does when its queue is full: recent data is worth more.
    while (queued > maxQueueSamples) {
      const chunk = queue[head]!;
      const drop = Math.min(chunk.series.samples.length - chunk.next, queued - maxQueueSamples);
      chunk.next += drop;
      queued -= drop;
      counters.droppedSamples += drop;
      counters.queueFullDroppedSamples += drop;
      if (chunk.next === chunk.series.samples.length) queue[head++] = undefined;
      // Keep only what survives, so that one huge write cannot hold more than the bound.
      else {
        chunk.series = { ...chunk.series, samples: chunk.series.samples.slice(chunk.next) };
        chunk.next = 0;
      }
    }
    compact();
  }

  function compact(): void {
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  }

  /** Takes up to `batchSize` samples off the queue, one `TimeSeries` per distinct label set. */
  function takeBatch(): Batch {
    const bySeries = new Map<string, { labelBytes: Uint8Array; samples: RemoteWriteSample[] }>();
    let taken = 0;
    while (taken < batchSize && head < queue.length) {
      const chunk = queue[head]!;
      const { samples, key, labelBytes } = chunk.series;
      const end = Math.min(samples.length, chunk.next + batchSize - taken);
      let entry = bySeries.get(key);
      if (!entry) {
        entry = { labelBytes, samples: [] };
        bySeries.set(key, entry);
      }
      for (let k = chunk.next; k < end; k++) entry.samples.push(samples[k]!);
      taken += end - chunk.next;
      chunk.next = end;
      // Released at once: a finished chunk must not hold its samples until the next compaction.
      if (end === samples.length) queue[head++] = undefined;
    }
    queued -= taken;
    compact();
    const series = [...bySeries.values()];
    for (const s of series) sortByTime(s.samples);
    return { series, samples: taken };
  }

  /** Empties the queue; returns how many samples it held. */
  function discardQueue(): number {
    const samples = queued;
    queue = [];
    head = 0;
    queued = 0;
    return samples;
  }

  function kick(): Promise<void> {
    draining ??= drain().finally(() => {
      draining = undefined;
      if (queued >= batchSize || (flushWanted && queued > 0)) void kick();
    });
    return draining;
  }

  async function drain(): Promise<void> {
    while (queued > 0 && (queued >= batchSize || flushWanted)) {
      if (stop.signal.aborted) {
        counters.droppedSamples += discardQueue();
        lastError = "writer closed before delivery";
        break;
      }
      await deliver(takeBatch());
    }
    if (queued === 0) flushWanted = false;
  }

  async function deliver(batch: Batch): Promise<void> {
    let body: Uint8Array;
    try {
      body = compress(encodeWriteRequest(batch.series));
    } catch (err) {
      return giveUp(batch, `encoding a batch failed: ${(err as Error).message}`);
    }
    let backoffMs = minBackoffMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = await post(body);
      if (outcome.ok) {
        counters.sentSamples += batch.samples;
        counters.sentBatches++;
        return;
      }
      if (stop.signal.aborted) return giveUp(batch, `${outcome.error} (writer closed before delivery)`);
      if (!outcome.retryable) return giveUp(batch, outcome.error);
      if (attempt >= maxRetries)
        return giveUp(batch, `${outcome.error} (gave up after ${maxRetries} retries)`);
      lastError = outcome.error;
      counters.retries++;
      await abortableSleep(backoffMs, stop.signal);
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    }
  }

  function giveUp(batch: Batch, error: string): void {
    counters.failedBatches++;
    counters.droppedSamples += batch.samples;
    lastError = error;
  }

  type Outcome = { ok: true } | { ok: false; retryable: boolean; error: string };

  async function post(body: Uint8Array): Promise<Outcome> {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stop.signal]),
      });
      // The spec: "clients MUST ignore the response body", except to log an error as is.
      if (res.ok) {
        await res.body?.cancel();
        return { ok: true };
      }
      const text = (await res.text().catch(() => "")).trim().slice(0, 512);
      const error = `${url.href} answered ${res.status}${text ? `: ${text}` : ""}`;
      // The spec: retry on 5xx, never on other 4xx; it allows retrying 429, as Prometheus does.
      return { ok: false, retryable: res.status >= 500 || res.status === 429, error };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const reason =
        e.name === "TimeoutError"
          ? `timed out after ${timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ok: false, retryable: true, error: `POST ${url.href} failed: ${reason}` };
    }
  }

  async function flush(): Promise<void> {
    while (queued > 0 || draining) {
      flushWanted = true;
      await kick();
    }
  }

  return {
    write(series) {
      if (closed) throw new RemoteWriteError("write after close");
      enqueue(prepareSeries(series));
      if (queued >= batchSize) void kick();
    },
    flush,
    stats() {
      return { ...counters, queuedSamples: queued, lastError };
    },
    async close(closeOptions) {
      const flushTimeoutMs = nonNegativeInt("flushTimeoutMs", closeOptions?.flushTimeoutMs, 60_000);
      closed = true;
      clearInterval(timer);
      const deadline = setTimeout(() => stop.abort(), flushTimeoutMs);
      try {
        await flush();
      } finally {
        clearTimeout(deadline);
      }
    },
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RemoteWriteError(`url "${raw}" is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RemoteWriteError(`url "${raw}" must be http or https`);
  }
  return url;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RemoteWriteError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RemoteWriteError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

function requestHeaders(extra: Readonly<Record<string, string>>): Record<string, string> {
  for (const name of Object.keys(extra)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new RemoteWriteError(
        `header "${name}" is set by the remote-write protocol and cannot be configured`,
      );
    }
  }
  return {
    ...extra,
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "User-Agent": USER_AGENT,
    "X-Prometheus-Remote-Write-Version": "0.1.0",
  };
}
