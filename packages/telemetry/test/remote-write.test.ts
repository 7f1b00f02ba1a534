/**
 * Remote-write 1.0 (https://prometheus.io/docs/specs/remote_write_spec/): the protobuf encoder
 * against known bytes and an independent decoder, the snappy output against a block-format
 * decoder written here from the format description (not the compressing package's own), the
 * client's retry, drop and queue rules against a scripted receiver, and the whole path into a
 * real Prometheus read back through its query API. Needs the `prometheus` binary (Debian
 * package `prometheus`); without it this test fails rather than skips, because CI installs it.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { compress } from "snappyjs";
import { startPrometheus, type TestPrometheus } from "../../../scripts/testing/prometheus.ts";
import {
  createRemoteWriter,
  encodeLabels,
  encodeWriteRequest,
  RemoteWriteError,
  type RemoteWriterOptions,
  type RemoteWriteSeries,
  staleMarker,
  USER_AGENT,
} from "../src/remote-write/index.ts";

// ---------------------------------------------------------------------------------------------
// Independent decoders.

/**
 * Snappy block format, from google/snappy format_description.txt: a varint of the uncompressed
 * length, then elements whose tag's low two bits say literal (00), copy with a 1-byte (01),
 * 2-byte (10) or 4-byte (11) offset.
 */
function snappyDecode(input: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let op = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >> 2;
        if (len >= 60) {
          const bytes = len - 59;
          len = 0;
          for (let k = 0; k < bytes; k++) len += input[pos++]! * 256 ** k;
        }
        len += 1;
        assert.ok(pos + len <= input.length && op + len <= length, "snappy literal overruns");
        out.set(input.subarray(pos, pos + len), op);
        pos += len;
        op += len;
        continue;
      }
      case 1:
        len = 4 + ((tag >> 2) & 7);
        offset = ((tag >> 5) << 8) | input[pos++]!;
        break;
      case 2:
        len = 1 + (tag >> 2);
        offset = input[pos]! | (input[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        len = 1 + (tag >> 2);
        offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
        pos += 4;
    }
    assert.ok(offset > 0 && offset <= op && op + len <= length, `bad snappy copy at ${op}`);
    for (let k = 0; k < len; k++, op++) out[op] = out[op - offset]!;
  }
  assert.equal(op, length, "snappy stream shorter than its preamble says");
  return out;
}

interface DecodedSample {
  value: number;
  /** The float64's bits as 16 hex digits, to tell NaNs apart. */
  bits: string;
  timestampMs: number;
}
interface DecodedSeries {
  labels: [string, string][];
  samples: DecodedSample[];
}

/** A protobuf reader just big enough for WriteRequest, checking every key it meets. */
function decodeWriteRequest(bytes: Uint8Array): DecodedSeries[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = bytes[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  /** Reads a length and returns where the field it prefixes ends. */
  const endOfField = () => {
    const n = Number(varint());
    return pos + n;
  };
  const text = (end: number) => new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(pos, end));
  const out: DecodedSeries[] = [];
  while (pos < bytes.length) {
    assert.equal(bytes[pos++], 0x0a, "WriteRequest: field 1, length-delimited");
    const seriesEnd = endOfField();
    const series: DecodedSeries = { labels: [], samples: [] };
    while (pos < seriesEnd) {
      const key = bytes[pos++];
      const end = endOfField();
      if (key === 0x0a) {
        let name = "";
        let value = "";
        while (pos < end) {
          const k = bytes[pos++];
          const e = endOfField();
          if (k === 0x0a) name = text(e);
          else if (k === 0x12) value = text(e);
          else assert.fail(`Label: unexpected key ${k}`);
          pos = e;
        }
        series.labels.push([name, value]);
      } else if (key === 0x12) {
        const sample: DecodedSample = { value: 0, bits: "0000000000000000", timestampMs: 0 };
        while (pos < end) {
          const k = bytes[pos++];
          if (k === 0x09) {
            sample.value = view.getFloat64(pos, true);
            sample.bits = view.getBigUint64(pos, true).toString(16).padStart(16, "0");
            pos += 8;
          } else if (k === 0x10) {
            sample.timestampMs = Number(BigInt.asIntN(64, varint()));
          } else assert.fail(`Sample: unexpected key ${k}`);
        }
        series.samples.push(sample);
      } else assert.fail(`TimeSeries: unexpected key ${key}`);
      pos = end;
    }
    out.push(series);
  }
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// ---------------------------------------------------------------------------------------------
// Helpers.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  series: DecodedSeries[];
}

