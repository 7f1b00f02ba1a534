import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSeriesStore, parseSelector } from "../src/series/index.ts";

const T = 1_767_225_600_000;
const gpu = (name: string, entity: string, extra: Record<string, string> = {}) => ({
  __name__: name,
  entity,
  Hostname: entity.split("/")[0]!.slice(4),
  ...extra,
});

describe("series index", () => {
  const store = createSeriesStore();
  const p3 = store.getOrCreate(gpu("DCGM_FI_DEV_POWER_USAGE", "gpu:r01-dgx1/3"));
  const p4 = store.getOrCreate(gpu("DCGM_FI_DEV_POWER_USAGE", "gpu:r01-dgx1/4"));
  const t3 = store.getOrCreate(gpu("DCGM_FI_DEV_GPU_TEMP", "gpu:r01-dgx1/3"));
  const q0 = store.getOrCreate(gpu("DCGM_FI_DEV_POWER_USAGE", "gpu:r02-dgx1/0"));

  it("hands out one dense ref per label set, whatever the key order", () => {
    assert.deepEqual([p3, p4, t3, q0], [0, 1, 2, 3]);
    assert.equal(
      store.getOrCreate({ entity: "gpu:r01-dgx1/3", Hostname: "r01-dgx1", __name__: "DCGM_FI_DEV_GPU_TEMP" }),
      t3,
    );
    assert.equal(store.get(gpu("DCGM_FI_DEV_GPU_TEMP", "gpu:r09-dgx1/0")), undefined);
    assert.deepEqual(store.labels(t3), gpu("DCGM_FI_DEV_GPU_TEMP", "gpu:r01-dgx1/3"));
    // An empty label value is the label's absence, as in Prometheus.
    assert.equal(store.getOrCreate({ ...gpu("DCGM_FI_DEV_GPU_TEMP", "gpu:r01-dgx1/3"), job: "" }), t3);
    assert.throws(() => store.getOrCreate({ entity: "x" }), /__name__/);
  });

  it("indexes by metric name and by entity", () => {
    assert.deepEqual(store.byName("DCGM_FI_DEV_POWER_USAGE"), [p3, p4, q0]);
    assert.deepEqual(store.byName("nope"), []);
    assert.deepEqual(store.byEntity("gpu:r01-dgx1/3"), [p3, t3]);
  });

  it("selects with PromQL matchers", () => {
    const cases: [string, number[]][] = [
      ['DCGM_FI_DEV_POWER_USAGE{Hostname="r01-dgx1"}', [p3, p4]],
      ['DCGM_FI_DEV_POWER_USAGE{entity=~"gpu:r0[12]-dgx1/[03]"}', [p3, q0]],
      ['{__name__=~"DCGM_FI_DEV_.*", entity!="gpu:r01-dgx1/3"}', [p4, q0]],
      ['{Hostname!~"r01-.*"}', [q0]],
      ['DCGM_FI_DEV_GPU_TEMP{job=""}', [t3]],
      ['{entity=~"gpu:r01"}', []],
    ];
    for (const [selector, want] of cases) assert.deepEqual(store.select(selector), want, selector);
  });

  it("answers as a naive scan over thousands of label sets sharing names, rest sets and values", () => {
    const big = createSeriesStore();
    const sets: Record<string, string>[] = [];
    // Values shared across label names ("1" is a gpu, a slot and a rack), rest sets shared by many
    // names, series with no label but __name__, and enough of each to grow every table.
    for (let i = 0; i < 3000; i++) {
      const labels: Record<string, string> = { __name__: `m${i % 37}` };
      if (i % 11 !== 0) labels.gpu = String(i % 8);
      if (i % 3 === 0) labels.slot = String((i >> 3) % 5);
      if (i % 7 !== 0) labels.rack = String((i >> 5) % 90);
      sets.push(labels);
    }
    const refs = sets.map((l) => big.getOrCreate(l));
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    const first = new Map<string, number>();
    sets.forEach((l, i) => {
      if (!first.has(key(l))) first.set(key(l), first.size);
      assert.equal(refs[i], first.get(key(l)));
      assert.equal(big.get(l), refs[i]);
      assert.deepEqual(big.labels(refs[i]!), l);
    });
    const naive = (test: (l: Record<string, string>) => boolean) =>
      [...first.keys()]
        .map((k, ref) => [Object.fromEntries(JSON.parse(k)), ref] as const)
        .filter(([l]) => test(l))
        .map(([, ref]) => ref);
    assert.deepEqual(
      big.byName("m5"),
      naive((l) => l.__name__ === "m5"),
    );
    const cases: [string, (l: Record<string, string>) => boolean][] = [
      ['{gpu="1"}', (l) => l.gpu === "1"],
      ['{rack="1", gpu="1"}', (l) => l.rack === "1" && l.gpu === "1"],
      ['m3{slot="1"}', (l) => l.__name__ === "m3" && l.slot === "1"],
      ['m3{gpu=""}', (l) => l.__name__ === "m3" && l.gpu === undefined],
      ['{slot="2", rack!~"1.*"}', (l) => l.slot === "2" && !/^1.*$/.test(l.rack ?? "")],
      ['{rack="89"}', (l) => l.rack === "89"],
    ];
    for (const [selector, test] of cases) assert.deepEqual(big.select(selector), naive(test), selector);
    assert.equal(big.get({ __name__: "m3", gpu: "9" }), undefined);
  });

  it("parses selectors and names the place of an error", () => {
    assert.deepEqual(parseSelector('up{a="x\\"y", b=~"z.*",}'), [
      { name: "__name__", op: "=", value: "up" },
      { name: "a", op: "=", value: 'x"y' },
      { name: "b", op: "=~", value: "z.*" },
    ]);
    assert.throws(() => parseSelector('up{a~"x"}'), /at 4: expected =/);
    assert.throws(() => parseSelector('up{a="x"'), /at 8/);
    assert.throws(() => parseSelector(""), /empty selector/);
  });
});

