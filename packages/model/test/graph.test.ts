import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type BuildResult,
  type Entity,
  type EntityKind,
  expandPattern,
  type FactoryDoc,
  type FactoryGraph,
  loadFactoryFile,
  substitute,
} from "../src/index.ts";

const examplesDir = fileURLToPath(new URL("../../../examples/factories/", import.meta.url));

function load(name: string): { doc: FactoryDoc; build: BuildResult; graph: FactoryGraph } {
  const r = loadFactoryFile(`${examplesDir}${name}.yaml`);
  assert.ok(r.ok && r.doc && r.build, `${name}.yaml should load`);
  return { doc: r.doc, build: r.build, graph: r.build.graph };
}

const lab = load("lab");
const gb200 = load("gb200-superpod");

/** The entity with this id; fails the test when there is none. */
function get(g: FactoryGraph, id: string): Entity {
  const e = g.get(id);
  assert.ok(e, `no entity ${id}`);
  return e;
}

const ids = (es: readonly Entity[]): string[] => es.map((e) => e.id);
const countBy = (es: readonly Entity[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const e of es) out[e.kind] = (out[e.kind] ?? 0) + 1;
  return out;
};

/**
 * Racks, nodes, GPUs… counted from the document and the catalog alone (no graph): what the
 * graph must contain.
 */
type DocCounts = Record<"hall" | "row" | "rack" | "node" | "gpu" | "nic" | "dpu" | "rackPower", number>;
function countFromDoc({ doc, build }: { doc: FactoryDoc; build: BuildResult }): DocCounts {
  const { catalog } = build;
  const c: DocCounts = { hall: 0, row: 0, rack: 0, node: 0, gpu: 0, nic: 0, dpu: 0, rackPower: 0 };
  for (const h of doc.halls) {
    for (const hall of expandPattern(h.name)) {
      c.hall++;
      for (const r of h.rows) {
        for (const row of expandPattern(substitute(r.name, { hall }))) {
          c.row++;
          for (const group of r.racks) {
            const racks = expandPattern(substitute(group.name, { hall, row })).length;
            const spec = catalog.racks[group.type]!;
            c.rack += racks;
            for (const p of spec.power) c.rackPower += racks * expandPattern(p.name).length;
            for (const slot of spec.nodes) {
              const nodes = racks * expandPattern(slot.name).length;
              const node = catalog.nodes[slot.type]!;
              c.node += nodes;
              c.gpu += nodes * node.gpus;
              c.nic += nodes * node.nics;
              c.dpu += nodes * node.dpus;
            }
          }
        }
      }
    }
  }
  return c;
}

function sitePowerDevices(doc: FactoryDoc): number {
  const walk = (ds: FactoryDoc["power"], parent: string): number =>
    ds.reduce((sum, d) => {
      const names = expandPattern(substitute(d.name, { parent }));
      return sum + names.reduce((s, n) => s + 1 + walk(d.children ?? [], n), 0);
    }, 0);
  return walk(doc.power, "");
}

