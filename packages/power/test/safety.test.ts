/** The safety loop: thresholds, hysteresis, unknown readings, nesting, and a 1 s simulation. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_SAFETY_CONFIG,
  decideSafety,
  initialSafetyState,
  PowerError,
  type SafetyConfig,
  type SafetyGpu,
  type SafetyLevel,
  type SafetyState,
} from "../src/index.ts";

const MIN = 200;
const MAX = 700;

function gpu(id: string, level: string, priority: number, capWatts = MAX, drawWatts?: number): SafetyGpu {
  return {
    id,
    level,
    priority,
    minWatts: MIN,
    maxWatts: MAX,
    capWatts,
    ...(drawWatts === undefined ? {} : { drawWatts }),
  };
}

/** One rack of four GPUs: g0, g1 priority 0; g2 priority 1; g3 priority 3. */
function rack(draw: number, measured: number | undefined, limitWatts = 2500) {
  const level: SafetyLevel = {
    id: "rack",
    limitWatts,
    ...(measured === undefined ? {} : { measuredWatts: measured }),
  };
  return {
    atMs: 0,
    levels: [level],
    gpus: [
      gpu("g0", "rack", 0, MAX, draw),
      gpu("g1", "rack", 0, MAX, draw),
      gpu("g2", "rack", 1, MAX, draw),
      gpu("g3", "rack", 3, MAX, draw),
    ],
  };
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PowerError);
    return e.code;
  }
  return "none";
};

describe("decideSafety thresholds", () => {
  it("does nothing under the first threshold", () => {
    const d = decideSafety(initialSafetyState(), rack(590, 2360), DEFAULT_SAFETY_CONFIG);
    assert.equal(d.actions.length, 0);
    assert.equal(d.explanation[0]!.band, "between");
  });

  it("above the first threshold caps the least important class first, just under the threshold", () => {
    // 4 × 610 = 2440 W of 2500 (97.6%): 65 W to cut to reach 95%; g3 (priority 3) has 410 W of room.
    const d = decideSafety(initialSafetyState(), rack(610, 2440), DEFAULT_SAFETY_CONFIG);
    assert.deepEqual(
      d.actions.map((a) => a.gpu),
      ["g3"],
    );
    assert.ok(Math.abs(d.capWatts.g3! - (610 - 65)) < 1e-9);
    assert.equal(d.actions[0]!.reason.rule, "first-threshold");
    assert.equal(d.actions[0]!.reason.level, "rack");
    assert.equal(d.actions[0]!.reason.threshold, 0.95);
    assert.match(d.actions[0]!.reason.text, /rack 2440 W of 2500 W \(98%\) over the first threshold/);
    assert.ok(d.explanation[0]!.projectedWatts <= 0.95 * 2500 + 1e-9);
  });

  it("moves to the next class when the least important is at its minimum, never to priority 0", () => {
    // 3500 W of 2500 with a looser second threshold: 1125 W to cut, g3 and g2 hold 980 W together.
    const config: SafetyConfig = { ...DEFAULT_SAFETY_CONFIG, secondThreshold: 1.5 };
    const d = decideSafety(initialSafetyState(), rack(690, 3500), config);
    assert.equal(d.capWatts.g3, MIN);
    assert.equal(d.capWatts.g2, MIN);
    assert.equal(d.capWatts.g0, MAX);
    assert.equal(d.capWatts.g1, MAX);
    assert.equal(d.explanation[0]!.exhausted, true);
  });

  it("above the second threshold caps everything by the same fraction of its room", () => {
    const d = decideSafety(initialSafetyState(), rack(700, 2800), DEFAULT_SAFETY_CONFIG);
    // 2800 − 2375 = 425 W over 4 × 500 W of room: every GPU loses 106.25 W.
    for (const id of ["g0", "g1", "g2", "g3"])
      assert.ok(Math.abs(d.capWatts[id]! - (700 - 106.25)) < 1e-9, id);
    assert.ok(d.actions.every((a) => a.reason.rule === "second-threshold"));
  });

  it("never goes below a GPU's minimum nor above its allowed maximum", () => {
    const d = decideSafety(initialSafetyState(), rack(700, 9000), DEFAULT_SAFETY_CONFIG);
    assert.ok(Object.values(d.capWatts).every((c) => c === MIN));
    assert.equal(d.explanation[0]!.exhausted, true);
    const lowered = decideSafety(
      initialSafetyState(),
      {
        atMs: 0,
        levels: [{ id: "rack", limitWatts: 2500, measuredWatts: 1000 }],
        gpus: [{ ...gpu("g0", "rack", 0), maxWatts: 500 }],
      },
      DEFAULT_SAFETY_CONFIG,
    );
    assert.equal(lowered.capWatts.g0, 500);
    assert.equal(lowered.actions[0]!.reason.rule, "allowed-maximum");
  });

  it("refuses bad levels and a bad config", () => {
    const o = rack(500, 2000);
    assert.equal(
      codeOf(() =>
        decideSafety(initialSafetyState(), { ...o, levels: [{ id: "rack", parent: "row", limitWatts: 1 }] }),
      ),
      "bad-budget",
    );
    assert.equal(
      codeOf(() => decideSafety(initialSafetyState(), { ...o, levels: [] })),
      "bad-budget",
    );
    assert.equal(
      codeOf(() =>
        decideSafety(initialSafetyState(), o, { ...DEFAULT_SAFETY_CONFIG, releaseThreshold: 0.99 }),
      ),
      "bad-target",
    );
  });
});