describe("series appends", () => {
  it("refuses out-of-order, duplicate and misplaced samples, counting each reason", () => {
    const store = createSeriesStore();
    const a = store.getOrCreate({ __name__: "a" });
    const b = store.getOrCreate({ __name__: "b" });
    const g = store.group("target-1");
    const h = store.group("target-2");
    assert.equal(store.appendBatch(g, T, [a, b], [1, 2]), 2);
    assert.equal(store.appendBatch(g, T, [a], [9]), 0); // duplicate
    assert.equal(store.appendBatch(g, T - 1, [a, b], [1, 2]), 0); // out of order, whole batch
    assert.equal(store.appendBatch(h, T + 1, [a], [1]), 0); // wrong group
    assert.equal(store.append(a, T + 0.5, 1), false); // bad timestamp
    assert.equal(store.append(99, T + 1, 1), false); // unknown series
    assert.equal(store.appendBatch(g, T + 10_000, [a], [3]), 1);
    assert.equal(store.appendBatch(g, T + 10_000, [b], [4]), 1); // a second batch of the same scrape
    assert.deepEqual(store.stats().rejected, {
      "out-of-order": 2,
      duplicate: 1,
      "bad-timestamp": 1,
      "too-old": 0,
      "unknown-series": 1,
      "wrong-group": 1,
    });
    assert.deepEqual([...store.range(a, 0, T * 2).values], [1, 3]);
    assert.deepEqual([...store.range(b, 0, T * 2).timestampsMs], [T, T + 10_000]);
  });

  it("stores a constant series in a few bytes an hour", () => {
    const store = createSeriesStore();
    const g = store.group("t");
    const refs = Array.from({ length: 1000 }, (_, i) => store.getOrCreate({ __name__: "c", i: String(i) }));
    const vals = refs.map(() => 2619);
    for (let s = 0; s < 360; s++) store.appendBatch(g, T + s * 10_000, refs, vals);
    const { samples, breakdown } = store.stats();
    assert.equal(samples, 360_000);
    assert.ok((breakdown.sealedChunks + breakdown.openChunks) / 1000 < 50, JSON.stringify(breakdown));
  });
});