/** A receiver that answers each request with the next status of `statuses` (the last repeats). */
async function scriptedReceiver(statuses: number[], port = 0) {
  const received: Received[] = [];
  const server: Server = createHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const body = new Uint8Array(Buffer.concat(parts));
      received.push({ headers: req.headers, body, series: decodeWriteRequest(snappyDecode(body)) });
      const status = statuses[Math.min(received.length, statuses.length) - 1]!;
      if (status === 0) return; // never answer
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status >= 300 ? `scripted ${status}` : "");
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${bound}/api/v1/write`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** `count` samples of one series, timestamps `startMs`, `startMs + 1000`, …, value = index. */
function series(name: string, count: number, startMs = 1_700_000_000_000, extra = {}): RemoteWriteSeries {
  return {
    labels: { __name__: name, ...extra },
    samples: Array.from({ length: count }, (_, i) => ({ timestampMs: startMs + i * 1000, value: i })),
  };
}

const values = (r: Received[]) => r.flatMap((q) => q.series.flatMap((s) => s.samples.map((x) => x.value)));

// ---------------------------------------------------------------------------------------------

describe("remote-write protobuf encoding", () => {
  it("encodes a one-sample request to the exact bytes of the prompb schema", () => {
    const bytes = encodeWriteRequest([
      {
        labelBytes: encodeLabels([
          ["__name__", "a"],
          ["b", "c"],
        ]),
        samples: [{ timestampMs: 1, value: 1 }],
      },
    ]);
    // TimeSeries(36) { Label(13) { "__name__", "a" }, Label(6) { "b", "c" }, Sample(11) { 1.0, 1 } }
    assert.equal(
      hex(bytes),
      "0a24" + "0a0d0a085f5f6e616d655f5f120161" + "0a060a0162120163" + "120b09000000000000f03f1001",
    );
  });

  it("round-trips labels, special floats, NaN payloads and int64 timestamps", () => {
    const samples = [
      { timestampMs: -1, value: Number.NaN },
      { timestampMs: 0, value: Number.POSITIVE_INFINITY },
      { timestampMs: 127, value: Number.NEGATIVE_INFINITY },
      { timestampMs: 128, value: -0 },
      { timestampMs: 1_700_000_000_123, value: 5e-324 },
      { timestampMs: Number.MAX_SAFE_INTEGER, value: 1.7976931348623157e308 },
      staleMarker(Number.MAX_SAFE_INTEGER),
    ];
    const labels: [string, string][] = [
      ["__name__", "gpu_power_watts"],
      ["note", 'quote " backslash \\ newline \n tab \t'],
      ["place", "Grüße, 東京 🚀"],
    ];
    const [decoded] = decodeWriteRequest(encodeWriteRequest([{ labelBytes: encodeLabels(labels), samples }]));
    assert.deepEqual(decoded!.labels, labels);
    assert.deepEqual(
      decoded!.samples.map((s) => s.timestampMs),
      samples.map((s) => s.timestampMs),
    );
    decoded!.samples.slice(1, 6).forEach((s, i) => {
      assert.ok(Object.is(s.value, samples[i + 1]!.value), `sample ${i + 1}`);
    });
    // An ordinary NaN is Prometheus's NormalNaN; only a stale marker carries the reserved bits.
    assert.equal(decoded!.samples[0]!.bits, "7ff8000000000001");
    assert.equal(decoded!.samples[6]!.bits, "7ff0000000000002");
  });

  it("sorts labels by name, leaves out empty values and sorts samples by timestamp", async () => {
    const rx = await scriptedReceiver([204]);
    const writer = createRemoteWriter({ url: rx.url });
    writer.write([
      {
        labels: { zone: "z", __name__: "m", empty: "", a_label: "1", B: "2" },
        samples: [
          { timestampMs: 30, value: 3 },
          { timestampMs: 10, value: 1 },
          { timestampMs: 20, value: 2 },
        ],
      },
    ]);
    await writer.close();
    await rx.close();
    assert.equal(rx.received.length, 1);
    const [s] = rx.received[0]!.series;
    assert.deepEqual(s!.labels, [
      ["B", "2"],
      ["__name__", "m"],
      ["a_label", "1"],
      ["zone", "z"],
    ]);
    assert.deepEqual(
      s!.samples.map((x) => [x.timestampMs, x.value]),
      [
        [10, 1],
        [20, 2],
        [30, 3],
      ],
    );
  });

  const bad: [string, RemoteWriteSeries, RegExp][] = [
    ["no __name__", { labels: { job: "x" }, samples: [] }, /series 1 .*__name__ must match/],
    ["a bad metric name", { labels: { __name__: "1abc" }, samples: [] }, /__name__ must match/],
    ["a bad label name", { labels: { __name__: "m", "gpu-id": "0" }, samples: [] }, /label name "gpu-id"/],
    ["a lone surrogate", { labels: { __name__: "m", v: "\ud800" }, samples: [] }, /lone surrogate/],
    [
      "a fractional timestamp",
      { labels: { __name__: "m" }, samples: [{ timestampMs: 1.5, value: 1 }] },
      /sample 0: timestampMs must be an integer/,
    ],
    [
      "a string value",
      { labels: { __name__: "m" }, samples: [{ timestampMs: 1, value: "1" as unknown as number }] },
      /sample 0: value must be a number/,
    ],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses a series with ${what} and queues nothing of the call`, async () => {
      const writer = createRemoteWriter({ url: "http://127.0.0.1:1/api/v1/write" });
      assert.throws(
        () => writer.write([series("ok", 5), input]),
        (e: Error) => {
          assert.ok(e instanceof RemoteWriteError, `${e.name}: ${e.message}`);
          assert.match(e.message, message);
          return true;
        },
      );
      assert.equal(writer.stats().queuedSamples, 0);
      await writer.close();
    });
  }

  it("refuses reserved headers and bad options", () => {
    for (const h of ["Content-Type", "content-encoding", "User-Agent", "X-Prometheus-Remote-Write-Version"]) {
      assert.throws(
        () => createRemoteWriter({ url: "http://x/", headers: { [h]: "v" } }),
        /cannot be configured/,
      );
    }
    assert.throws(() => createRemoteWriter({ url: "ftp://x/" }), /must be http or https/);
    assert.throws(() => createRemoteWriter({ url: "not a url" }), /not a valid URL/);
    assert.throws(
      () => createRemoteWriter({ url: "http://x/", batchSize: 0 }),
      /batchSize must be a positive/,
    );
  });
});