describe("decideSafety hysteresis", () => {
  it("holds caps between the thresholds and releases stepwise after N observations below", () => {
    const config: SafetyConfig = { ...DEFAULT_SAFETY_CONFIG, releaseAfterObservations: 3 };
    let d = decideSafety(initialSafetyState(), rack(700, 2800), config);
    let state: SafetyState = d.state;
    const cut = d.capWatts.g0!;
    const step = (atMs: number, measured: number) => {
      const o = rack(400, measured);
      d = decideSafety(
        state,
        { ...o, atMs, gpus: o.gpus.map((g) => ({ ...g, capWatts: d.capWatts[g.id]! })) },
        config,
      );
      state = d.state;
    };
    // 92%: between release and first: held, nothing moves however long.
    for (let t = 1; t <= 10; t++) step(t * 1000, 2300);
    assert.equal(d.capWatts.g0, cut);
    assert.equal(d.actions.length, 0);
    // 80%: two observations are not enough, the third releases one step, priority 0 first.
    step(11_000, 2000);
    step(12_000, 2000);
    assert.equal(d.capWatts.g0, cut);
    step(13_000, 2000);
    assert.equal(d.capWatts.g0, Math.min(MAX, cut + 50));
    assert.equal(d.actions[0]!.reason.rule, "release");
    // Room under 90% is 250 W: g0, g1, g2 get 50 W each, g3 (least important) too, within the room.
    assert.equal(d.explanation[0]!.belowCount, 0);
    // The same observation again advances nothing.
    const again = decideSafety(state, { ...rack(400, 2000), atMs: 13_000 }, config);
    assert.equal(again.state.below.rack, 0);
    // A reading over the first threshold resets the count.
    step(14_000, 2000);
    step(15_000, 2450);
    assert.equal(d.state.below.rack, 0);
  });

  it("releases no further than the release threshold allows", () => {
    const config: SafetyConfig = {
      ...DEFAULT_SAFETY_CONFIG,
      releaseAfterObservations: 1,
      releaseStepFraction: 1,
    };
    const first = decideSafety(initialSafetyState(), rack(700, 9000), config);
    const o = rack(200, 2200);
    const d = decideSafety(
      first.state,
      { ...o, atMs: 1, gpus: o.gpus.map((g) => ({ ...g, capWatts: MIN })) },
      config,
    );
    // 2250 − 2200 = 50 W of room: all of it to g0.
    assert.equal(d.capWatts.g0, MIN + 50);
    assert.equal(d.capWatts.g1, MIN);
  });
});

describe("decideSafety unknown readings", () => {
  it("counts a level without a reading at its limit", () => {
    const d = decideSafety(initialSafetyState(), rack(300, undefined), DEFAULT_SAFETY_CONFIG);
    assert.equal(d.explanation[0]!.assumed, true);
    assert.equal(d.explanation[0]!.measuredWatts, 2500);
    // Draws are not trusted under an unknown level: the cut is counted against applied caps.
    assert.ok(d.actions.length > 0 && d.actions.every((a) => a.reason.assumed === true));
    assert.equal(d.capWatts.g0, MAX);
    assert.match(d.actions[0]!.reason.text, /assumed 2500 W/);
  });

  it("bounds it by the applied caps when the non-GPU draw is declared", () => {
    const o = rack(300, undefined);
    const capped = {
      ...o,
      levels: [{ ...o.levels[0]!, fixedWatts: 100 }],
      gpus: o.gpus.map((g) => ({ ...g, capWatts: 560, maxWatts: 560 })),
    };
    const d = decideSafety(initialSafetyState(), capped, DEFAULT_SAFETY_CONFIG);
    // 100 W + 4 × 560 W = 2340 W (93.6%): between the thresholds, nothing to cut.
    assert.equal(d.explanation[0]!.measuredWatts, 2340);
    assert.equal(d.actions.length, 0);
    assert.equal(d.explanation[0]!.band, "between");
  });
});

