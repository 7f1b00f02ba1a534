import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { formatProblem, loadFactoryFile } from "../src/index.ts";

// The gigawatt example is large (~880k entities, seconds to load): it is loaded once, here only.
const file = fileURLToPath(new URL("../../../examples/factories/gigawatt.yaml", import.meta.url));
const result = loadFactoryFile(file);

describe("gigawatt.yaml", () => {
  it("loads with no errors and no warnings", () => {
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.problems.map((p) => formatProblem("gigawatt.yaml", p)),
      [],
    );
    assert.ok(result.build);
  });

  it("has 4 halls × 20 rows × 50 racks = 4,000 NVL72 racks and 288,000 GPUs", () => {
    const { graph, summary } = result.build!;
    assert.equal(graph.countOf("rack"), 4 * 20 * 50);
    assert.equal(graph.countOf("gpu"), 4_000 * 72);
    assert.equal(graph.countOf("gpu"), 288_000);
    assert.equal(summary.counts.rack, 4_000);
    assert.equal(summary.counts.gpu, 288_000);
    assert.deepEqual(summary.gpusByType, { gb200: 288_000 });
    assert.deepEqual(summary.orgs, {
      frontier: { racks: 2_000, gpus: 144_000 },
      inference: { racks: 1_000, gpus: 72_000 },
      sovereign: { racks: 1_000, gpus: 72_000 },
    });
  });

  it("powers a GPU through its tray, power shelves, busway, transformer and hall feed on each side", () => {
    const { graph } = result.build!;
    const gpu = graph.get("gpu:hall3-row07-r12-ct01/0");
    assert.ok(gpu);
    assert.equal(graph.orgOf(gpu.index), "inference");
    // Racks r01–r50 are spread over busways bw1–bw5 in blocks of ten: r12 is on bw2.
    const paths = graph.powerPaths(gpu.index).map((p) => p.map((e) => e.id));
    const expected = ["a", "b"].flatMap((side) =>
      [1, 2, 3, 4].map((k) => [
        "gpu:hall3-row07-r12-ct01/0",
        "node:hall3-row07-r12-ct01",
        `power:hall3-row07-r12-ps-${side}${k}`,
        `power:hall3-${side}-row07-xfmr-bw2`,
        `power:hall3-${side}-row07-xfmr`,
        `power:hall3-${side}`,
      ]),
    );
    assert.deepEqual(paths, expected);
    // A busway feeds its ten racks.
    const busway = graph.get("power:hall3-a-row07-xfmr-bw2");
    assert.ok(busway);
    assert.equal(graph.descendants(busway.index, "gpu").length, 10 * 72);
  });
});