describe("entity counts", () => {
  it("lab: 4 racks of 4 DGX H100, 128 GPUs", () => {
    const fromDoc = countFromDoc(lab);
    assert.deepEqual(
      { rack: fromDoc.rack, node: fromDoc.node, gpu: fromDoc.gpu },
      { rack: 4, node: 16, gpu: 128 },
    );
    assert.deepEqual(lab.build.summary.counts, {
      hall: fromDoc.hall,
      row: fromDoc.row,
      rack: fromDoc.rack,
      node: fromDoc.node,
      gpu: fromDoc.gpu,
      nic: fromDoc.nic,
      dpu: fromDoc.dpu,
      // 2 feeds, 2 switchboards, 2 floor PDUs, and 4 rack PDUs in each rack.
      power: 6 + fromDoc.rackPower,
      // One management switch a rack; ib: 128 NICs on 32-port leaves = 4 leaves, 4 × 32 uplinks
      // on 64-port spines = 2; ns: 2 DPU rails of 16 ports, one leaf each and no spine.
      switch: 4 + 4 + 2 + 2,
      // One NVLink domain per DGX (HGX baseboard).
      nvlinkDomain: fromDoc.node,
    });
    assert.equal(sitePowerDevices(lab.doc), 6);
    for (const [kind, n] of Object.entries(lab.build.summary.counts))
      assert.equal(lab.graph.countOf(kind as EntityKind), n, kind);
    assert.equal(lab.graph.countOf("site"), 1);
  });

  it("gb200: 16 NVL72 racks, 1,152 GPUs", () => {
    const fromDoc = countFromDoc(gb200);
    assert.deepEqual(
      { rack: fromDoc.rack, node: fromDoc.node, gpu: fromDoc.gpu },
      { rack: 16, node: 16 * 27, gpu: 16 * 72 },
    );
    // Rail-optimized fat trees over 2 SUs of 8 racks: 144 compute trays per SU, one port per
    // tray per rail on 32-port leaves = 5 leaves per rail per SU; 10 leaves × 32 uplinks per rail
    // on 64-port spines = 5 spines per rail.
    const ib = { leaves: 2 * 4 * 5, spines: 4 * 5 };
    const spectrum = { leaves: 2 * 2 * 5, spines: 2 * 5 };
    assert.deepEqual(gb200.build.summary.counts, {
      hall: 1,
      row: 2,
      rack: fromDoc.rack,
      node: fromDoc.node,
      gpu: fromDoc.gpu,
      nic: fromDoc.nic,
      dpu: fromDoc.dpu,
      power: sitePowerDevices(gb200.doc) + fromDoc.rackPower,
      switch: fromDoc.rack + ib.leaves + ib.spines + spectrum.leaves + spectrum.spines,
      nvlinkDomain: fromDoc.rack,
    });
    assert.equal(sitePowerDevices(gb200.doc), 2 * (1 + 1 + 2));
    assert.deepEqual(gb200.build.summary.fabrics, {
      ib: { ...ib, cores: 0, endpoints: fromDoc.nic },
      "spectrum-x": { ...spectrum, cores: 0, endpoints: fromDoc.dpu },
    });
    assert.deepEqual(gb200.build.summary.gpusByType, { gb200: 1152 });
    assert.deepEqual(gb200.build.summary.orgs, {
      frontier: { racks: 14, gpus: 14 * 72 },
      serving: { racks: 2, gpus: 2 * 72 },
    });
  });

  for (const [name, f] of [
    ["lab", lab],
    ["gb200", gb200],
  ] as const) {
    it(`${name}: every entity is found by its id, and ids are unique`, () => {
      const seen = new Set<string>();
      for (const e of f.graph.entities) {
        assert.equal(f.graph.get(e.id), e, e.id);
        assert.ok(!seen.has(e.id), `duplicate id ${e.id}`);
        seen.add(e.id);
        assert.equal(e.id, `${e.kind}:${e.name}`);
        assert.equal(f.graph.at(e.index), e);
      }
      assert.equal(seen.size, f.graph.size);
    });
  }
});

