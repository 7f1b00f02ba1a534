import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffGraphs, type FactoryGraph, type GraphDiff, loadFactory } from "../src/index.ts";

/** Three DGX H100 racks on two floor PDUs per side; no fabric, so racks change nothing shared. */
const base = `apiVersion: flightdeck/v1
kind: Factory
metadata:
  name: diff
orgs:
  - name: acme
  - name: globex
power:
  - name: feed-a
    kind: feed
    side: A
    rating: { kw: 500 }
    children:
      - name: fpdu-a{1..2}
        kind: floorPdu
        rating: { kw: 250 }
  - name: feed-b
    kind: feed
    side: B
    rating: { kw: 500 }
    children:
      - name: fpdu-b{1..2}
        kind: floorPdu
        rating: { kw: 250 }
halls:
  - name: hall1
    rows:
      - name: row1
        racks:
          - name: r{01..02}
            type: dgx-h100-4
            org: acme
            power: { A: fpdu-a1, B: fpdu-b1 }
          - name: r03
            type: dgx-h100-4
            org: globex
            power: { A: fpdu-a1, B: fpdu-b1 }
`;

const r03Group = `          - name: r03
            type: dgx-h100-4
            org: globex
            power: { A: fpdu-a1, B: fpdu-b1 }
`;

function graphOf(text: string): FactoryGraph {
  const r = loadFactory(text);
  assert.ok(r.ok && r.build, r.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join("\n"));
  return r.build.graph;
}

/** Replaces `from` in the base text, failing when it is not there. */
function edit(from: string, to: string): string {
  assert.ok(base.includes(from), `not in the base text: ${from}`);
  return base.replace(from, to);
}

/** What one dgx-h100-4 rack holds: the rack, 4 PDUs, a management switch, 4 DGX with their parts. */
const oneRack = { rack: 1, power: 4, switch: 1, node: 4, gpu: 32, nic: 32, dpu: 8, nvlinkDomain: 4 };
const oneRackTotal = Object.values(oneRack).reduce((a, b) => a + b, 0);

function assertEmpty(d: GraphDiff): void {
  assert.deepEqual(d, {
    added: { total: 0, byKind: {}, ids: [] },
    removed: { total: 0, byKind: {}, ids: [] },
    changed: { total: 0, items: [] },
    truncated: false,
  });
}

