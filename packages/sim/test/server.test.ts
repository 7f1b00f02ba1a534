import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type FileSdGroup,
  PROMETHEUS_TEXT,
  type RunningSim,
  SimLoadError,
  startSim,
  type Truth,
} from "../src/index.ts";
import { example } from "./factories.ts";
import { parsePromText } from "./prom-text.ts";

const lab = example("lab");
const dir = mkdtempSync(join(tmpdir(), "sim-server-"));
const targetsFile = join(dir, "targets.json");
let sim: RunningSim;

describe("sim server", () => {
  before(async () => {
    sim = await startSim({ factoryFile: lab.file, port: 0, seed: 4, speed: 100, targetsFile });
  });
  after(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves a node's dcgm page at /nodes/NAME/metrics", async () => {
    const res = await fetch(`${sim.url}/nodes/r01-dgx1/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), PROMETHEUS_TEXT);
    const families = parsePromText(await res.text());
    const power = families.get("DCGM_FI_DEV_POWER_USAGE")!;
    assert.equal(power.samples.length, 8);
    assert.ok(power.samples.every((s) => Object.fromEntries(s.labels).Hostname === "r01-dgx1"));
  });

  it("answers 404 for an unknown node or path, 405 for a write, ok at /healthz", async () => {
    assert.equal((await fetch(`${sim.url}/nodes/nope/metrics`)).status, 404);
    assert.equal((await fetch(`${sim.url}/nodes/%E0%A4%A/metrics`)).status, 404);
    assert.equal((await fetch(`${sim.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${sim.url}/healthz`, { method: "POST" })).status, 405);
    const health = await fetch(`${sim.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
  });

  it("ticks on its own and reports the truth: every feed carries the sum of what it feeds", async () => {
    await new Promise((r) => setTimeout(r, 150));
    const truth = (await (await fetch(`${sim.url}/sim/truth`)).json()) as Truth;
    assert.ok(truth.ticks >= 3, `ticks ${truth.ticks}`);
    assert.equal(truth.timeSeconds, truth.ticks);
    assert.equal(truth.gpuCount, 128);
    assert.deepEqual(truth.faults, []);
    assert.ok(truth.gpuEnergyJoules > 0);
    const { graph } = lab;
    const { feedsDown } = graph.rel;
    for (const e of graph.ofKind("power")) {
      const below: string[] = [];
      for (let k = feedsDown.offsets[e.index]!; k < feedsDown.offsets[e.index + 1]!; k++)
        below.push(graph.at(feedsDown.items[k]!).id);
      if (below.some((id) => !id.startsWith("power:"))) continue; // rack PDUs feed nodes
      const sum = below.reduce((acc, id) => acc + truth.power[id]!, 0);
      assert.ok(Math.abs(truth.power[e.id]! - sum) < 1e-6, `${e.id}: ${truth.power[e.id]} vs ${sum}`);
    }
    assert.ok(
      Math.abs(truth.power["power:util-a"]! + truth.power["power:util-b"]! - truth.nodeInputWatts) < 1e-6,
    );
    assert.ok(truth.nodeInputWatts > truth.gpuPowerWatts);
  });

  it("writes a file_sd file with one group per GPU node on its one listener", () => {
    const groups = JSON.parse(readFileSync(targetsFile, "utf8")) as FileSdGroup[];
    assert.equal(groups.length, 16);
    assert.deepEqual(groups[0], {
      targets: [`127.0.0.1:${sim.port}`],
      labels: { __metrics_path__: "/nodes/r01-dgx1/metrics", node: "r01-dgx1", rack: "r01", job: "dcgm" },
    });
    assert.equal(new Set(groups.map((g) => g.labels.node)).size, 16);
  });

  it("refuses a bad factory file, listing every problem", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: flightdeck/v1\nkind: Factory\nmetadata: { name: x, colour: red }\n" +
        "power:\n  - { name: f, kind: feed, side: A, rating: { kw: 1 }, bogus: 1 }\nhalls: []\n",
    );
    await assert.rejects(startSim({ factoryFile: bad, port: 0 }), (err: unknown) => {
      assert.ok(err instanceof SimLoadError);
      assert.ok(err.problems.length >= 2, err.message);
      assert.match(err.message, /bad\.yaml:3:\d+: .*colour/);
      assert.match(err.message, /bad\.yaml:5:\d+: .*bogus/);
      return true;
    });
    await assert.rejects(startSim({ factoryFile: join(dir, "absent.yaml"), port: 0 }), /cannot read/);
  });
});