describe("get", () => {
  const cases: Array<{ id: string; kind?: EntityKind; check?: (e: Entity, g: FactoryGraph) => void }> = [
    { id: "site:lab", kind: "site" },
    { id: "hall:hall1", kind: "hall" },
    { id: "row:hall1/row1", kind: "row" },
    { id: "rack:r01", kind: "rack", check: (e) => assert.deepEqual([e.type, e.org], ["dgx-h100-4", "acme"]) },
    { id: "node:r04-dgx4", kind: "node", check: (e) => assert.equal(e.type, "dgx-h100") },
    {
      id: "gpu:r01-dgx1/3",
      kind: "gpu",
      check: (e, g) => {
        assert.deepEqual([e.type, e.ordinal, e.org], ["h100-sxm", 3, "acme"]);
        assert.equal(g.at(e.parent).id, "node:r01-dgx1");
      },
    },
    { id: "gpu:r03-dgx2/0", kind: "gpu", check: (e) => assert.equal(e.org, "globex") },
    { id: "gpu:r04-dgx4/7", kind: "gpu", check: (e) => assert.equal(e.ordinal, 7) },
    { id: "nic:r02-dgx3/7", kind: "nic", check: (e, g) => assert.equal(g.at(e.parent).id, "node:r02-dgx3") },
    { id: "dpu:r02-dgx3/1", kind: "dpu", check: (e) => assert.equal(e.ordinal, 1) },
    {
      id: "power:fpdu-a1",
      kind: "power",
      check: (e) => {
        assert.deepEqual([e.type, e.side, e.ratingWatts, e.limitWatts], ["floorPdu", "A", 250_000, 200_000]);
      },
    },
    {
      id: "power:r01-pdu-b2",
      kind: "power",
      check: (e, g) => {
        const rating = 415 * 60 * Math.sqrt(3);
        assert.deepEqual([e.type, e.side, e.org, g.at(e.parent).id], ["rackPdu", "B", "acme", "rack:r01"]);
        assert.ok(Math.abs(e.ratingWatts! - rating) < 1e-6 && Math.abs(e.limitWatts! - rating * 0.8) < 1e-6);
      },
    },
    {
      id: "switch:ib/spine1",
      kind: "switch",
      check: (e) => assert.deepEqual([e.type, e.fabric, e.tier, e.org], ["qm9700", "ib", "spine", null]),
    },
    {
      id: "switch:mgmt/r02",
      kind: "switch",
      check: (e) =>
        assert.deepEqual([e.type, e.fabric, e.tier, e.org], ["sn2201", "management", "management", "acme"]),
    },
    { id: "nvlinkDomain:r01-dgx1", kind: "nvlinkDomain", check: (e) => assert.equal(e.type, "node") },
    // Unknown ids.
    { id: "gpu:r01-dgx1/8" },
    { id: "dpu:r01-dgx1/2" },
    { id: "nic:r01-dgx1/-1" },
    { id: "gpu:r01-dgx1/x" },
    { id: "gpu:r01-dgx1/" },
    { id: "gpu:r01-dgx1" },
    { id: "gpu:r09-dgx1/0" },
    { id: "gpu:/0" },
    { id: "node:r01-dgx1/0" },
    { id: "node:r01-dgx5" },
    { id: "rack:r05" },
    { id: "rack:R01" },
    { id: "r01" },
    { id: "rack:" },
    { id: "" },
    { id: "switch:ib/spine3" },
    { id: "power:util-c" },
    { id: "toString" },
    { id: "__proto__" },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.id)} → ${c.kind ?? "undefined"}`, () => {
      const e = lab.graph.get(c.id);
      if (!c.kind) return assert.equal(e, undefined);
      assert.ok(e);
      assert.equal(e.id, c.id);
      assert.equal(e.kind, c.kind);
      c.check?.(e, lab.graph);
    });
  }

  it("finds GPUs, NICs and DPUs of a GB200 tray", () => {
    for (const kind of ["gpu", "nic"] as const)
      for (let k = 0; k < 4; k++) assert.equal(get(gb200.graph, `${kind}:su2-r8-ct18/${k}`).ordinal, k);
    assert.equal(gb200.graph.get("gpu:su2-r8-ct18/4"), undefined);
    assert.ok(gb200.graph.get("dpu:su1-r1-ct01/1"));
    assert.equal(gb200.graph.get("dpu:su1-r1-ct01/2"), undefined);
    assert.equal(gb200.graph.get("gpu:su1-r1-nvs1/0"), undefined, "switch trays have no GPUs");
  });

  it("does not answer for a non-canonical part id", () => {
    assert.equal(lab.graph.get("gpu:r01-dgx1/03"), undefined);
  });
});

describe("power paths", () => {
  it("lab: a GPU draws through its node, the rack PDUs, floor PDU, switchboard and feed of each side", () => {
    const g = lab.graph;
    const paths = g.powerPaths(get(g, "gpu:r03-dgx2/5").index);
    const expected = (pdu: string, side: "a" | "b"): string[] => [
      "gpu:r03-dgx2/5",
      "node:r03-dgx2",
      `power:r03-pdu-${pdu}`,
      `power:fpdu-${side}1`,
      `power:swbd-${side}`,
      `power:util-${side}`,
    ];
    assert.deepEqual(paths.map(ids), [
      expected("a1", "a"),
      expected("a2", "a"),
      expected("b1", "b"),
      expected("b2", "b"),
    ]);
    for (const p of paths) {
      assert.deepEqual(
        p.map((e) => e.type),
        ["h100-sxm", "dgx-h100", "rackPdu", "floorPdu", "switchboard", "feed"],
      );
      const sides = new Set(p.slice(2).map((e) => e.side));
      assert.equal(sides.size, 1, "a path stays on one side");
    }
    assert.deepEqual(new Set(paths.map((p) => p.at(-1)!.side)), new Set(["A", "B"]));
  });

  it("gb200: a GPU draws through its tray, four power shelves and a busway on each side", () => {
    const g = gb200.graph;
    const cases = [
      { gpu: "gpu:su1-r3-ct07/1", rack: "su1-r3", busway: "bw1" },
      { gpu: "gpu:su2-r8-ct18/3", rack: "su2-r8", busway: "bw2" },
    ];
    for (const c of cases) {
      const paths = g.powerPaths(get(g, c.gpu).index).map(ids);
      const node = `node:${c.gpu.slice(4, c.gpu.indexOf("/"))}`;
      const expected = ["a", "b"].flatMap((side) =>
        [1, 2, 3, 4].map((k) => [
          c.gpu,
          node,
          `power:${c.rack}-ps-${side}${k}`,
          `power:feed-${side}-swbd-${c.busway}`,
          `power:feed-${side}-swbd`,
          `power:feed-${side}`,
        ]),
      );
      assert.deepEqual(paths, expected);
    }
    // Power shelves are rated to 100% of their 33 kW.
    const shelf = get(g, "power:su1-r3-ps-b4");
    assert.deepEqual([shelf.type, shelf.ratingWatts, shelf.limitWatts], ["powerShelf", 33_000, 33_000]);
  });

  it("starts from a node, a rack or a power device; other kinds have none", () => {
    const g = lab.graph;
    const node = g.powerPaths(get(g, "node:r01-dgx1").index).map(ids);
    assert.equal(node.length, 4);
    for (const p of node) assert.equal(p[0], "node:r01-dgx1");
    assert.deepEqual(
      g.powerPaths(get(g, "rack:r02").index).map((p) => [p[0]!.id, p.at(-1)!.id]),
      [
        ["power:r02-pdu-a1", "power:util-a"],
        ["power:r02-pdu-a2", "power:util-a"],
        ["power:r02-pdu-b1", "power:util-b"],
        ["power:r02-pdu-b2", "power:util-b"],
      ],
    );
    assert.deepEqual(g.powerPaths(get(g, "power:fpdu-b1").index).map(ids), [
      ["power:fpdu-b1", "power:swbd-b", "power:util-b"],
    ]);
    assert.deepEqual(g.powerPaths(get(g, "power:util-a").index).map(ids), [["power:util-a"]]);
    const nic = g.powerPaths(get(g, "nic:r01-dgx1/0").index);
    assert.equal(nic.length, 4);
    assert.equal(nic[0]![0]!.id, "nic:r01-dgx1/0");
    for (const id of [
      "row:hall1/row1",
      "hall:hall1",
      "switch:ib/spine1",
      "nvlinkDomain:r01-dgx1",
      "site:lab",
    ])
      assert.deepEqual(g.powerPaths(get(g, id).index), [], id);
  });
});

describe("ancestors and enclosing", () => {
  it("a GPU sits in its node, rack, row, hall and site", () => {
    const g = lab.graph;
    const gpu = get(g, "gpu:r02-dgx4/6");
    assert.deepEqual(ids(g.ancestors(gpu.index)), [
      "node:r02-dgx4",
      "rack:r02",
      "row:hall1/row1",
      "hall:hall1",
      "site:lab",
    ]);
    assert.equal(g.enclosing(gpu.index, "rack")?.id, "rack:r02");
    assert.equal(g.enclosing(gpu.index, "hall")?.id, "hall:hall1");
    assert.equal(g.enclosing(gpu.index, "gpu"), gpu);
    assert.equal(g.enclosing(gpu.index, "power"), undefined);
    assert.deepEqual(ids(g.ancestors(get(g, "site:lab").index)), []);
  });

  it("site power devices sit at the site; rack power devices in their rack", () => {
    const g = gb200.graph;
    assert.deepEqual(ids(g.ancestors(get(g, "power:feed-a-swbd-bw2").index)), ["site:gb200-superpod"]);
    assert.equal(g.enclosing(get(g, "power:feed-a-swbd-bw2").index, "rack"), undefined);
    assert.equal(g.enclosing(get(g, "power:su2-r1-ps-a1").index, "rack")?.id, "rack:su2-r1");
    assert.equal(g.enclosing(get(g, "switch:ib/su1-rail0-leaf1").index, "site")?.id, "site:gb200-superpod");
  });
});

describe("descendants", () => {
  /** GPUs of a rack of this type, from the catalog. */
  const gpusPerRack = (f: typeof lab, type: string): number =>
    f.build.catalog.racks[type]!.nodes.reduce(
      (sum, slot) => sum + expandPattern(slot.name).length * f.build.catalog.nodes[slot.type]!.gpus,
      0,
    );
  const labRackGpus = gpusPerRack(lab, "dgx-h100-4");
  const nvl72Gpus = gpusPerRack(gb200, "gb200-nvl72");

  it("GPUs per rack from the catalog", () => {
    assert.equal(labRackGpus, 4 * 8);
    assert.equal(nvl72Gpus, 18 * 4);
  });

  const cases: Array<{
    name: string;
    f: typeof lab;
    id: string;
    kind: EntityKind;
    count: number;
    check?: (es: Entity[]) => void;
  }> = [
    // Power: a feed or floor PDU of the lab feeds all four racks on its side.
    { name: "lab feed A → GPUs", f: lab, id: "power:util-a", kind: "gpu", count: 4 * labRackGpus },
    { name: "lab feed A → nodes", f: lab, id: "power:util-a", kind: "node", count: 16 },
    {
      name: "lab feed A → power devices",
      f: lab,
      id: "power:util-a",
      kind: "power",
      count: 1 + 1 + 4 * 2,
      check: (es) => assert.ok(es.every((e) => e.side === "A")),
    },
    { name: "lab floor PDU B → GPUs", f: lab, id: "power:fpdu-b1", kind: "gpu", count: 4 * labRackGpus },
    {
      name: "lab floor PDU → no racks (power does not feed containers)",
      f: lab,
      id: "power:fpdu-a1",
      kind: "rack",
      count: 0,
    },
    {
      name: "lab rack PDU → the rack's GPUs",
      f: lab,
      id: "power:r02-pdu-a1",
      kind: "gpu",
      count: labRackGpus,
    },
    // Containment.
    { name: "lab rack → GPUs", f: lab, id: "rack:r03", kind: "gpu", count: labRackGpus },
    { name: "lab rack → nodes", f: lab, id: "rack:r03", kind: "node", count: 4 },
    { name: "lab rack → NVLink domains", f: lab, id: "rack:r03", kind: "nvlinkDomain", count: 4 },
    {
      name: "lab rack → its 4 rack PDUs",
      f: lab,
      id: "rack:r03",
      kind: "power",
      count: 4,
      check: (es) => assert.ok(es.every((e) => e.name.startsWith("r03-"))),
    },
    { name: "lab row → racks", f: lab, id: "row:hall1/row1", kind: "rack", count: 4 },
    { name: "lab row → GPUs", f: lab, id: "row:hall1/row1", kind: "gpu", count: 4 * labRackGpus },
    { name: "lab node → its GPUs", f: lab, id: "node:r01-dgx1", kind: "gpu", count: 8 },
    { name: "lab GPU → nothing", f: lab, id: "gpu:r01-dgx1/0", kind: "gpu", count: 0 },
    // Fabric: a leaf brings its NICs, their nodes and each NIC's paired GPU only.
    {
      name: "lab ib leaf 1 → the 32 NICs of rack r01",
      f: lab,
      id: "switch:ib/su1-leaf1",
      kind: "nic",
      count: 32,
      check: (es) => assert.ok(es.every((e) => e.name.startsWith("r01-"))),
    },
    { name: "lab ib leaf 1 → 4 nodes", f: lab, id: "switch:ib/su1-leaf1", kind: "node", count: 4 },
    { name: "lab ib leaf 1 → 32 GPUs", f: lab, id: "switch:ib/su1-leaf1", kind: "gpu", count: 32 },
    { name: "lab ib spine → 4 leaves", f: lab, id: "switch:ib/spine1", kind: "switch", count: 4 },
    { name: "lab ib spine → all GPUs", f: lab, id: "switch:ib/spine1", kind: "gpu", count: 128 },
    {
      name: "lab north-south rail-0 leaf → DPU 0 of every node",
      f: lab,
      id: "switch:ns/su1-rail0-leaf1",
      kind: "dpu",
      count: 16,
      check: (es) => assert.ok(es.every((e) => e.ordinal === 0)),
    },
    {
      name: "lab north-south leaf → no GPUs (DPUs pair with none)",
      f: lab,
      id: "switch:ns/su1-rail1-leaf1",
      kind: "gpu",
      count: 0,
    },
    {
      name: "lab management switch → its rack's nodes",
      f: lab,
      id: "switch:mgmt/r04",
      kind: "node",
      count: 4,
    },
    // gb200.
    { name: "gb200 feed A → all GPUs", f: gb200, id: "power:feed-a", kind: "gpu", count: 16 * nvl72Gpus },
    {
      name: "gb200 busway B1 → the 8 racks of SU 1",
      f: gb200,
      id: "power:feed-b-swbd-bw1",
      kind: "gpu",
      count: 8 * nvl72Gpus,
    },
    {
      name: "gb200 busway A2 → trays of SU 2",
      f: gb200,
      id: "power:feed-a-swbd-bw2",
      kind: "node",
      count: 8 * 27,
    },
    {
      name: "gb200 power shelf → its rack's trays",
      f: gb200,
      id: "power:su2-r7-ps-a3",
      kind: "node",
      count: 27,
    },
    { name: "gb200 rack → GPUs", f: gb200, id: "rack:su2-r7", kind: "gpu", count: nvl72Gpus },
    { name: "gb200 rack → trays", f: gb200, id: "rack:su2-r7", kind: "node", count: 27 },
    { name: "gb200 rack → one NVLink domain", f: gb200, id: "rack:su2-r7", kind: "nvlinkDomain", count: 1 },
    { name: "gb200 row 2 → racks", f: gb200, id: "row:hall1/row2", kind: "rack", count: 8 },
    { name: "gb200 row 2 → GPUs", f: gb200, id: "row:hall1/row2", kind: "gpu", count: 8 * nvl72Gpus },
    { name: "gb200 hall → GPUs", f: gb200, id: "hall:hall1", kind: "gpu", count: 16 * nvl72Gpus },
    {
      // Rail 2 of SU 1: 144 trays in rack order, 32 to a leaf: leaf 1 has r1's 18 and r2's first 14.
      name: "gb200 rail-2 leaf 1 → GPU 2 of 32 trays",
      f: gb200,
      id: "switch:ib/su1-rail2-leaf1",
      kind: "gpu",
      count: 32,
      check: (es) => {
        assert.ok(es.every((e) => e.ordinal === 2));
        assert.equal(es.filter((e) => e.name.startsWith("su1-r1-")).length, 18);
        assert.equal(es.filter((e) => e.name.startsWith("su1-r2-")).length, 14);
      },
    },
    {
      name: "gb200 last rail-0 leaf of SU 2 → the 16 trays left",
      f: gb200,
      id: "switch:ib/su2-rail0-leaf5",
      kind: "node",
      count: 144 - 4 * 32,
    },
    {
      name: "gb200 rail-2 spine → GPU 2 of every tray",
      f: gb200,
      id: "switch:ib/rail2-spine1",
      kind: "gpu",
      count: 16 * 18,
      check: (es) => assert.ok(es.every((e) => e.ordinal === 2)),
    },
    {
      name: "gb200 rail-2 spine → the rail's 10 leaves",
      f: gb200,
      id: "switch:ib/rail2-spine1",
      kind: "switch",
      count: 2 * 5,
      check: (es) => assert.ok(es.every((e) => e.tier === "leaf" && e.name.includes("-rail2-"))),
    },
    {
      name: "gb200 Spectrum-X spine → DPU 1 of every tray",
      f: gb200,
      id: "switch:spectrum-x/rail1-spine3",
      kind: "dpu",
      count: 16 * 18,
    },
    {
      name: "gb200 NVLink domain → its 72 GPUs",
      f: gb200,
      id: "nvlinkDomain:su1-r4",
      kind: "gpu",
      count: 72,
      check: (es) => assert.ok(es.every((e) => e.name.startsWith("su1-r4-ct"))),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.count}`, () => {
      const start = get(c.f.graph, c.id);
      const es = c.f.graph.descendants(start.index, c.kind);
      assert.equal(es.length, c.count);
      assert.ok(es.every((e) => e.kind === c.kind));
      assert.equal(new Set(es).size, es.length, "no entity twice");
      assert.ok(!es.includes(start), "not itself");
      c.check?.(es);
    });
  }

  it("without a kind, returns every kind reached", () => {
    const g = lab.graph;
    assert.deepEqual(countBy(g.descendants(get(g, "rack:r01").index)), {
      power: 4,
      node: 4,
      switch: 1,
      gpu: 32,
      nic: 32,
      dpu: 8,
      nvlinkDomain: 4,
    });
    assert.deepEqual(countBy(g.descendants(get(g, "switch:ib/su1-leaf4").index)), {
      nic: 32,
      node: 4,
      gpu: 32,
    });
  });
});