describe("snappy block compression", () => {
  it("decodes a hand-made stream with a literal and an overlapping copy (checks the test decoder)", () => {
    // length 12; literal "abcd"; copy, 1-byte offset 4, length 8.
    const stream = Uint8Array.from([0x0c, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x11, 0x04]);
    assert.equal(Buffer.from(snappyDecode(stream)).toString(), "abcdabcdabcd");
  });

  const random = new Uint8Array(100_000).map((_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff);
  const request = encodeWriteRequest(
    Array.from({ length: 50 }, (_, g) => ({
      labelBytes: encodeLabels([
        ["__name__", "DCGM_FI_DEV_POWER_USAGE"],
        ["gpu", String(g)],
        ["node", "r01-dgx1"],
      ]),
      samples: Array.from({ length: 40 }, (_, i) => ({
        timestampMs: 1_700_000_000_000 + i * 1000,
        value: 400 + i,
      })),
    })),
  );
  const inputs: [string, Uint8Array][] = [
    ["an empty input", new Uint8Array(0)],
    ["a short input", Buffer.from("hello")],
    ["incompressible bytes over several 64 KiB fragments", random],
    ["a repetitive text of 300 KB", Buffer.from("GPU 0 power 612.5 W; ".repeat(15_000))],
    ["an encoded WriteRequest", request],
  ];
  for (const [what, input] of inputs) {
    it(`round-trips ${what}`, () => {
      assert.deepEqual(snappyDecode(compress(new Uint8Array(input))), new Uint8Array(input));
    });
  }

  it("really compresses (copies, not only literals)", () => {
    assert.ok(compress(request).length < request.length / 3, "a WriteRequest shrinks to under a third");
    const text = Buffer.from("GPU 0 power 612.5 W; ".repeat(15_000));
    assert.ok(compress(new Uint8Array(text)).length < text.length / 15, "a repetitive text shrinks 15-fold");
  });
});

describe("remote-write client against a scripted receiver", () => {
  const fast: Partial<RemoteWriterOptions> = { minBackoffMs: 5, maxBackoffMs: 20, flushIntervalMs: 60_000 };

  it("sends the protocol's headers and custom ones, and a body the decoders read back", async () => {
    const rx = await scriptedReceiver([204]);
    const writer = createRemoteWriter({ url: rx.url, headers: { "X-Scope-OrgID": "acme" } });
    writer.write([series("gpu_power_watts", 3, 1_700_000_000_000, { gpu: "0" })]);
    await writer.close();
    await rx.close();
    const [req] = rx.received;
    assert.equal(req!.headers["content-encoding"], "snappy");
    assert.equal(req!.headers["content-type"], "application/x-protobuf");
    assert.equal(req!.headers["x-prometheus-remote-write-version"], "0.1.0");
    assert.equal(req!.headers["user-agent"], USER_AGENT);
    assert.match(USER_AGENT, /^flightdeck-telemetry\/\d+\.\d+\.\d+/);
    assert.equal(req!.headers["x-scope-orgid"], "acme");
    assert.deepEqual(req!.series, [
      {
        labels: [
          ["__name__", "gpu_power_watts"],
          ["gpu", "0"],
        ],
        samples: [0, 1, 2].map((i) => ({
          value: i,
          bits: Buffer.from(new Float64Array([i]).buffer)
            .reverse()
            .toString("hex"),
          timestampMs: 1_700_000_000_000 + i * 1000,
        })),
      },
    ]);
  });

  // [receiver's answers, requests expected, delivered?] — spec, "Retries & Backoff".
  const table: [number[], number, boolean][] = [
    [[500, 204], 2, true],
    [[503, 502, 200], 3, true],
    [[429, 204], 2, true],
    [[400], 1, false],
    [[404], 1, false],
    [[413], 1, false],
  ];
  for (const [statuses, requests, delivered] of table) {
    it(`answers ${statuses.join(" then ")}: ${requests} request(s), ${delivered ? "delivered" : "dropped"}`, async () => {
      const rx = await scriptedReceiver(statuses);
      const writer = createRemoteWriter({ url: rx.url, batchSize: 10, ...fast });
      writer.write([series("m", 10)]);
      await writer.flush();
      await sleep(50); // a wrong retry would show up here
      await writer.close();
      await rx.close();
      assert.equal(rx.received.length, requests);
      for (const r of rx.received)
        assert.deepEqual(r.body, rx.received[0]!.body, "a retry resends the same body");
      const s = writer.stats();
      assert.equal(s.sentSamples, delivered ? 10 : 0);
      assert.equal(s.sentBatches, delivered ? 1 : 0);
      assert.equal(s.retries, requests - 1);
      assert.equal(s.failedBatches, delivered ? 0 : 1);
      assert.equal(s.droppedSamples, delivered ? 0 : 10);
      assert.equal(s.queuedSamples, 0);
      const lastFailure = statuses[delivered ? requests - 2 : requests - 1];
      assert.match(s.lastError ?? "", new RegExp(`answered ${lastFailure}`));
      if (!delivered) assert.match(s.lastError ?? "", /scripted 4\d\d/);
    });
  }

  it("waits longer between each retry, up to maxBackoffMs", async () => {
    const rx = await scriptedReceiver([500, 500, 500, 500, 204]);
    const writer = createRemoteWriter({ url: rx.url, batchSize: 1, minBackoffMs: 40, maxBackoffMs: 100 });
    const t0 = Date.now();
    writer.write([series("m", 1)]);
    await writer.flush();
    const tookMs = Date.now() - t0;
    await writer.close();
    await rx.close();
    assert.equal(rx.received.length, 5);
    // 40 + 80 + 100 + 100 ms of backoff at least.
    assert.ok(tookMs >= 320, `took ${tookMs} ms`);
    assert.equal(writer.stats().retries, 4);
  });

  it("gives a batch up after maxRetries", async () => {
    const rx = await scriptedReceiver([500]);
    const writer = createRemoteWriter({ url: rx.url, batchSize: 5, maxRetries: 2, ...fast });
    writer.write([series("m", 5)]);
    await writer.close();
    await rx.close();
    assert.equal(rx.received.length, 3);
    const s = writer.stats();
    assert.equal(s.failedBatches, 1);
    assert.equal(s.droppedSamples, 5);
    assert.match(s.lastError ?? "", /answered 500: scripted 500 \(gave up after 2 retries\)/);
  });

  it("retries a request that times out", async () => {
    const rx = await scriptedReceiver([0, 204]);
    // A second, not less: on a loaded machine a shorter deadline can pass before the receiver has
    // read the first request at all, and the test would then be about that instead.
    const writer = createRemoteWriter({ url: rx.url, batchSize: 2, timeoutMs: 1000, ...fast });
    writer.write([series("m", 2)]);
    await writer.close();
    await rx.close();
    assert.equal(rx.received.length, 2);
    assert.equal(writer.stats().sentSamples, 2);
    assert.match(writer.stats().lastError ?? "", /timed out after 1000 ms/);
  });

  it("splits the queue into batches of batchSize, in order, one TimeSeries per series", async () => {
    const rx = await scriptedReceiver([204]);
    const writer = createRemoteWriter({ url: rx.url, batchSize: 100, ...fast });
    // 25 calls of 10 samples for the same series: regrouped into one TimeSeries per request.
    for (let k = 0; k < 25; k++) {
      writer.write([
        { labels: { __name__: "m" }, samples: series("m", 10, 1_700_000_000_000 + k * 10_000).samples },
      ]);
    }
    await writer.close();
    await rx.close();
    assert.deepEqual(
      rx.received.map((r) => r.series.map((s) => s.samples.length)),
      [[100], [100], [50]],
    );
    const ts = rx.received.flatMap((r) => r.series[0]!.samples.map((s) => s.timestampMs));
    assert.deepEqual(
      ts,
      Array.from({ length: 250 }, (_, i) => 1_700_000_000_000 + i * 1000),
    );
  });

  it("sends a partial batch after flushIntervalMs without being asked", async () => {
    const rx = await scriptedReceiver([204]);
    const writer = createRemoteWriter({ url: rx.url, batchSize: 1000, flushIntervalMs: 50 });
    writer.write([series("m", 3)]);
    assert.equal(rx.received.length, 0);
    await until("the timed flush", 2000, () => (rx.received.length === 1 ? true : undefined));
    await writer.close();
    await rx.close();
    assert.deepEqual(values(rx.received), [0, 1, 2]);
  });

  it("flushes on close and refuses writes after it", async () => {
    const rx = await scriptedReceiver([204]);
    const writer = createRemoteWriter({ url: rx.url, batchSize: 1000, flushIntervalMs: 60_000 });
    writer.write([series("m", 7)]);
    await writer.close();
    assert.equal(rx.received.length, 1);
    assert.equal(writer.stats().sentSamples, 7);
    assert.throws(() => writer.write([series("m", 1)]), /write after close/);
    await rx.close();
  });

  it("keeps at most maxQueueSamples while the receiver is down, dropping the oldest, and counts them", async (t) => {
    const port = await freePort(); // nothing listens there yet
    const writer = createRemoteWriter({
      url: `http://127.0.0.1:${port}/api/v1/write`,
      batchSize: 100,
      maxQueueSamples: 100,
      maxRetries: 1000,
      minBackoffMs: 10,
      maxBackoffMs: 20,
      flushIntervalMs: 60_000,
    });
    // Should an assertion fail, the endless retries must not keep the test run alive.
    t.after(() => writer.close({ flushTimeoutMs: 0 }));
    // Samples 0..249 in one call: 0..149 dropped; 150..249 become the batch being retried.
    writer.write([series("m", 250)]);
    await until("a failed attempt", 2000, () => (writer.stats().retries > 0 ? true : undefined));
    assert.match(writer.stats().lastError ?? "", /ECONNREFUSED/);
    // Samples 250..549 in small calls while that batch retries: only the newest 100 stay.
    for (let k = 0; k < 30; k++) {
      writer.write([series("m", 10, 1_700_000_000_000 + (250 + k * 10) * 1000)]);
      assert.ok(writer.stats().queuedSamples <= 100, `${writer.stats().queuedSamples} samples queued`);
    }
    let s = writer.stats();
    assert.equal(s.queuedSamples, 100);
    assert.equal(s.droppedSamples, 150 + 200);
    assert.equal(s.queueFullDroppedSamples, 350);
    assert.equal(s.sentSamples, 0);
    // The receiver comes back on the same port.
    const rx = await scriptedReceiver([204], port);
    await writer.close();
    await rx.close();
    s = writer.stats();
    assert.deepEqual(values(rx.received), [
      ...Array.from({ length: 100 }, (_, i) => 150 + i),
      ...Array.from({ length: 100 }, (_, i) => (450 + i) % 10),
    ]);
    assert.deepEqual(
      rx.received.flatMap((r) => r.series[0]!.samples.map((x) => (x.timestampMs - 1_700_000_000_000) / 1000)),
      [...Array.from({ length: 100 }, (_, i) => 150 + i), ...Array.from({ length: 100 }, (_, i) => 450 + i)],
    );
    assert.equal(s.sentSamples, 200);
    assert.equal(s.droppedSamples, 350);
    assert.equal(s.failedBatches, 0);
  });

  it("stops retrying at close's flushTimeoutMs and counts what it leaves", async () => {
    const port = await freePort();
    const writer = createRemoteWriter({
      url: `http://127.0.0.1:${port}/api/v1/write`,
      batchSize: 100,
      maxRetries: 1_000_000,
      minBackoffMs: 1000,
      flushIntervalMs: 60_000,
    });
    writer.write([series("m", 250)]);
    const t0 = Date.now();
    await writer.close({ flushTimeoutMs: 100 });
    const tookMs = Date.now() - t0;
    assert.ok(tookMs >= 90 && tookMs < 3000, `close took ${tookMs} ms`);
    const s = writer.stats();
    assert.equal(s.sentSamples, 0);
    assert.equal(s.queuedSamples, 0);
    assert.equal(s.droppedSamples, 250);
    assert.equal(s.failedBatches, 1, "the batch in flight; the queue behind it is dropped, not sent");
    assert.match(s.lastError ?? "", /closed before delivery/);
  });

  it("gives up on a receiver that stays down, counting every sample", async () => {
    const port = await freePort();
    const writer = createRemoteWriter({
      url: `http://127.0.0.1:${port}/api/v1/write`,
      batchSize: 50,
      maxQueueSamples: 120,
      maxRetries: 2,
      ...fast,
    });
    // The second call fills a batch (50 taken, 30 left); the next 320 overflow the queue of 120.
    for (let k = 0; k < 10; k++) writer.write([series("m", 40, 1_700_000_000_000 + k * 40_000)]);
    assert.equal(writer.stats().queueFullDroppedSamples, 230);
    await writer.close();
    const s = writer.stats();
    assert.equal(s.sentSamples, 0);
    assert.equal(s.queuedSamples, 0);
    assert.equal(s.droppedSamples, 400);
    // Batches of 50, 50, 50 and 20.
    assert.equal(s.failedBatches, 4);
    assert.equal(s.queueFullDroppedSamples, 230);
    assert.match(s.lastError ?? "", /ECONNREFUSED \(gave up after 2 retries\)/);
  });
});

// ---------------------------------------------------------------------------------------------

interface Matrix {
  resultType: string;
  result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[];
}

/** Prometheus renders floats with Go's FormatFloat, and ±Inf / NaN as words. */
function promFloat(s: string): number {
  if (s === "+Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  if (s === "NaN") return Number.NaN;
  return Number(s);
}

describe("remote-write into a real Prometheus", () => {
  let prometheus: TestPrometheus | undefined;
  let api = "";

  async function query(expr: string, timeSec: number): Promise<Matrix> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}&time=${timeSec}`);
    const body = (await res.json()) as { status: string; data: Matrix; error?: string };
    assert.equal(body.status, "success", `${expr}: ${body.error}`);
    return body.data;
  }

  before(async () => {
    // No scrape jobs: every series in the TSDB came through remote-write.
    prometheus = await startPrometheus("global:\n  scrape_interval: 15s\nscrape_configs: []\n", [
      "--web.enable-remote-write-receiver",
    ]);
    api = prometheus.url;
  });

  after(async () => {
    await prometheus?.stop();
  });

  // Whole seconds, so that timestamps read back as seconds compare exactly.
  const endMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const COUNT = 2000;
  const startMs = endMs - (COUNT - 1) * 1000;
  const odd = {
    note: 'quote " backslash \\ newline \n tab \t braces {} comma ,',
    place: "Grüße, 東京 🚀",
  };
  const special = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    5e-324,
    1.7976931348623157e308,
    -1.5,
    0.1 + 0.2,
  ];

  it("stores every sample and label exactly as written", async () => {
    const writer = createRemoteWriter({
      url: `${api}/api/v1/write`,
      batchSize: 500,
      flushIntervalMs: 60_000,
    });
    const gpus = ["0", "1", "2"];
    const valueAt = (g: number, i: number) => g * 1000 + i / 3;
    // Each GPU's 2000 samples arrive in 20 calls of 100, interleaved across GPUs, so batches mix
    // series and split each one across requests.
    for (let k = 0; k < COUNT / 100; k++) {
      writer.write(
        gpus.map((gpu, g) => ({
          labels: { __name__: "fd_rw_gpu_power_watts", gpu, node: "r01-dgx1", empty: "", ...odd },
          samples: Array.from({ length: 100 }, (_, j) => ({
            timestampMs: startMs + (k * 100 + j) * 1000,
            value: valueAt(g, k * 100 + j),
          })),
        })),
      );
    }
    writer.write([
      {
        labels: { __name__: "fd_rw_special_values", case: "special" },
        // Given newest first: the writer puts them in timestamp order.
        samples: special.map((value, i) => ({ timestampMs: endMs - i * 1000, value })),
      },
    ]);
    await writer.close();
    const s = writer.stats();
    assert.equal(s.lastError, undefined, s.lastError);
    assert.equal(s.sentSamples, 3 * COUNT + special.length);
    assert.equal(s.failedBatches + s.droppedSamples, 0);

    const gpuData = await query(`fd_rw_gpu_power_watts[${COUNT + 10}s]`, endMs / 1000);
    assert.equal(gpuData.resultType, "matrix");
    assert.equal(gpuData.result.length, 3);
    for (const r of gpuData.result) {
      const g = gpus.indexOf(r.metric.gpu!);
      assert.deepEqual(r.metric, {
        __name__: "fd_rw_gpu_power_watts",
        gpu: gpus[g],
        node: "r01-dgx1",
        ...odd,
      });
      const got = r.values!.map(([t, v]) => [Math.round(t * 1000), promFloat(v)]);
      const want = Array.from({ length: COUNT }, (_, i) => [startMs + i * 1000, valueAt(g, i)]);
      assert.deepEqual(got, want, `gpu ${gpus[g]}`);
    }

    const specialData = await query(`fd_rw_special_values[1m]`, endMs / 1000);
    assert.deepEqual(specialData.result[0]!.metric, { __name__: "fd_rw_special_values", case: "special" });
    const got = specialData.result[0]!.values!.map(([t, v]) => [Math.round(t * 1000), promFloat(v)]);
    const want = special.map((value, i) => [endMs - i * 1000, value]).reverse();
    assert.equal(got.length, want.length);
    got.forEach(([t, v], i) => {
      assert.equal(t, want[i]![0]);
      assert.ok(Object.is(v, want[i]![1]), `sample at ${t}: got ${v}, want ${want[i]![1]}`);
    });
  });

  it("ends a series at a stale marker, which an ordinary NaN does not", async () => {
    const writer = createRemoteWriter({ url: `${api}/api/v1/write` });
    const at = (s: number) => endMs + s * 1000;
    const samples = [
      { timestampMs: at(-30), value: 1 },
      { timestampMs: at(-20), value: 2 },
    ];
    writer.write([
      { labels: { __name__: "fd_rw_stale", case: "stale" }, samples: [...samples, staleMarker(at(-10))] },
      {
        labels: { __name__: "fd_rw_stale", case: "nan" },
        samples: [...samples, { timestampMs: at(-10), value: NaN }],
      },
      { labels: { __name__: "fd_rw_stale", case: "live" }, samples },
    ]);
    await writer.close();
    assert.equal(writer.stats().sentSamples, 8);
    const before = await query("fd_rw_stale", at(-15) / 1000);
    assert.deepEqual(before.result.map((r) => [r.metric.case, r.value![1]]).sort(), [
      ["live", "2"],
      ["nan", "2"],
      ["stale", "2"],
    ]);
    const afterStale = await query("fd_rw_stale", at(-5) / 1000);
    assert.deepEqual(afterStale.result.map((r) => [r.metric.case, r.value![1]]).sort(), [
      ["live", "2"],
      ["nan", "NaN"],
    ]);
  });

  it("rejects out-of-order samples with a 400, which the writer drops without retrying", async () => {
    const writer = createRemoteWriter({ url: `${api}/api/v1/write`, minBackoffMs: 5 });
    writer.write([
      {
        labels: { __name__: "fd_rw_gpu_power_watts", gpu: "0", node: "r01-dgx1", ...odd },
        samples: [{ timestampMs: startMs, value: 1 }],
      },
    ]);
    await writer.close();
    const s = writer.stats();
    assert.equal(s.failedBatches, 1);
    assert.equal(s.retries, 0);
    assert.equal(s.droppedSamples, 1);
    assert.match(s.lastError ?? "", /answered 400: .*out of (order|bounds)/);
  });
});
