/** The console's pure parts: formats, colors, the floor's layout and values, KPI totals, power answers, placement. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { percent, si, watts } from "../src/format.ts";
import { luminance, measureColor, orgColor, ramp, textOn } from "../src/measures.ts";
import { eventRows, filterRows, type XidEvent, xidsByRack } from "../src/model/events.ts";
import { type Entity, layoutOf, rackValuesOf, shortNames } from "../src/model/floor.ts";
import { type KpiRow, minutePoints, pduPowerPoints, totalsOf } from "../src/model/kpi.ts";
import { jobKeyOf, placementsOf } from "../src/model/placement.ts";
import {
  type Action,
  depthOrder,
  describeTarget,
  groupActions,
  type PowerLevel,
} from "../src/model/power.ts";

const entity = (id: string, parent: string | null, org: string | null = null): Entity => ({
  id,
  kind: id.split(":")[0]!,
  name: id.split(":")[1]!,
  type: null,
  parent,
  org,
  limitWatts: null,
  ordinal: null,
});

const kpi = (key: string, over: Partial<KpiRow> = {}): KpiRow => ({
  key,
  gpus: 8,
  tokens: 1000,
  energyJoules: 500,
  tokensPerJoule: 2,
  tokensPerSecond: 100,
  gpuSeconds: 480,
  usableGpuSeconds: 480,
  usableShare: 1,
  meanPowerWatts: 5000,
  ...over,
});

describe("formats", () => {
  const cases: [string, string, string][] = [
    ["1234567 W", watts(1_234_567), "1.23 MW"],
    ["41234 W", watts(41_234), "41.2 kW"],
    ["700 W", watts(700), "700 W"],
    ["unknown", watts(undefined), "–"],
    ["NaN", si(Number.NaN), "–"],
    ["small", si(0.00147), "0.0015"],
    ["zero", si(0), "0"],
    ["share", percent(0.573), "57.3 %"],
  ];
  for (const [what, got, want] of cases) it(what, () => assert.equal(got, want));
});

describe("colors", () => {
  it("runs the ramp from blue to red and clamps", () => {
    assert.equal(ramp(0), "rgb(49,104,142)");
    assert.equal(ramp(1), "rgb(205,46,37)");
    assert.equal(ramp(-3), ramp(0));
    assert.equal(ramp(7), ramp(1));
  });
  it("turns the ramp round where a low value is the worry, and greys what is unknown", () => {
    assert.equal(measureColor(10, 0, 10, true), ramp(1));
    assert.equal(measureColor(10, 0, 10, false), ramp(0));
    assert.equal(measureColor(undefined, 0, 10, true), "var(--unknown)");
    assert.equal(measureColor(5, 5, 5, true), ramp(0.5));
  });
  it("gives each org its own color and shared racks grey", () => {
    assert.notEqual(orgColor("acme", ["acme", "globex"]), orgColor("globex", ["acme", "globex"]));
    assert.equal(orgColor(null, ["acme"]), "#7f7f7f");
  });
});

describe("the floor", () => {
  it("puts racks in their rows and rows in their halls, leaving out empty ones", () => {
    const layout = layoutOf(
      [entity("hall:h1", "site:s"), entity("hall:h2", "site:s")],
      [entity("row:h1/a", "hall:h1"), entity("row:h1/b", "hall:h1"), entity("row:h2/c", "hall:h2")],
      [entity("rack:r1", "row:h1/a", "acme"), entity("rack:r2", "row:h1/a"), entity("rack:r3", "row:h1/b")],
    );
    assert.equal(layout.rackCount, 3);
    assert.deepEqual(
      layout.halls.map((h) => [h.name, h.rows.map((r) => [r.name, r.racks.map((k) => k.name)])]),
      [
        [
          "h1",
          [
            ["a", ["r1", "r2"]],
            ["b", ["r3"]],
          ],
        ],
      ],
    );
  });

  it("adds a rack's PDU draws, takes its tightest PDU's headroom, and its tokens per joule", () => {
    const parents = new Map([
      ["power:r1-a", "rack:r1"],
      ["power:r1-b", "rack:r1"],
      ["power:fpdu", "site:s"],
    ]);
    const values = rackValuesOf(
      [
        { id: "power:r1-a", type: "rackPdu", limitWatts: 10_000, drawWatts: 6000, strandedWatts: 4000 },
        { id: "power:r1-b", type: "rackPdu", limitWatts: 10_000, drawWatts: 9000, strandedWatts: 1000 },
        { id: "power:fpdu", type: "floorPdu", limitWatts: 100_000, drawWatts: 50_000, strandedWatts: 50_000 },
      ],
      parents,
      { by: "rack", startMs: 0, endMs: 60_000, rows: [kpi("r1", { tokensPerJoule: 3 }), kpi("r2")] },
      new Map([["rack:r1", 71]]),
    );
    assert.deepEqual(values.get("rack:r1"), {
      power: 15_000,
      headroom: 1000,
      tokensPerWatt: 3,
      tokensPerSecond: 100,
      temperature: 71,
    });
    // Without PDU readings, the GPUs' mean power stands in.
    assert.equal(values.get("rack:r2")?.power, 5000);
    assert.equal(values.has("site:s"), false);
  });
});

describe("KPI totals", () => {
  it("adds a frame's racks, weighting tokens per joule and usable share by energy and GPU time", () => {
    const t = totalsOf({
      by: "rack",
      startMs: 0,
      endMs: 60_000,
      rows: [kpi("a"), kpi("b", { tokens: 3000, energyJoules: 500, gpuSeconds: 480, usableGpuSeconds: 240 })],
    });
    assert.deepEqual(t, {
      atMs: 60_000,
      tokensPerSecond: 200,
      tokensPerJoule: 4,
      powerWatts: 10_000,
      usableShare: 0.75,
    });
  });

  it("sums the orgs' minute rollups into one point a minute, in order", () => {
    const row = (minuteMs: number, tokens: number) => ({
      minuteMs,
      promptTokens: tokens,
      generatedTokens: 0,
      trainingTokens: 0,
      energyJoules: 6000,
      gpuSeconds: 60,
      usableGpuSeconds: 60,
    });
    const points = minutePoints([row(120_000, 60), row(60_000, 600), row(60_000, 600)]);
    assert.deepEqual(
      points.map((p) => [p.atMs, p.tokensPerSecond, p.powerWatts]),
      [
        [120_000, 20, 200],
        [180_000, 1, 100],
      ],
    );
  });
});

describe("power answers", () => {
  const level = (id: string, parent: string | null): PowerLevel => ({
    id,
    name: id,
    parent,
    limitWatts: 1,
    gpuWatts: 1,
    allocatedWatts: 1,
    drawWatts: null,
    headroomWatts: null,
    utilization: null,
    binds: false,
    marginalTokensPerJoule: 0,
    gpuCount: 1,
    band: null,
  });

  it("orders the budget tree parent first, and treats a level whose parent is hidden as a root", () => {
    const order = depthOrder([
      level("r1", "site"),
      level("site", null),
      level("g1", "r1"),
      level("r9", "hidden"),
    ]);
    assert.deepEqual(
      order.map((o) => [o.level.id, o.depth]),
      [
        ["site", 0],
        ["r1", 1],
        ["g1", 2],
        ["r9", 0],
      ],
    );
  });

  it("groups one decision's entries for many GPUs, newest first", () => {
    const a = (gpu: string | undefined, atMs: number, capWatts?: number): Action => ({
      atMs,
      kind: gpu ? "safety" : "allocation",
      text: gpu ? `${gpu} set to ${capWatts} W` : "caps reallocated",
      ...(gpu ? { gpu, fromWatts: 700, capWatts, rule: "hold" } : {}),
    });
    const groups = groupActions([
      a(undefined, 1),
      a("g1", 2, 200),
      a("g2", 2, 200),
      a("g3", 2, 300),
      a("g4", 3, 200),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.first.atMs, g.gpus]),
      [
        [3, ["g4"]],
        [2, ["g3"]],
        [2, ["g1", "g2"]],
        [1, []],
      ],
    );
  });

  it("says a target in words", () => {
    assert.equal(describeTarget({ fraction: 0.6 }), "60 % of peak");
    assert.equal(describeTarget({ watts: 80_640 }), "80.6 kW");
    assert.equal(describeTarget(null), "none");
  });
});

describe("placement", () => {
  it("names jobs as the KPIs do: training jobs by name, inference replicas by their service", () => {
    const cases: [string | null, string | undefined][] = [
      ["job:acme-pretrain", "acme-pretrain"],
      ["server:acme-chat-0", "acme-chat"],
      ["server:globex-code-12", "globex-code"],
      ["idle:gpu:r01-dgx1/0", undefined],
      [null, undefined],
    ];
    for (const [id, key] of cases) assert.equal(jobKeyOf(id), key, String(id));
  });

  it("groups GPUs by job with their nodes and racks", () => {
    const racks = new Map([
      ["node:r01-dgx1", "rack:r01"],
      ["node:r02-dgx1", "rack:r02"],
    ]);
    const byJob = placementsOf(
      [
        ["gpu:r01-dgx1/0", "job:train"],
        ["gpu:r01-dgx1/1", "job:train"],
        ["gpu:r02-dgx1/0", "job:train"],
        ["gpu:r02-dgx1/1", "server:chat-1"],
        ["gpu:r02-dgx1/2", null],
      ],
      racks,
    );
    assert.deepEqual(byJob.get("train"), {
      gpus: ["gpu:r01-dgx1/0", "gpu:r01-dgx1/1", "gpu:r02-dgx1/0"],
      nodes: ["node:r01-dgx1", "node:r02-dgx1"],
      racks: [
        { rack: "rack:r01", gpus: 2 },
        { rack: "rack:r02", gpus: 1 },
      ],
    });
    assert.deepEqual([...byJob.keys()], ["train", "chat"]);
  });
});

describe("rack names on the tiles", () => {
  const cases: [string[], string[]][] = [
    [
      ["h1-r01-01", "h1-r01-02", "h1-r01-10"],
      ["01", "02", "10"],
    ],
    [
      ["r01", "r02", "r03"],
      ["r01", "r02", "r03"],
    ],
    [["alone-1"], ["alone-1"]],
    [
      ["a-b-1", "a-c-2"],
      ["b-1", "c-2"],
    ],
  ];
  for (const [names, want] of cases) it(names.join(" "), () => assert.deepEqual(shortNames(names), want));
});

describe("events", () => {
  const xid: XidEvent = {
    kind: "xid",
    xid: 79,
    message: "GPU has fallen off the bus.",
    hostname: "r03-dgx2",
    timestampMs: 5000,
    gpuId: "gpu:r03-dgx2/5",
    severity: 3,
    catalog: { meaning: "GPU has fallen off the bus", action: "reset GPU" },
  };
  const safety = (gpu: string): Action => ({
    atMs: 7000,
    kind: "safety",
    text: `${gpu} set to 200 W`,
    gpu,
    fromWatts: 700,
    capWatts: 200,
    rule: "hold",
    level: "facility",
  });
  const rows = eventRows(
    [xid],
    [{ atMs: 6000, kind: "allocation", text: "caps reallocated" }, safety("gpu:a/0"), safety("gpu:a/1")],
  );

  it("lists Xid lines and power actions newest first, one line for one decision, without allocations", () => {
    assert.deepEqual(
      rows.map((r) => [r.atMs, r.source, r.code, r.gpu, r.more, r.what]),
      [
        [7000, "power", "safety", "gpu:a/0", 1, "2 GPUs set to 200 W"],
        [5000, "xid", "Xid 79", "gpu:r03-dgx2/5", 0, "GPU has fallen off the bus"],
      ],
    );
    assert.equal(rows[1]!.severe, true);
  });

  it("filters by source, code and text", () => {
    const keys = (source: string, code: string, text: string) =>
      filterRows(rows, source, code, text).map((r) => r.code);
    assert.deepEqual(keys("xid", "", ""), ["Xid 79"]);
    assert.deepEqual(keys("", "safety", ""), ["safety"]);
    assert.deepEqual(keys("", "", "FALLEN"), ["Xid 79"]);
    assert.deepEqual(keys("", "", "r03-dgx2"), ["Xid 79"]);
    assert.deepEqual(keys("power", "Xid 79", ""), []);
  });
});

describe("text on colored tiles", () => {
  const cases: [string, string][] = [
    ["rgb(49,104,142)", "#ffffff"],
    ["rgb(253,231,37)", "#0b0f14"],
    ["rgb(215,48,39)", "#ffffff"],
    ["#7f7f7f", "#0b0f14"],
    ["var(--unknown)", "var(--text)"],
  ];
  for (const [background, want] of cases) it(background, () => assert.equal(textOn(background), want));

  it("keeps WCAG AA contrast (4.5:1) for every color of the ramp", () => {
    for (let t = 0; t <= 1; t += 0.05) {
      const bg = luminance(ramp(t))!;
      const fg = textOn(ramp(t)) === "#ffffff" ? 1 : luminance("#0b0f14")!;
      const ratio = (Math.max(bg, fg) + 0.05) / (Math.min(bg, fg) + 0.05);
      assert.ok(ratio >= 4.5, `${ramp(t)}: ${ratio.toFixed(2)}`);
    }
  });
});

describe("Xid events on the floor", () => {
  it("counts a rack's recent events by their GPUs' nodes, leaving out old and unplaced ones", () => {
    const e = (gpuId: string | undefined, timestampMs: number): XidEvent => ({
      kind: "xid",
      xid: 79,
      message: "",
      hostname: "h",
      timestampMs,
      severity: 3,
      ...(gpuId ? { gpuId } : {}),
    });
    const racks = new Map([
      ["node:r01-dgx1", "rack:r01"],
      ["node:r02-dgx1", "rack:r02"],
    ]);
    const counts = xidsByRack(
      [
        e("gpu:r01-dgx1/0", 100),
        e("gpu:r01-dgx1/3", 200),
        e("gpu:r02-dgx1/0", 10),
        e(undefined, 300),
        e("gpu:x/1", 300),
      ],
      racks,
      50,
    );
    assert.deepEqual([...counts], [["rack:r01", 2]]);
  });
});

describe("metered power history", () => {
  it("adds the racks' PDU energy a minute into watts, skipping racks without meters", () => {
    const row = (minuteMs: number, pduEnergyJoules: number | null) => ({
      minuteMs,
      promptTokens: 0,
      generatedTokens: 0,
      trainingTokens: 0,
      energyJoules: 0,
      gpuSeconds: 0,
      usableGpuSeconds: 0,
      pduEnergyJoules,
    });
    assert.deepEqual(pduPowerPoints([row(60_000, 600_000), row(0, 60_000), row(0, 120_000), row(0, null)]), [
      { atMs: 60_000, watts: 3000 },
      { atMs: 120_000, watts: 10_000 },
    ]);
  });
});