describe("series queries", () => {
  it("follows Prometheus staleness and the 5 minute lookback", () => {
    const store = createSeriesStore();
    const r = store.getOrCreate({ __name__: "DCGM_FI_DEV_POWER_USAGE", entity: "gpu:r01-dgx1/3" });
    store.append(r, T, 500);
    store.append(r, T + 10_000, 510);
    assert.equal(store.instant(r, T - 1), undefined);
    assert.equal(store.instant(r, T + 9_999), 500);
    assert.equal(store.instant(r, T + 10_000 + 300_000 - 1), 510);
    assert.equal(store.instant(r, T + 10_000 + 300_000), undefined); // lookback is left-open
    assert.equal(store.markStale(r, T + 10_000), false); // not after the newest sample
    assert.equal(store.markStale(r, T + 20_000), true); // fell off the bus
    assert.equal(store.instant(r, T + 19_999), 510);
    assert.equal(store.instant(r, T + 20_000), undefined);
    assert.equal(store.instant(r, T + 25_000), undefined);
    assert.equal(store.append(r, T + 20_000, 1), false); // at the marker: out of order
    store.append(r, T + 30_000, 520);
    assert.equal(store.instant(r, T + 25_000), undefined);
    assert.equal(store.instant(r, T + 30_000), 520);
    assert.deepEqual([...store.range(r, T, T + 30_000).values], [500, 510, 520]);
  });

  it("counts counter deltas with resets from zero, additively", () => {
    const store = createSeriesStore();
    const r = store.getOrCreate({ __name__: "energy_mj" });
    const vals = [100, 150, 150, 20, 70, 75];
    for (const [i, v] of vals.entries()) store.append(r, T + i * 10_000, v);
    assert.equal(store.counterDelta(r, T, T + 50_000), 50 + 0 + 20 + 50 + 5);
    assert.equal(store.counterDelta(r, T + 5_000, T + 35_000), 50 + 0 + 20); // baseline at T
    assert.equal(store.counterDelta(r, T + 20_000, T + 20_000), 0);
    assert.equal(store.counterDelta(r, T - 60_000, T + 10_000), 50); // before the first sample
    assert.equal(store.counterDelta(r, T - 60_000, T - 1), undefined);
    assert.deepEqual(store.sumCounterDelta([r, r, 7], T, T + 50_000), { sum: 250, count: 2 });
  });

  it("extrapolates increase and rate as Prometheus does", () => {
    const store = createSeriesStore();
    const r = store.getOrCreate({ __name__: "requests_total" });
    // Samples every 10 s, +10 each; a 60 s window (T, T+60s] holds 6 samples spanning 50 s.
    for (let i = 0; i <= 6; i++) store.append(r, T + i * 10_000, 100 + 10 * i);
    // 50 s sampled, 10 s to the start (< 1.1 × 10 s, so fully extrapolated), 0 s to the end.
    assert.equal(store.increase(r, T, T + 60_000), 60);
    assert.equal(store.rate(r, T, T + 60_000), 1);
    assert.equal(store.increase(r, T, T + 10_000), undefined);
  });

  it("sums instant values over many series, leaving out absent ones", () => {
    const store = createSeriesStore();
    const g = store.group("node");
    const refs = [0, 1, 2].map((i) => store.getOrCreate({ __name__: "p", gpu: String(i) }));
    store.appendBatch(g, T, refs, [100, 200, Number.NaN]);
    store.appendBatch(g, T + 10_000, refs.slice(0, 2), [110, 210]);
    assert.deepEqual(store.sumInstant(refs, T + 10_000), { sum: 320, count: 2 });
    assert.deepEqual(store.sumInstant(refs, T + 5_000), { sum: 300, count: 2 });
  });

  it("drops whole chunks past the retention window", () => {
    const store = createSeriesStore({ retentionMs: 600_000, chunkSamples: 10 });
    const r = store.getOrCreate({ __name__: "x" });
    for (let s = 0; s < 200; s++) store.append(r, T + s * 10_000, s);
    store.applyRetention();
    const ts = store.range(r, 0, T * 2).timestampsMs;
    const newest = T + 199 * 10_000;
    assert.ok(ts[0]! <= newest - 600_000 && ts[0]! > newest - 600_000 - 100_000);
    assert.equal(store.instant(r, T + 10_000), undefined);
    assert.equal(store.append(r, newest - 700_000, 1), false);
    assert.equal(store.stats().rejected["out-of-order"], 1);
  });
});

describe("series predicted from other series", () => {
  it("round-trips correlated fields exactly, whatever the batch order and gaps, and stores them smaller", () => {
    let seed = 42;
    const rand = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const build = (correlated: boolean) => {
      const store = createSeriesStore({ chunkSamples: 60 });
      const group = store.group("node");
      const names = ["util", "tensor", "rate", "energy", "violation_ns"];
      const refs = names.map((n) => store.getOrCreate(gpu(n, "gpu:r01-dgx1/0")));
      const want = refs.map(() => [] as [number, number][]);
      let energy = 0;
      let violation = 0;
      for (let i = 0; i < 300; i++) {
        const ts = T + i * 10_000;
        const u = Math.round((0.6 + 0.3 * rand()) * 1e6) / 1e6;
        const other = Math.round((0.6 + 0.3 * rand()) * 1e6) / 1e6;
        energy += Math.round((correlated ? u : other) * 1e7);
        if (rand() < 0.5) violation += 10_000_000_000;
        const vals = [
          u,
          Math.round((correlated ? u : other) * 0.93 * 1e6) / 1e6,
          Math.round((correlated ? u : other) * 33e6),
          energy,
          violation,
        ];
        // Dependents first in some scrapes; the reference skips a few scrapes.
        const order = i % 3 === 0 ? [4, 3, 2, 1, 0] : [0, 1, 2, 3, 4];
        const keep = order.filter((k) => !(k === 0 && i % 17 === 5));
        store.appendBatch(
          group,
          ts,
          keep.map((k) => refs[k]!),
          keep.map((k) => vals[k]!),
        );
        for (const k of keep) want[k]!.push([ts, vals[k]!]);
      }
      refs.forEach((ref, k) => {
        const got = store.range(ref, T, T + 3_000_000);
        assert.deepEqual(
          [...got.timestampsMs],
          want[k]!.map(([t]) => t),
          names[k],
        );
        assert.deepEqual(
          [...got.values],
          want[k]!.map(([, v]) => v),
          names[k],
        );
        assert.equal(store.instant(ref, T + 555_000), want[k]!.findLast(([t]) => t <= 555_000 + T)![1]);
      });
      return store.stats().breakdown.sealedChunks;
    };
    // Each sealed chunk also carries ~420 bytes of group framing, the same for both.
    assert.ok(build(true) < 0.92 * build(false));
  });
});