describe("decideSafety nesting", () => {
  const levels = (row: number | undefined, r1: number, r2: number): SafetyLevel[] => [
    { id: "row", limitWatts: 4000, ...(row === undefined ? {} : { measuredWatts: row }) },
    { id: "r1", parent: "row", limitWatts: 2500, measuredWatts: r1 },
    { id: "r2", parent: "row", limitWatts: 2500, measuredWatts: r2 },
  ];
  const gpus = (draw: number) =>
    ["r1", "r2"].flatMap((r) => [gpu(`${r}-hi`, r, 0, MAX, draw), gpu(`${r}-lo`, r, 2, MAX, draw)]);

  it("a rack over its limit cuts only its own GPUs", () => {
    const d = decideSafety(initialSafetyState(), {
      atMs: 0,
      levels: levels(3800, 2600, 1200),
      gpus: gpus(650),
    });
    assert.ok(d.actions.every((a) => a.gpu.startsWith("r1-") && a.reason.level === "r1"));
  });

  it("the row over its limit cuts low priority in every rack; the tightest cut wins", () => {
    const d = decideSafety(initialSafetyState(), {
      atMs: 0,
      levels: levels(3900, 1950, 1950),
      gpus: gpus(975),
    });
    assert.deepEqual(d.actions.map((a) => a.gpu).sort(), ["r1-lo", "r2-lo"]);
    assert.ok(d.actions.every((a) => a.reason.level === "row"));
    // Rack r1 and the row both over their second threshold: r1's cut is counted before the row's,
    // the row cuts further, and each GPU's reason names the level that set its final cap.
    const input = { atMs: 0, levels: levels(4200, 2700, 1500), gpus: gpus(700) };
    const rackOnly = decideSafety(initialSafetyState(), { ...input, levels: levels(3000, 2700, 1500) });
    const both = decideSafety(initialSafetyState(), input);
    assert.ok(both.explanation.every((r) => r.projectedWatts <= 0.95 * r.limitWatts + 1e-9));
    assert.ok(both.capWatts["r1-hi"]! < rackOnly.capWatts["r1-hi"]!);
    assert.equal(rackOnly.actions.find((a) => a.gpu === "r1-hi")!.reason.level, "r1");
    assert.equal(both.actions.find((a) => a.gpu === "r1-hi")!.reason.level, "row");
  });

  it("an unknown row still sees its racks' cuts", () => {
    const d = decideSafety(initialSafetyState(), {
      atMs: 0,
      levels: levels(undefined, 1000, 1000),
      gpus: gpus(500),
    });
    assert.equal(d.explanation[0]!.assumed, true);
    assert.ok(d.actions.every((a) => a.gpu.endsWith("-lo")));
  });
});

/**
 * A facility of two sides, each of two racks of four GPUs (two priority 0, two priority 2). A
 * level draws Σ min(demand, cap) of its GPUs; every second the loop observes and its caps apply
 * from the next second.
 */
