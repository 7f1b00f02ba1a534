/**
 * Property tests of the live series store against a naive reference: arrays of (timestamp, value)
 * per series and a list of staleness markers, queried the slow way.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createSeriesStore, type SeriesStore } from "../src/series/index.ts";
import { extrapolatedIncrease } from "../src/series/promql.ts";

const LANES = 4;
const LOOKBACK = 300_000;

/** Values that stress the codec: NaN, ±Inf, -0, subnormals, 2^53, fixed decimals, integers. */
const value = fc.oneof(
  fc.double(),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(
    0,
    -0,
    1,
    1e300,
    -1e300,
    5e-324,
    1e-300,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    0.1,
    0.3,
    Math.PI,
  ),
  fc.integer({ min: 0, max: 999_999 }).map((x) => x / 1e6),
  fc.integer().map((x) => x / 100),
  fc.double({ min: -1e-6, max: 1e-6 }),
);

const kind = fc.constantFrom("const", "counter", "random", "walk", "bigcounter", "linear", "linear");

const step = fc.record({
  dtMs: fc.oneof(fc.constant(10_000), fc.constant(10_000), fc.integer({ min: 1, max: 400_000 })),
  present: fc.array(
    fc.integer({ min: 0, max: 15 }).map((x) => x > 0),
    { minLength: LANES, maxLength: LANES },
  ),
  stale: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: LANES, maxLength: LANES }),
  values: fc.array(value, { minLength: LANES, maxLength: LANES }),
  steps: fc.array(fc.integer({ min: -50, max: 1000 }), { minLength: LANES, maxLength: LANES }),
});