describe("NVLink domains", () => {
  it("gb200: each NVL72 rack is one domain of 72 GPUs and 9 switch trays", () => {
    const g = gb200.graph;
    const domains = g.ofKind("nvlinkDomain");
    assert.equal(domains.length, 16);
    for (const d of domains) {
      assert.equal(d.type, "rack");
      const members = g.domainMembers(d.index);
      assert.deepEqual(countBy(members), { gpu: 72, node: 9 });
      const rack = g.enclosing(d.index, "rack")!;
      assert.equal(d.name, rack.name);
      for (const m of members) {
        assert.equal(g.enclosing(m.index, "rack"), rack);
        if (m.kind === "node") assert.equal(m.type, "nvlink-switch-tray");
        assert.equal(g.domainOf(m.index), d);
      }
    }
    // A compute tray's domain is that of its GPUs.
    assert.equal(g.domainOf(get(g, "node:su2-r5-ct11").index)?.id, "nvlinkDomain:su2-r5");
    assert.equal(g.domainOf(get(g, "rack:su2-r5").index), undefined);
  });

  it("lab: each DGX is its own domain of 8 GPUs", () => {
    const g = lab.graph;
    for (const node of g.ofKind("node")) {
      const d = g.domainOf(node.index);
      assert.ok(d);
      assert.deepEqual([d.id, d.type], [`nvlinkDomain:${node.name}`, "node"]);
      const members = g.domainMembers(d.index);
      assert.equal(members.length, 8);
      assert.ok(members.every((m) => m.kind === "gpu" && m.parent === node.index));
      assert.deepEqual(
        members.map((m) => m.ordinal),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
    }
    assert.equal(g.domainOf(get(g, "gpu:r04-dgx2/7").index)?.id, "nvlinkDomain:r04-dgx2");
    assert.equal(g.domainOf(get(g, "nic:r04-dgx2/7").index), undefined);
  });

  it("every GPU is in exactly one domain", () => {
    for (const f of [lab, gb200]) {
      let members = 0;
      for (const d of f.graph.ofKind("nvlinkDomain"))
        members += f.graph.domainMembers(d.index).filter((m) => m.kind === "gpu").length;
      assert.equal(members, f.graph.countOf("gpu"));
      for (const gpu of f.graph.ofKind("gpu")) assert.ok(f.graph.domainOf(gpu.index));
    }
  });
});

describe("orgs", () => {
  const cases: Array<{ f: typeof lab; id: string; org: string | null; served: string[] }> = [
    { f: lab, id: "rack:r01", org: "acme", served: ["acme"] },
    { f: lab, id: "gpu:r02-dgx4/7", org: "acme", served: ["acme"] },
    { f: lab, id: "nic:r03-dgx1/0", org: "globex", served: ["globex"] },
    { f: lab, id: "power:r04-pdu-b2", org: "globex", served: ["globex"] },
    { f: lab, id: "switch:mgmt/r03", org: "globex", served: ["globex"] },
    { f: lab, id: "nvlinkDomain:r03-dgx1", org: "globex", served: ["globex"] },
    // Shared infrastructure: no owner, serves whoever is behind it.
    { f: lab, id: "power:util-a", org: null, served: ["acme", "globex"] },
    { f: lab, id: "power:fpdu-b1", org: null, served: ["acme", "globex"] },
    { f: lab, id: "switch:ib/su1-leaf1", org: null, served: ["acme"] },
    { f: lab, id: "switch:ib/su1-leaf2", org: null, served: ["acme"] },
    { f: lab, id: "switch:ib/su1-leaf3", org: null, served: ["globex"] },
    { f: lab, id: "switch:ib/spine2", org: null, served: ["acme", "globex"] },
    { f: lab, id: "switch:ns/su1-rail0-leaf1", org: null, served: ["acme", "globex"] },
    { f: lab, id: "row:hall1/row1", org: null, served: ["acme", "globex"] },
    { f: gb200, id: "gpu:su2-r7-ct01/0", org: "serving", served: ["serving"] },
    { f: gb200, id: "gpu:su2-r6-ct18/3", org: "frontier", served: ["frontier"] },
    { f: gb200, id: "power:feed-a", org: null, served: ["frontier", "serving"] },
    { f: gb200, id: "power:feed-b-swbd", org: null, served: ["frontier", "serving"] },
    { f: gb200, id: "power:feed-a-swbd-bw1", org: null, served: ["frontier"] },
    { f: gb200, id: "power:feed-b-swbd-bw2", org: null, served: ["frontier", "serving"] },
    { f: gb200, id: "switch:ib/su1-rail3-leaf5", org: null, served: ["frontier"] },
    // SU 2 rail 0: trays 96–127 (leaf 4) span r6–r8, trays 128–143 (leaf 5) are all in r8.
    { f: gb200, id: "switch:ib/su2-rail0-leaf4", org: null, served: ["frontier", "serving"] },
    { f: gb200, id: "switch:ib/su2-rail0-leaf5", org: null, served: ["serving"] },
    { f: gb200, id: "switch:ib/su2-rail0-leaf3", org: null, served: ["frontier"] },
    { f: gb200, id: "switch:ib/rail0-spine1", org: null, served: ["frontier", "serving"] },
    { f: gb200, id: "row:hall1/row1", org: null, served: ["frontier"] },
    { f: gb200, id: "hall:hall1", org: null, served: ["frontier", "serving"] },
  ];
  for (const c of cases) {
    it(`${c.id}: owned by ${c.org ?? "none"}, serves ${c.served.join(", ")}`, () => {
      const e = get(c.f.graph, c.id);
      assert.equal(c.f.graph.orgOf(e.index), c.org);
      assert.deepEqual([...c.f.graph.orgsServedBy(e.index)], c.served);
    });
  }

  it("everything in a rack has the rack's org", () => {
    for (const f of [lab, gb200]) {
      for (const rack of f.graph.ofKind("rack")) {
        assert.ok(rack.org);
        for (const e of f.graph.descendants(rack.index)) assert.equal(e.org, rack.org, e.id);
      }
    }
  });

  it("a shared floor PDU serving two orgs serves exactly the orgs of the racks it feeds", () => {
    const g = gb200.graph;
    const bw = get(g, "power:feed-a-swbd-bw2");
    const owners = new Set(g.descendants(bw.index, "node").map((n) => n.org));
    assert.deepEqual([...g.orgsServedBy(bw.index)], [...owners].sort());
  });
});

describe("leaf switches", () => {
  it("gb200: GPU k of a tray pairs with NIC k, which goes to a rail-k leaf of its SU", () => {
    const g = gb200.graph;
    // Position of a tray among the SU's compute trays (8 racks × 18), 32 per leaf.
    const cases: Array<{ rack: string; tray: number }> = [
      { rack: "su1-r1", tray: 1 },
      { rack: "su1-r2", tray: 14 },
      { rack: "su1-r2", tray: 15 },
      { rack: "su2-r3", tray: 5 },
      { rack: "su2-r8", tray: 18 },
    ];
    for (const c of cases) {
      const [, su, r] = /^su(\d)-r(\d)$/.exec(c.rack)!;
      const position = (Number(r) - 1) * 18 + (c.tray - 1);
      const leaf = Math.floor(position / 32) + 1;
      const node = `${c.rack}-ct${String(c.tray).padStart(2, "0")}`;
      for (let k = 0; k < 4; k++) {
        const gpu = get(g, `gpu:${node}/${k}`);
        const leaves = g.leafSwitches(gpu.index);
        assert.deepEqual(ids(leaves), [`switch:ib/su${su}-rail${k}-leaf${leaf}`], `${node} GPU ${k}`);
        assert.equal(leaves[0]!.tier, "leaf");
        // The same leaf as the NIC with the GPU's ordinal.
        assert.deepEqual(ids(g.leafSwitches(get(g, `nic:${node}/${k}`).index)), ids(leaves));
      }
      // A tray reaches one leaf per rail.
      assert.deepEqual(
        ids(g.leafSwitches(get(g, `node:${node}`).index)).sort(),
        [0, 1, 2, 3].map((k) => `switch:ib/su${su}-rail${k}-leaf${leaf}`),
      );
    }
  });

  it("gb200: a DPU goes to its north-south rail; switch trays have no leaves", () => {
    const g = gb200.graph;
    assert.deepEqual(ids(g.leafSwitches(get(g, "dpu:su1-r1-ct01/1").index)), [
      "switch:spectrum-x/su1-rail1-leaf1",
    ]);
    assert.deepEqual(g.leafSwitches(get(g, "node:su1-r1-nvs1").index), []);
    assert.deepEqual(g.leafSwitches(get(g, "rack:su1-r1").index), []);
  });

  it("lab: without rails, the 8 NICs of a DGX share its rack's leaf", () => {
    const g = lab.graph;
    for (const [rack, leaf] of [
      ["r01", 1],
      ["r02", 2],
      ["r03", 3],
      ["r04", 4],
    ] as const) {
      for (let k = 0; k < 8; k++)
        assert.deepEqual(ids(g.leafSwitches(get(g, `gpu:${rack}-dgx3/${k}`).index)), [
          `switch:ib/su1-leaf${leaf}`,
        ]);
      assert.deepEqual(ids(g.leafSwitches(get(g, `node:${rack}-dgx3`).index)), [`switch:ib/su1-leaf${leaf}`]);
    }
  });

  it("every compute GPU hangs off exactly one scale-out leaf", () => {
    for (const f of [lab, gb200]) {
      for (const gpu of f.graph.ofKind("gpu")) {
        const leaves = f.graph.leafSwitches(gpu.index);
        assert.equal(leaves.length, 1, gpu.id);
        assert.equal(leaves[0]!.fabric, "ib");
      }
    }
  });

  it("no leaf has more endpoints than half its ports", () => {
    for (const f of [lab, gb200]) {
      for (const sw of f.graph.ofKind("switch")) {
        if (sw.tier !== "leaf") continue;
        const ports = f.build.catalog.switches[sw.type!]!.ports;
        const endpoints = f.graph.descendants(sw.index).filter((e) => e.kind === "nic" || e.kind === "dpu");
        assert.ok(endpoints.length > 0 && endpoints.length <= ports / 2, `${sw.id}: ${endpoints.length}`);
      }
    }
  });
});
