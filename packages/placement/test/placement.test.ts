/** Placement on the lab and a small NVL72 site: org racks, shapes, power refusals, queued vs rejected, bad input. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BudgetOptions, defineProfile, deriveBudgets } from "@flightdeck/power";
import {
  createPlacementEngine,
  type Decision,
  type Placed,
  PlacementError,
  type PlacementRequest,
  type Refused,
} from "../src/index.ts";
import { lab, nvl72 } from "./factories.ts";

const engineFor = (build = lab, budget: BudgetOptions = {}) =>
  createPlacementEngine({ build, tree: deriveBudgets(build, budget) });

function placed(d: Decision): Placed {
  assert.equal(d.status, "placed", "reason" in d ? d.reason : "");
  return d as Placed;
}
function refused(d: Decision, status: Refused["status"]): Refused {
  assert.equal(d.status, status, JSON.stringify(d));
  return d as Refused;
}
const rackOf = (node: string) => node.replace(/-(dgx|ct)\d+$/, "");

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlacementError) return err.code;
    throw err;
  }
  return "none";
}

// The lab: acme owns r01–r02, globex r03–r04, four DGX H100 per rack, one leaf switch per rack.
// Idle, the floor PDU carries 16 × 2,800 W of non-GPU parts + 128 GPUs at 200 W = 70,400 W; a
// max-p H100 adds 500 W, a max-q one (595 W cap) 395 W.
describe("placement on the lab", () => {
  it("places only in the org's racks, and queues the org once its racks are full", () => {
    const engine = engineFor();
    const a = placed(engine.place({ id: "a", org: "acme", gpus: 64 }));
    assert.equal(a.nodes.length, 8);
    assert.ok(a.nodes.every((n) => ["r01", "r02"].includes(rackOf(n))));
    const g = placed(engine.place({ id: "g", org: "globex", gpus: 8 }));
    assert.ok(["r03", "r04"].includes(rackOf(g.nodes[0]!)));
    const more = refused(engine.place({ id: "b", org: "acme", gpus: 8 }), "queued");
    assert.equal(more.reason, "needs 8 GPUs; 0 free in org acme's racks");
    assert.ok(engine.release("a"));
    placed(engine.place({ id: "b", org: "acme", gpus: 8 }));
  });

  it("takes whole nodes and reports the job's draw and what it adds to every level", () => {
    const d = placed(engineFor().place({ id: "j", org: "acme", gpus: 12 }));
    assert.equal(d.nodes.length, 2);
    assert.equal(d.gpus.length, 16);
    assert.equal(d.powerWatts, 16 * 700 + 2 * 2800);
    assert.equal(d.addedWatts, 16 * 500);
    assert.equal(d.headroom.length, 2);
    const [first, second] = d.headroom;
    assert.ok(first!.afterPercent >= second!.afterPercent);
    const floor = d.headroom.find((l) => l.id.startsWith("power:fpdu-a1"))!;
    assert.equal(floor.name, "floor PDU fpdu-a1 (row hall1/row1, side A)");
    assert.equal(floor.afterPercent, Math.round(((70_400 + 8_000) / 200_000) * 1000) / 10);
    assert.deepEqual(d.explanation.binding, first);
  });

  it("same-leaf keeps a job under one leaf switch, and rejects one no leaf can serve", () => {
    const engine = engineFor();
    const d = placed(engine.place({ id: "j", org: "acme", gpus: 32, shape: "same-leaf" }));
    assert.equal(new Set(d.nodes.map(rackOf)).size, 1);
    const r = refused(engine.place({ id: "k", org: "acme", gpus: 40, shape: "same-leaf" }), "rejected");
    assert.match(r.reason, /no leaf switch serves 40 of org acme's GPUs \(at most 32 under one\)/);
  });

  it("spread puts one node per rack in turn", () => {
    const d = placed(engineFor().place({ id: "j", org: "acme", gpus: 32, shape: "spread" }));
    assert.deepEqual(d.nodes.map(rackOf), ["r01", "r02", "r01", "r02"]);
  });

  it("any packs: a small job fills the partly used rack before an empty one", () => {
    const engine = engineFor();
    const a = placed(engine.place({ id: "a", org: "acme", gpus: 24 }));
    const b = placed(engine.place({ id: "b", org: "acme", gpus: 8 }));
    assert.equal(rackOf(b.nodes[0]!), rackOf(a.nodes[0]!));
  });

  it("prefers the rack with more power headroom when both are empty", () => {
    const engine = engineFor(lab, {
      overrides: Object.fromEntries(
        ["a1", "a2", "b1", "b2"].map((p) => [`power:r01-pdu-${p}`, { percent: 60 }]),
      ),
    });
    const d = placed(engine.place({ id: "j", org: "acme", gpus: 8 }));
    assert.equal(rackOf(d.nodes[0]!), "r02");
  });

  it("refuses with the power level in operator words when a budget is tight", () => {
    // Floor PDU at 80 kW: idle 70.4 kW leaves 9.6 kW, 19 max-p GPUs' worth.
    const engine = engineFor(lab, { overrides: { "power:fpdu-a1": { watts: 80_000 } } });
    const r = refused(engine.place({ id: "big", org: "acme", gpus: 32 }), "rejected");
    assert.equal(
      r.reason,
      "floor PDU fpdu-a1 (row hall1/row1, side A) would reach 108% of its budget, even with nothing else running",
    );
    assert.equal(r.level?.afterPercent, 108);
    assert.equal(r.level?.limitWatts, 80_000);
    placed(engine.place({ id: "one", org: "acme", gpus: 16 }));
    const q = refused(engine.place({ id: "two", org: "globex", gpus: 16 }), "queued");
    assert.equal(q.reason, "floor PDU fpdu-a1 (row hall1/row1, side A) would reach 108% of its budget");
    assert.equal(q.explanation.binding?.id, q.level?.id);
    engine.release("one");
    placed(engine.place({ id: "two", org: "globex", gpus: 16 }));
  });

  it("a lower profile fits where max-p does not", () => {
    // 77 kW: 16 GPUs add 8,000 W at max-p (78.4 kW, over) and 6,320 W at max-q (76.7 kW).
    const engine = engineFor(lab, { overrides: { "power:fpdu-a1": { watts: 77_000 } } });
    refused(engine.plan({ id: "p", org: "acme", gpus: 16 }), "rejected");
    const q = placed(engine.place({ id: "q", org: "acme", gpus: 16, profile: "max-q" }));
    assert.equal(q.explanation.caps["h100-sxm"]?.profile, "max-q-training");
    assert.equal(q.explanation.caps["h100-sxm"]?.capWatts, 595);
    assert.equal(q.addedWatts, 16 * 395);
  });

  it("plan holds nothing; commit and adopt hold given nodes; explain shows the levels", () => {
    const engine = engineFor();
    placed(engine.plan({ id: "p", org: "acme", gpus: 64 }));
    assert.equal(engine.holdings().length, 0);
    engine.adopt("seen", ["r01-dgx1"], { org: "acme", profile: "max-q" });
    refused(engine.plan({ id: "p", org: "acme", gpus: 64 }), "queued");
    const held = engine.commit({ id: "c", org: "acme", gpus: 8 }, ["r02-dgx1"]);
    assert.deepEqual(held.nodes, ["r02-dgx1"]);
    assert.equal(
      codeOf(() => engine.commit({ id: "d", org: "acme", gpus: 8 }, ["r02-dgx1"])),
      "conflict",
    );
    assert.equal(
      codeOf(() => engine.commit({ id: "e", org: "acme", gpus: 8 }, ["r03-dgx1"])),
      "conflict",
    );
    assert.equal(
      codeOf(() => engine.adopt("x", ["r01-dgx1"], { org: "acme" })),
      "conflict",
    );
    const why = engine.explain("seen");
    assert.equal(why.holding.addedWatts, 8 * 395);
    assert.deepEqual(why.levels.map((l) => l.name).sort(), [
      "floor PDU fpdu-a1 (row hall1/row1, side A)",
      "rack PDU r01-pdu-a1 (rack r01, side A)",
    ]);
    assert.equal(engine.levels().length, 5);
    assert.equal(engine.holdings().length, 2);
  });

  it("refuses bad requests with a typed error naming the field", () => {
    const engine = engineFor();
    const ok: PlacementRequest = { id: "j", org: "acme", gpus: 8 };
    const cases: [Partial<PlacementRequest> & Record<string, unknown>, string][] = [
      [{ org: "initech" }, "unknown-org"],
      [{ gpus: 0 }, "bad-request"],
      [{ gpus: -8 }, "bad-request"],
      [{ gpus: 1.5 }, "bad-request"],
      [{ shape: "ring" as never }, "bad-request"],
      [{ kind: "batch" as never }, "bad-request"],
      [{ profile: "turbo" }, "unknown-profile"],
      [{ durationSeconds: -1 }, "bad-request"],
      [{ reservation: "nope" }, "unknown-reservation"],
    ];
    for (const [change, code] of cases)
      assert.equal(
        codeOf(() => engine.place({ ...ok, ...change })),
        code,
        JSON.stringify(change),
      );
    try {
      engine.place({ ...ok, org: "initech" });
    } catch (err) {
      assert.equal((err as PlacementError).field, "org");
      assert.match(
        (err as Error).message,
        /org "initech" owns no racks in this factory \(orgs with racks: acme, globex\)/,
      );
    }
    placed(engine.place(ok));
    assert.equal(
      codeOf(() => engine.place(ok)),
      "conflict",
    );
  });

  it("refuses a profile whose cap is outside the factory's GPU range", () => {
    // Valid for a catalog whose H100 goes to 800 W; the lab's H100 stops at 700 W.
    const wide = defineProfile(
      { name: "overdrive", gpuType: "h100-sxm", capWatts: 750 },
      { "h100-sxm": { ...lab.catalog.gpus["h100-sxm"]!, maxWatts: 800 } },
    );
    const engine = createPlacementEngine({ build: lab, tree: deriveBudgets(lab), profiles: [wide] });
    assert.equal(
      codeOf(() => engine.place({ id: "j", org: "acme", gpus: 8, profile: "overdrive" })),
      "bad-profile",
    );
  });
});

describe("placement on NVL72 racks", () => {
  it("nvl-domain takes whole domains: one rack for 72 GPUs or fewer, two under one leaf for 100", () => {
    const engine = engineFor(nvl72);
    const one = placed(engine.place({ id: "one", org: "frontier", gpus: 72, shape: "nvl-domain" }));
    assert.equal(one.nodes.length, 18);
    assert.equal(new Set(one.nodes.map(rackOf)).size, 1);
    const two = placed(engine.place({ id: "two", org: "frontier", gpus: 100, shape: "nvl-domain" }));
    assert.equal(two.nodes.length, 36);
    assert.equal(new Set(two.nodes.map(rackOf)).size, 2);
    assert.ok(two.nodes.every((n) => n.startsWith("su2-")));
    const small = placed(engine.place({ id: "small", org: "frontier", gpus: 8, shape: "nvl-domain" }));
    assert.equal(small.gpus.length, 72);
    const none = refused(
      engine.place({ id: "none", org: "frontier", gpus: 8, shape: "nvl-domain" }),
      "queued",
    );
    assert.match(none.reason, /in whole free NVLink domains; at most 0 free in org frontier's racks/);
    const never = refused(
      engine.place({ id: "x", org: "serving", gpus: 200, shape: "nvl-domain" }),
      "rejected",
    );
    assert.match(never.reason, /org serving has 144 GPUs in its racks; the job needs 200/);
  });

  it("a power shelf limit refuses a whole NVL72 domain at max-p but not at max-q", () => {
    // A rack's shelves carry 132 kW side by side: a full rack at max-p (120.6 kW, 91.4%) does not
    // fit under a 90% admission line; at max-q (72 GPUs at 1,020 W: 107.6 kW) it does.
    const tree = deriveBudgets(nvl72);
    const engine = createPlacementEngine({ build: nvl72, tree, admitFraction: 0.9 });
    const r = refused(engine.place({ id: "p", org: "serving", gpus: 72, shape: "nvl-domain" }), "rejected");
    assert.match(
      r.reason,
      /^power shelf su3-r1-ps-a1 \(rack su3-r1, side A\) would reach 91% of its budget \(admission stops at 90%\)/,
    );
    placed(engine.place({ id: "q", org: "serving", gpus: 72, shape: "nvl-domain", profile: "max-q" }));
  });
});