describe("safety loop simulation at 1 s", () => {
  const racks = { "side-a": ["r1", "r2"], "side-b": ["r3", "r4"] } as const;
  const gpuIds = Object.values(racks).flatMap((rs) =>
    rs.flatMap((r) => [0, 1, 2, 3].map((n) => `${r}-g${n}`)),
  );
  const rackOf = (id: string) => id.split("-")[0]!;
  const priorityOf = (id: string) => (Number(id.at(-1)) < 2 ? 0 : 2);
  const FACILITY = 9000;

  function run(
    demandAt: (t: number) => number,
    limitsAt: (t: number) => Record<string, number>,
    seconds: number,
  ) {
    const caps = new Map(gpuIds.map((id) => [id, MAX]));
    let state = initialSafetyState();
    const over = new Map<string, number>();
    const history: { t: number; caps: Map<string, number>; limits: Record<string, number> }[] = [];
    let worstOver = 0;
    for (let t = 0; t < seconds; t++) {
      const demand = demandAt(t);
      const limits = limitsAt(t);
      const draw = new Map(gpuIds.map((id) => [id, Math.min(demand, caps.get(id)!)]));
      const under = (level: string) =>
        gpuIds.filter(
          (id) =>
            level === "facility" ||
            rackOf(id) === level ||
            racks[level as keyof typeof racks]?.includes(rackOf(id) as never),
        );
      const measured = (level: string) => under(level).reduce((s, id) => s + draw.get(id)!, 0);
      const levels: SafetyLevel[] = Object.keys(limits).map((id) => ({
        id,
        limitWatts: limits[id]!,
        measuredWatts: measured(id),
        ...(id === "facility"
          ? {}
          : { parent: id.startsWith("side") ? "facility" : id <= "r2" ? "side-a" : "side-b" }),
      }));
      for (const l of levels) {
        const n = l.measuredWatts! > l.limitWatts + 1e-6 ? (over.get(l.id) ?? 0) + 1 : 0;
        over.set(l.id, n);
        worstOver = Math.max(worstOver, n);
        assert.ok(
          n <= 2,
          `t=${t}: ${l.id} over its limit ${n} s in a row (${l.measuredWatts} W of ${l.limitWatts} W)`,
        );
      }
      const d = decideSafety(state, {
        atMs: t * 1000,
        levels,
        gpus: gpuIds.map((id) => ({ ...gpu(id, rackOf(id), priorityOf(id), caps.get(id)!, draw.get(id)!) })),
      });
      state = d.state;
      for (const id of gpuIds) {
        const c = d.capWatts[id]!;
        assert.ok(c >= MIN - 1e-9 && c <= MAX + 1e-9);
        caps.set(id, c);
      }
      history.push({ t, caps: new Map(caps), limits });
    }
    return { history, worstOver };
  }

  const fraction = (c: number) => (c - MIN) / (MAX - MIN);

  /** In every rack, at every second, no low-priority GPU has more of its range than a high-priority one. */
  function assertLowCutFirst(history: { caps: Map<string, number> }[]): void {
    for (const { caps } of history) {
      for (const r of ["r1", "r2", "r3", "r4"]) {
        const hi = Math.min(fraction(caps.get(`${r}-g0`)!), fraction(caps.get(`${r}-g1`)!));
        const lo = Math.max(fraction(caps.get(`${r}-g2`)!), fraction(caps.get(`${r}-g3`)!));
        assert.ok(lo <= hi + 1e-9, `${r}: low-priority at ${lo}, high-priority at ${hi}`);
      }
    }
  }

  it("keeps every level within its limit through demand and limit steps and a lost half side", () => {
    const limitsAt = (t: number) => {
      const facility = FACILITY * (t < 40 ? 1 : t < 70 ? 0.85 : 0.7);
      return {
        facility,
        "side-a": t < 100 ? 4800 : 2400,
        "side-b": 4800,
        r1: 2500,
        r2: 2500,
        r3: 2500,
        r4: 2500,
      };
    };
    const demandAt = (t: number) => (t < 10 ? 400 : t < 130 ? 700 : 300);
    const { history, worstOver } = run(demandAt, limitsAt, 260);
    assert.ok(worstOver <= 1, `a level stayed over for ${worstOver} s`);
    assertLowCutFirst(history);
    // After the demand fell, side-b's GPUs (room everywhere above them) are back at their maximum.
    const last = history.at(-1)!.caps;
    assert.ok(["r3", "r4"].every((r) => [0, 1, 2, 3].every((n) => last.get(`${r}-g${n}`) === MAX)));
  });

  it("cuts low-priority GPUs first while demand ramps up", () => {
    const limitsAt = () => ({
      facility: FACILITY,
      "side-a": 4800,
      "side-b": 4800,
      r1: 2500,
      r2: 2500,
      r3: 2500,
      r4: 2500,
    });
    const { history } = run((t) => 500 + 2 * t, limitsAt, 120);
    assertLowCutFirst(history);
    const firstCut = history.find((h) => [...h.caps.values()].some((c) => c < MAX))!;
    const cut = gpuIds.filter((id) => firstCut.caps.get(id)! < MAX);
    assert.ok(cut.length > 0 && cut.every((id) => priorityOf(id) === 2), `first cut: ${cut.join(", ")}`);
  });
});
