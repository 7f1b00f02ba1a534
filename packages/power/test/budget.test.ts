/** The budget tree of the lab example: limits, A/B merging, overrides, a facility target. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadFactory, overheadWatts } from "@flightdeck/model";
import { allocate, type BudgetOptions, computeBoundCurve, deriveBudgets, PowerError } from "../src/index.ts";

const labText = readFileSync(
  fileURLToPath(new URL("../../../examples/factories/lab.yaml", import.meta.url)),
  "utf8",
);
const lab = loadFactory(labText).build!;
const rackPduWatts = lab.graph.get("power:r01-pdu-a1")!.limitWatts!;
const nodeFixedWatts = overheadWatts(lab.catalog.nodes["dgx-h100"]!);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof PowerError ? err.code : String(err);
  }
  return "none";
}

describe("deriveBudgets on the lab", () => {
  it("nests four rack budgets under one floor budget, A and B merged", () => {
    const tree = deriveBudgets(lab);
    assert.equal(tree.budgets.length, 5);
    const [root, ...racks] = tree.budgets;
    // N+N: each side carries every node alone; fpdu-a1 and fpdu-b1 (250 kW × 0.8) are the tightest.
    assert.equal(root!.devices[0], "power:fpdu-a1");
    assert.deepEqual([...root!.devices].sort(), [
      "power:fpdu-a1",
      "power:fpdu-b1",
      "power:swbd-a",
      "power:swbd-b",
      "power:util-a",
      "power:util-b",
    ]);
    assert.equal(root!.limitWatts, 200_000);
    assert.equal(root!.parent, -1);
    assert.deepEqual(root!.children, [1, 2, 3, 4]);
    assert.equal(root!.gpuCount, 128);
    for (const rack of racks) {
      // Two cords per side: each rack PDU carries half a node, so the side carries 2 × its limit.
      assert.ok(Math.abs(rack.limitWatts - 2 * rackPduWatts) < 1e-6);
      assert.equal(rack.devices.length, 4);
      assert.equal(rack.fixedWatts, 4 * nodeFixedWatts);
      assert.equal(rack.watts, rack.limitWatts - rack.fixedWatts);
      assert.equal(rack.gpus.length, 32);
      assert.equal(rack.conservative, false);
    }
    assert.deepEqual(racks[0]!.gpus.slice(0, 2), ["gpu:r01-dgx1/0", "gpu:r01-dgx1/1"]);
    assert.equal(root!.fixedWatts, 16 * nodeFixedWatts);
    assert.equal(tree.gpus.length, 128);
    assert.deepEqual(tree.gpus[0], { id: "gpu:r01-dgx1/0", budget: 1, minWatts: 200, maxWatts: 700 });
  });

  it("without redundancy splits a node over all its cords", () => {
    const tree = deriveBudgets(lab, { redundancy: "none" });
    assert.equal(tree.budgets[0]!.limitWatts, 400_000);
    assert.ok(Math.abs(tree.budgets[1]!.limitWatts - 4 * rackPduWatts) < 1e-6);
  });

  it("applies overrides in watts and percent", () => {
    const tree = deriveBudgets(lab, {
      overrides: { "power:r01-pdu-b2": { percent: 50 }, "power:fpdu-b1": { watts: 150_000 } },
    });
    assert.equal(tree.budgets[0]!.limitWatts, 150_000);
    assert.equal(tree.budgets[0]!.devices[0], "power:fpdu-b1");
    assert.ok(Math.abs(tree.budgets[1]!.limitWatts - rackPduWatts) < 1e-6);
    assert.equal(tree.budgets[1]!.devices[0], "power:r01-pdu-b2");
    assert.ok(Math.abs(tree.budgets[2]!.limitWatts - 2 * rackPduWatts) < 1e-6);
  });

  it("puts a facility target at 85% of peak on the site", () => {
    const tree = deriveBudgets(lab, { facility: { fraction: 0.85 } });
    const peak = 16 * (8 * 700 + nodeFixedWatts);
    assert.equal(tree.peakWatts, peak);
    const root = tree.budgets[0]!;
    assert.equal(root.devices[0], "facility");
    assert.ok(Math.abs(root.limitWatts - 0.85 * peak) < 1e-6);
    // Allocating a job per node under it: the site binds, every GPU within its range.
    const curve = computeBoundCurve();
    const jobs = lab.graph.ofKind("node").map((n) => ({
      id: n.id,
      gpus: tree.gpus.filter((g) => g.id.startsWith(`gpu:${n.name}/`)).map((g) => g.id),
      tokensPerSecond: 8000,
      curve,
    }));
    const out = allocate({ gpus: tree.gpus, budgets: tree.budgets, jobs });
    assert.ok(out.exact);
    assert.ok(out.budgets[0]!.binds);
    assert.ok(out.budgets[0]!.usedWatts <= root.watts + 1e-6);
    assert.ok(root.watts - out.budgets[0]!.usedWatts < 16, "the site is filled to within a step per job");
    // Identical jobs end with caps within one step of each other.
    const caps = out.jobs.map((j) => j.capWatts);
    assert.ok(Math.max(...caps) - Math.min(...caps) <= 1 / 8 + 1e-9);
    // 85% of peak power keeps well over 85% of tokens (the curve is concave).
    assert.ok(out.tokensPerSecond / (16 * 8000) > 0.9);
  });

  it("refuses bad overrides and targets", () => {
    const bad = (options: BudgetOptions) => codeOf(() => deriveBudgets(lab, options));
    assert.equal(bad({ overrides: { "power:nope": { watts: 1 } } }), "bad-override");
    assert.equal(bad({ overrides: { "power:fpdu-a1": { watts: 300_000 } } }), "bad-override");
    assert.equal(bad({ overrides: { "power:fpdu-a1": { percent: 120 } } }), "bad-override");
    assert.equal(bad({ facility: { fraction: 0 } }), "bad-target");
    assert.equal(bad({ facility: { fraction: 1.5 } }), "bad-target");
  });

  it("refuses A and B chains that group racks differently", () => {
    // r01 on a1/b1, r02 on a2/b2, r03–r04 on a1/b2: fpdu-a1 {r01, r03, r04} crosses
    // fpdu-b2 {r02, r03, r04}, two laminar families whose union is not laminar.
    const text = labText
      .replace(
        "          - name: fpdu-b1\n            kind: floorPdu\n            rating: { kw: 250 }\n",
        "          - name: fpdu-b{1..2}\n            kind: floorPdu\n            rating: { kw: 250 }\n",
      )
      .replace(
        "          - name: fpdu-a1\n            kind: floorPdu\n            rating: { kw: 250 }\n",
        "          - name: fpdu-a{1..2}\n            kind: floorPdu\n            rating: { kw: 250 }\n",
      )
      .replace(
        "          - name: r{01..02}\n            type: dgx-h100-4\n            org: acme\n            power: { A: fpdu-a1, B: fpdu-b1 }",
        "          - name: r01\n            type: dgx-h100-4\n            org: acme\n            power: { A: fpdu-a1, B: fpdu-b1 }\n" +
          "          - name: r02\n            type: dgx-h100-4\n            org: acme\n            power: { A: fpdu-a2, B: fpdu-b2 }",
      )
      .replace(
        "power: { A: fpdu-a1, B: fpdu-b1 }\n\nfabrics",
        "power: { A: fpdu-a1, B: fpdu-b2 }\n\nfabrics",
      );
    const loaded = loadFactory(text);
    assert.ok(loaded.ok, loaded.problems.map((p) => p.message).join("; "));
    assert.equal(
      codeOf(() => deriveBudgets(loaded.build!)),
      "budgets-cross",
    );
  });
});
