import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { escapeLabelValue } from "../src/exporters/dcgm.ts";
import { createDcgmExporter, createState, DRIVER_VERSION, gpuUuid, tick } from "../src/index.ts";
import { example, sharedData } from "./factories.ts";
import { parseCountersCsv, parsePromText } from "./prom-text.ts";

const lab = example("lab");
const csv = parseCountersCsv(
  readFileSync(sharedData("fixtures/dcgm/dcgm-exporter-default-counters.csv"), "utf8"),
);
const t4 = readFileSync(sharedData("fixtures/dcgm/datadog-dcgm-exporter-T4-mixed.prom"), "utf8");
const state = createState(lab.graph, lab.catalog, { seed: 2 });
for (let t = 0; t < 30; t++) tick(state, 1);
const node = state.topo.nodeSlotByName.get("r01-dgx1")!;
const page = createDcgmExporter(state).render(node).toString("utf8");
const families = parsePromText(page);
const LABELS = ["gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION"];

describe("dcgm-exporter page", () => {
  it("is strict Prometheus text: HELP/TYPE before samples, contiguous families, no duplicate series", () => {
    assert.ok(families.size > 20);
    for (const f of families.values()) {
      assert.ok(f.help !== undefined && f.type !== undefined, f.name);
      assert.equal(f.samples.length, 8, f.name);
    }
  });

  it("uses dcgm-exporter's names, HELP and TYPE for every family, as default-counters.csv has them", () => {
    for (const f of families.values()) {
      const def = csv.get(f.name);
      assert.ok(def, `${f.name} is not a dcgm-exporter field`);
      assert.equal(f.help, def.help, f.name);
      assert.equal(f.type, def.type, f.name);
    }
  });

  it("emits every field the default counters enable; the default set emits exactly those", () => {
    const enabled = [...csv].filter(([, d]) => d.enabled && d.type !== "label").map(([name]) => name);
    for (const name of enabled) assert.ok(families.has(name), name);
    const defaultPage = parsePromText(
      createDcgmExporter(state, { fieldSet: "default" }).render(node).toString("utf8"),
    );
    assert.deepEqual([...defaultPage.keys()].sort(), enabled.sort());
  });

  it("matches the HELP/TYPE of the captured T4 page where the capture has them and the CSV agrees", () => {
    const help = new Map([...t4.matchAll(/^# HELP (\S+) (.+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const type = new Map([...t4.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    let compared = 0;
    for (const [name, text] of help) {
      const ours = families.get(name);
      if (!ours || text !== csv.get(name)?.help) continue;
      assert.equal(ours.help, text, name);
      assert.equal(ours.type, type.get(name), name);
      compared++;
    }
    assert.ok(compared >= 12, `compared ${compared}`);
  });

  it("labels every sample like dcgm-exporter: names and order, ids of the DGX H100 capture", () => {
    const smClock = families.get("DCGM_FI_DEV_SM_CLOCK")!;
    const busIds = ["19", "3B", "4C", "5D", "9B", "BB", "CB", "DB"].map((b) => `00000000:${b}:00.0`);
    smClock.samples.forEach((s, i) => {
      assert.deepEqual(
        s.labels.map(([k]) => k),
        LABELS,
      );
      const l = Object.fromEntries(s.labels);
      assert.equal(l.gpu, String(i));
      assert.equal(l.device, `nvidia${i}`);
      assert.equal(l.pci_bus_id, busIds[i]);
      assert.equal(l.modelName, "NVIDIA H100 80GB HBM3");
      assert.equal(l.Hostname, "r01-dgx1");
      assert.equal(l.DCGM_FI_DRIVER_VERSION, DRIVER_VERSION);
      assert.match(l.UUID!, /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(l.UUID, gpuUuid("lab", `gpu:r01-dgx1/${i}`));
    });
    // The labels the T4 capture shares with ours come in the same order.
    const first = /^DCGM_FI_DEV_SM_CLOCK\{(.*)\}/m.exec(t4)![1]!;
    const theirs = [...first.matchAll(/(\w+)="/g)].map((m) => m[1]!).filter((k) => LABELS.includes(k));
    assert.deepEqual(
      theirs,
      LABELS.filter((k) => theirs.includes(k)),
    );
  });

  it("has unique UUIDs across the factory that do not depend on the seed", () => {
    const uuids = new Set<string>();
    for (let g = 0; g < state.topo.gpuCount; g++)
      uuids.add(gpuUuid(state.topo.siteName, lab.graph.at(state.topo.gpuEntity[g]!).id));
    assert.equal(uuids.size, state.topo.gpuCount);
    const other = createState(lab.graph, lab.catalog, { seed: 99 });
    const again = parsePromText(createDcgmExporter(other).render(node).toString("utf8"));
    assert.deepEqual(
      again.get("DCGM_FI_DEV_GPU_TEMP")!.samples.map((s) => s.labels),
      families.get("DCGM_FI_DEV_GPU_TEMP")!.samples.map((s) => s.labels),
    );
  });

  it("carries the state's values: power in whole mW with six decimals, energy in mJ, utilization in %", () => {
    const start = state.topo.nodeGpuStart[node]!;
    const value = (name: string, i: number) => families.get(name)!.samples[i]!.value;
    for (let i = 0; i < 8; i++) {
      // NVML's resolution is 1 mW: within half a milliwatt of the state, on a whole milliwatt.
      const watts = value("DCGM_FI_DEV_POWER_USAGE", i);
      assert.ok(Math.abs(watts - state.gpu.powerWatts[start + i]!) <= 0.0005 + 1e-9);
      assert.equal(Math.round(watts * 1000) / 1000, watts);
      assert.ok(
        Math.abs(
          value("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", i) - state.gpu.energyMillijoules[start + i]!,
        ) <= 0.5,
      );
      assert.equal(value("DCGM_FI_DEV_GPU_UTIL", i), Math.round(state.gpu.utilization[start + i]! * 100));
    }
    assert.match(page, /^DCGM_FI_DEV_POWER_USAGE\{[^}]*\} \d+\.\d{3}000$/m);
    assert.match(page, /^DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION\{[^}]*\} \d+$/m);
  });

  it("renders nothing for an NVLink switch tray; GB200 trays get the GB200 capture's bus ids", () => {
    const pod = example("gb200-superpod");
    const s = createState(pod.graph, pod.catalog);
    const dcgm = createDcgmExporter(s);
    const tray = s.topo.nodeNames.findIndex((n) => /-nvs\d+$/.test(n));
    assert.ok(tray >= 0);
    assert.equal(dcgm.render(tray).length, 0);
    const compute = parsePromText(dcgm.render(0).toString("utf8")).get("DCGM_FI_DEV_GPU_TEMP")!;
    assert.deepEqual(
      compute.samples.map((x) => Object.fromEntries(x.labels).pci_bus_id),
      ["00000008:01:00.0", "00000009:01:00.0", "00000018:01:00.0", "00000019:01:00.0"],
    );
    assert.equal(Object.fromEntries(compute.samples[0]!.labels).modelName, "NVIDIA GB200");
  });

  it("escapes label values as the text format requires", () => {
    assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  });
});