const scenario = fc.record({
  kinds: fc.array(kind, { minLength: LANES, maxLength: LANES }),
  steps: fc.array(step, { maxLength: 80 }),
  chunkSamples: fc.integer({ min: 2, max: 30 }),
  solo: fc.boolean(),
  queries: fc.array(fc.integer({ min: 0, max: 80 * 400_000 }), { minLength: 4, maxLength: 12 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Reference {
  ts: number[][];
  vals: number[][];
  stale: number[][];
}

/** Feeds a scenario to a fresh store and to the reference. */
function play(sc: Scenario) {
  const store = createSeriesStore({ chunkSamples: sc.chunkSamples, retentionMs: 1e15 });
  const refs = Array.from({ length: LANES }, (_, i) =>
    store.getOrCreate({ __name__: `m${i}`, entity: `gpu:n/${i}` }),
  );
  const group = store.group("target");
  const ref: Reference = { ts: refs.map(() => []), vals: refs.map(() => []), stale: refs.map(() => []) };
  const state = refs.map(() => 0);
  let t = 1_700_000_000_000;
  for (const st of sc.steps) {
    t += st.dtMs;
    const batchRefs: number[] = [];
    const batchVals: number[] = [];
    for (let i = 0; i < LANES; i++) {
      const k = sc.kinds[i]!;
      if (k === "const") state[i] = sc.steps[0]!.values[i]!;
      else if (k === "counter") state[i] = st.steps[i]! < 0 ? -st.steps[i]! : state[i]! + st.steps[i]!;
      else if (k === "bigcounter") state[i] = 2 ** 50 + Math.abs(state[i]! - 2 ** 50) + st.steps[i]! * 1e6;
      else if (k === "linear") state[i] = state[i]! + 6_569_500 + (st.steps[i]! % 3);
      else if (k === "walk") state[i] = Math.round((state[i]! + st.steps[i]! / 1000) * 1000) / 1000;
      else state[i] = st.values[i]!;
      const hasSample = ref.ts[i]!.length > 0;
      const lastMark = ref.stale[i]!.at(-1) ?? -1;
      const isStale = lastMark > (ref.ts[i]!.at(-1) ?? -1);
      if (st.stale[i] === 0 && hasSample && !isStale) {
        assert.equal(store.markStale(refs[i]!, t), true);
        ref.stale[i]!.push(t);
      } else if (st.present[i]) {
        batchRefs.push(refs[i]!);
        batchVals.push(state[i]!);
        ref.ts[i]!.push(t);
        ref.vals[i]!.push(state[i]!);
      }
    }
    if (sc.solo) for (let j = 0; j < batchRefs.length; j++) store.append(batchRefs[j]!, t, batchVals[j]!);
    else store.appendBatch(group, t, batchRefs, batchVals);
  }
  return { store, refs, ref, startMs: 1_700_000_000_000 };
}

function naiveInstant(r: Reference, i: number, at: number): number | undefined {
  const ts = r.ts[i]!;
  let j = ts.length - 1;
  while (j >= 0 && ts[j]! > at) j--;
  if (j < 0 || ts[j]! <= at - LOOKBACK) return undefined;
  if (r.stale[i]!.some((m) => m > ts[j]! && m <= at)) return undefined;
  return r.vals[i]![j];
}

function naiveCounterDelta(r: Reference, i: number, a: number, b: number): number | undefined {
  const ts = r.ts[i]!;
  const vs = r.vals[i]!;
  let base = -1;
  for (let j = 0; j < ts.length; j++) if (ts[j]! <= a) base = j;
  const picked: number[] = [];
  for (let j = 0; j < ts.length; j++) if (j === base || (ts[j]! > a && ts[j]! <= b)) picked.push(vs[j]!);
  if (picked.length === 0) return undefined;
  let sum = 0;
  let prev = Number.NaN;
  for (const v of picked) {
    if (Number.isNaN(v)) continue;
    if (!Number.isNaN(prev)) sum += v >= prev ? v - prev : v;
    prev = v;
  }
  return sum;
}

function sameValues(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let j = 0; j < expected.length; j++)
    assert.ok(Object.is(actual[j], expected[j]), `${what}[${j}]: ${actual[j]} !== ${expected[j]}`);
}

describe("series store properties", () => {
  it("round-trips every value exactly and answers queries as the naive reference", () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { store, refs, ref, startMs } = play(sc);
        for (let i = 0; i < LANES; i++) {
          const got = store.range(refs[i]!, 0, 2 ** 52);
          sameValues(got.timestampsMs, ref.ts[i]!, `lane ${i} ts`);
          sameValues(got.values, ref.vals[i]!, `lane ${i} values`);
          for (const q of sc.queries) {
            const at = startMs + q;
            const want = naiveInstant(ref, i, at);
            const have = store.instant(refs[i]!, at);
            assert.ok(Object.is(have, want), `instant lane ${i} at +${q}: ${have} vs ${want}`);
          }
          for (let k = 0; k + 1 < sc.queries.length; k += 2) {
            const a = startMs + Math.min(sc.queries[k]!, sc.queries[k + 1]!);
            const b = startMs + Math.max(sc.queries[k]!, sc.queries[k + 1]!);
            const want = naiveCounterDelta(ref, i, a, b);
            const have = store.counterDelta(refs[i]!, a, b);
            assert.ok(Object.is(have, want), `counterDelta lane ${i}: ${have} vs ${want}`);
            const inWindow = ref.ts[i]!.flatMap((t, j) => (t > a && t <= b ? [j] : []));
            const inc = extrapolatedIncrease(
              Float64Array.from(inWindow, (j) => ref.ts[i]![j]!),
              Float64Array.from(inWindow, (j) => ref.vals[i]![j]!),
              inWindow.length,
              a,
              b,
            );
            assert.ok(Object.is(store.increase(refs[i]!, a, b), inc), `increase lane ${i}`);
            const part = store.range(refs[i]!, a, b);
            sameValues(
              part.timestampsMs,
              ref.ts[i]!.filter((t) => t >= a && t <= b),
              `range lane ${i}`,
            );
          }
        }
        const stats = store.stats();
        assert.equal(
          stats.samples,
          ref.ts.reduce((n, ts) => n + ts.length, 0),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("counterDelta is additive over adjacent windows", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 1000 }), (sc, cut) => {
        const { store, refs, startMs } = play(sc);
        const a = startMs;
        const c = startMs + 80 * 400_000;
        const b = a + Math.floor(((c - a) * cut) / 1000);
        for (const [lane, r] of refs.entries()) {
          // Exact additivity needs exact arithmetic: integer counters, as the KPI engine reads.
          if (!["counter", "linear", "bigcounter"].includes(sc.kinds[lane]!)) continue;
          const whole = store.counterDelta(r, a, c);
          const left = store.counterDelta(r, a, b) ?? 0;
          const right = store.counterDelta(r, b, c) ?? 0;
          if (whole === undefined) continue;
          assert.equal(left + right, whole);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("keeps at least the retention window and drops only whole chunks before it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20 }),
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 50, maxLength: 400 }),
        (chunkSamples, gaps) => {
          const retentionMs = 200_000;
          const store: SeriesStore = createSeriesStore({ chunkSamples, retentionMs });
          const r = store.getOrCreate({ __name__: "x" });
          const g = store.group("g");
          const all: number[] = [];
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            store.appendBatch(g, t, [r], [t % 97]);
            all.push(t);
          }
          store.applyRetention();
          const got = [...store.range(r, 0, t).timestampsMs];
          const kept = all.filter((x) => x >= t - retentionMs);
          // Everything inside the window is there; whatever else is there is a suffix of the input.
          assert.deepEqual(got.slice(got.length - kept.length), kept);
          assert.deepEqual(got, all.slice(all.length - got.length));
          // Only whole chunks beyond the window remain: at most one chunk span or chunkSamples more.
          assert.ok(
            got.length <= kept.length + chunkSamples,
            `${got.length} > ${kept.length} + ${chunkSamples}`,
          );
          assert.equal(store.stats().rejected["too-old"], 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