describe("diffGraphs", () => {
  const before = graphOf(base);

  it("finds nothing between a graph and itself", () => {
    assertEmpty(diffGraphs(before, before));
  });

  it("finds nothing between two builds of the same text", () => {
    assertEmpty(diffGraphs(before, graphOf(base)));
  });

  it("finds nothing when only formatting and comments change", () => {
    const reformatted = edit(
      "            power: { A: fpdu-a1, B: fpdu-b1 }\n          - name: r03",
      "            power:\n              A: fpdu-a1   # side A\n              B: fpdu-b1\n          - name: r03",
    );
    assertEmpty(diffGraphs(before, graphOf(`# the same factory\n${reformatted}`)));
  });

  it("shows an added rack as added ids, counted by kind", () => {
    const after = graphOf(
      `${base}          - name: r04
            type: dgx-h100-4
            org: globex
            power: { A: fpdu-a2, B: fpdu-b2 }
`,
    );
    const d = diffGraphs(before, after);
    assert.deepEqual(d.added.byKind, oneRack);
    assert.equal(d.added.total, oneRackTotal);
    assert.equal(d.added.ids.length, oneRackTotal);
    assert.equal(d.added.ids[0], "rack:r04", "in document order: the rack first");
    for (const id of [
      "rack:r04",
      "power:r04-pdu-a1",
      "power:r04-pdu-b2",
      "switch:mgmt/r04",
      "node:r04-dgx1",
      "node:r04-dgx4",
      "gpu:r04-dgx4/7",
      "nic:r04-dgx2/0",
      "dpu:r04-dgx3/1",
      "nvlinkDomain:r04-dgx1",
    ])
      assert.ok(d.added.ids.includes(id), id);
    assert.ok(d.added.ids.every((id) => id.includes("r04")));
    assert.equal(d.removed.total, 0);
    assert.deepEqual(d.changed, { total: 0, items: [] }, "the floor PDUs' own wiring is unchanged");
    assert.equal(d.truncated, false);
  });

  it("shows a removed rack as removed ids", () => {
    const after = graphOf(edit(r03Group, ""));
    const d = diffGraphs(before, after);
    assert.deepEqual(d.removed.byKind, oneRack);
    assert.equal(d.removed.total, oneRackTotal);
    assert.ok(d.removed.ids.includes("rack:r03") && d.removed.ids.includes("gpu:r03-dgx4/7"));
    assert.ok(d.removed.ids.every((id) => id.includes("r03")));
    assert.equal(d.added.total, 0);
    assert.equal(d.changed.total, 0);
  });

  it("shows a renamed rack as one removed and one added", () => {
    const d = diffGraphs(before, graphOf(edit("- name: r03\n", "- name: r13\n")));
    assert.equal(d.removed.byKind.rack, 1);
    assert.equal(d.added.byKind.rack, 1);
    assert.ok(d.removed.ids.includes("rack:r03") && d.added.ids.includes("rack:r13"));
    assert.equal(d.changed.total, 0);
  });

  it("shows a rack given to another org as changed, with the org before and after", () => {
    const after = graphOf(edit(r03Group, r03Group.replace("org: globex", "org: acme")));
    const d = diffGraphs(before, after);
    assert.equal(d.added.total, 0);
    assert.equal(d.removed.total, 0);
    // The rack and everything in it change owner, and nothing else changes.
    assert.equal(d.changed.total, oneRackTotal);
    const rack = d.changed.items.find((c) => c.id === "rack:r03");
    assert.deepEqual(rack, { id: "rack:r03", changes: { org: ["globex", "acme"] } });
    for (const c of d.changed.items) {
      assert.ok(c.id.includes("r03"), c.id);
      assert.deepEqual(c.changes, { org: ["globex", "acme"] }, c.id);
    }
  });

  it("shows a rack moved to other floor PDUs as its rack PDUs rewired, with before and after", () => {
    const after = graphOf(
      edit(r03Group, r03Group.replace("{ A: fpdu-a1, B: fpdu-b1 }", "{ A: fpdu-a2, B: fpdu-b2 }")),
    );
    const d = diffGraphs(before, after);
    assert.equal(d.added.total, 0);
    assert.equal(d.removed.total, 0);
    const byId = Object.fromEntries(d.changed.items.map((c) => [c.id, c.changes]));
    assert.deepEqual(byId, {
      "power:r03-pdu-a1": { fedBy: ["power:fpdu-a1", "power:fpdu-a2"] },
      "power:r03-pdu-a2": { fedBy: ["power:fpdu-a1", "power:fpdu-a2"] },
      "power:r03-pdu-b1": { fedBy: ["power:fpdu-b1", "power:fpdu-b2"] },
      "power:r03-pdu-b2": { fedBy: ["power:fpdu-b1", "power:fpdu-b2"] },
    });
    assert.equal(d.changed.total, 4);
  });

  it("shows a re-rated device with its rating and limit before and after", () => {
    const after = graphOf(
      edit(
        "fpdu-b{1..2}\n        kind: floorPdu\n        rating: { kw: 250 }",
        "fpdu-b{1..2}\n        kind: floorPdu\n        rating: { kw: 300 }",
      ),
    );
    const d = diffGraphs(before, after);
    assert.deepEqual(
      d.changed.items.map((c) => [c.id, c.changes]),
      ["power:fpdu-b1", "power:fpdu-b2"].map((id) => [
        id,
        { ratingWatts: [250_000, 300_000], limitWatts: [200_000, 240_000] },
      ]),
    );
  });

  it("shows a rack moved to another row as changed parent", () => {
    const text = edit(r03Group, "").replace(
      "halls:\n  - name: hall1\n    rows:\n",
      `halls:\n  - name: hall1\n    rows:\n      - name: row2\n        racks:\n${r03Group}`,
    );
    const d = diffGraphs(before, graphOf(text));
    assert.equal(d.added.byKind.row, 1);
    assert.deepEqual(d.added.ids, ["row:hall1/row2"]);
    const rack = d.changed.items.find((c) => c.id === "rack:r03");
    assert.deepEqual(rack?.changes, { parent: ["row:hall1/row1", "row:hall1/row2"] });
  });

  it("against nothing, everything is added or removed", () => {
    const added = diffGraphs(undefined, before);
    assert.equal(added.added.total, before.size);
    assert.equal(added.removed.total, 0);
    const removed = diffGraphs(before, undefined);
    assert.equal(removed.removed.total, before.size);
    assert.equal(removed.added.total, 0);
    assertEmpty(diffGraphs(undefined, undefined));
  });

  it("cuts id lists at the limit and says so, but counts everything", () => {
    const d = diffGraphs(undefined, before, 10);
    assert.equal(d.added.ids.length, 10);
    assert.equal(d.added.total, before.size);
    assert.equal(d.truncated, true);
    assert.deepEqual(d.added.ids.slice(0, 2), ["site:diff", "power:feed-a"]);
  });
});
