/**
 * The Kubernetes scheduler-extender verbs, asked exactly as the twin asks them: its own client
 * (`extenderPlacer`, over HTTP) and its own pods (`podFor`).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { deriveBudgets } from "@flightdeck/power";
import { createState, extenderPlacer, type JobRuntime, podFor } from "@flightdeck/sim";
import { createPlacementEngine, type PlacementEngine } from "../src/index.ts";
import { clock, lab } from "./factories.ts";

const state = createState(lab.graph, lab.catalog, { seed: 3 });
const allNodes = state.topo.nodeNames;

function job(spec: Record<string, unknown>): JobRuntime {
  return { spec: { model: { name: "m", parameters: 1e9 }, ...spec } } as unknown as JobRuntime;
}
const pod = (spec: Record<string, unknown>, name = "p-0", gpus = 8) => podFor(state, job(spec), name, gpus);

/** Serves the engine's filter and prioritize verbs on a local port. */
async function serve(engine: PlacementEngine): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const args = JSON.parse(body);
      const out = req.url === "/filter" ? engine.filter(args) : engine.prioritize(args);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

describe("scheduler extender", () => {
  it("places a training job's pods through the twin's own client, each counted for the next", async () => {
    const engine = createPlacementEngine({ build: lab, tree: deriveBudgets(lab) });
    const http = await serve(engine);
    try {
      const placer = extenderPlacer(state, { url: http.url });
      const acme = Int32Array.from(allNodes.keys()).filter(
        (n) => allNodes[n]!.startsWith("r0") && lab.graph.orgOf(state.topo.nodeEntity[n]!) === "acme",
      );
      const spec = { name: "acme-pretrain", type: "training", org: "acme", gpus: 48, priority: 1 };
      const answer = await placer.place(job(spec), "acme-pretrain", acme, 6);
      assert.ok("nodes" in answer, JSON.stringify(answer));
      const chosen = answer.nodes.map((n) => allNodes[n]!);
      // Training pods pack: one rack filled, then the other.
      assert.deepEqual(
        chosen.map((n) => n.slice(0, 3)),
        ["r01", "r01", "r01", "r01", "r02", "r02"],
      );
      // Each pod is assumed where the twin bound it.
      const held = engine.holdings();
      assert.deepEqual(
        held.map((h) => h.job),
        Array(6).fill("acme-pretrain"),
      );
      assert.deepEqual(held.map((h) => h.nodes[0]).sort(), [...chosen].sort());
      assert.ok(held.every((h) => h.kind === "pod" && h.org === "acme" && h.expiresMs !== undefined));
      // A globex pod is refused acme's nodes, whoever holds them.
      const refused = await placer.place(job({ ...spec, name: "g", org: "globex" }), "g", acme, 1);
      assert.ok("reason" in refused);
      assert.match(
        refused.reason,
        /extender filtered out all 8 candidate node\(s\); r01-dgx1: in org acme's racks, not globex's/,
      );
    } finally {
      await http.close();
    }
  });

  it("filter names the power level per node; held and other orgs' nodes fail with their reason", () => {
    // Floor PDU at 78 kW: idle 70.4 kW + a running max-p DGX (4 kW); another at max-p (+4 kW) would
    // reach 100.5% (said as 101%), at max-q (+3,160 W) 99.4%.
    const engine = createPlacementEngine({
      build: lab,
      tree: deriveBudgets(lab, { overrides: { "power:fpdu-a1": { watts: 78_000 } } }),
    });
    engine.adopt("running", ["r03-dgx1"], { org: "globex" });
    const out = engine.filter({
      Pod: pod({ name: "infer", type: "inference", org: "globex", profile: "max-p" }),
      Nodes: null,
      NodeNames: [...allNodes, "nowhere"],
    });
    assert.equal(out.Error, "");
    assert.deepEqual(out.NodeNames, []);
    assert.equal(out.FailedNodes["r03-dgx1"], "held by job running");
    assert.equal(
      out.FailedNodes["r03-dgx2"],
      "floor PDU fpdu-a1 (row hall1/row1, side A) would reach 101% of its budget",
    );
    assert.equal(out.FailedAndUnresolvableNodes["r01-dgx1"], "in org acme's racks, not globex's");
    assert.equal(out.FailedAndUnresolvableNodes.nowhere, "nowhere is not a GPU node of this factory");
    assert.equal(
      Object.keys(out.FailedNodes).length + Object.keys(out.FailedAndUnresolvableNodes).length,
      17,
    );
    // At max-q the same pod fits (+3,160 W), and the full Nodes form is answered in kind.
    const q = engine.filter({
      Pod: pod({ name: "infer", type: "inference", org: "globex", profile: "max-q" }),
      Nodes: { items: allNodes.map((name) => ({ metadata: { name } })) },
    });
    assert.equal(q.NodeNames, null);
    assert.equal(q.Nodes?.items.length, 7);
  });

  it("prioritize gives its best node alone 10, holds it, and the hold lapses unless bound", () => {
    const time = clock();
    const engine = createPlacementEngine({
      build: lab,
      tree: deriveBudgets(lab),
      now: time.now,
      assumeTtlMs: 5_000,
    });
    const names = allNodes.filter((n) => n.startsWith("r03") || n.startsWith("r04"));
    const ask = (name: string) => ({
      Pod: pod({ name: "svc", type: "inference", org: "globex" }, name),
      NodeNames: names,
    });
    const first = engine.prioritize(ask("svc-0"));
    assert.equal(first.length, 8);
    assert.ok(first.every((s) => Number.isInteger(s.Score) && s.Score >= 0 && s.Score <= 10));
    const top = first.filter((s) => s.Score === 10);
    assert.equal(top.length, 1);
    assert.deepEqual(
      engine.holdings().map((h) => [h.id, h.nodes[0]]),
      [["globex/svc-0", top[0]!.Host]],
    );
    // The next replica of the same service spreads to the other rack.
    const second = engine.prioritize(ask("svc-1"));
    const next = second.find((s) => s.Score === 10)!.Host;
    assert.notEqual(next.slice(0, 3), top[0]!.Host.slice(0, 3));
    assert.equal(second.find((s) => s.Host === top[0]!.Host)!.Score, 0);
    assert.deepEqual(engine.bind({ PodName: "svc-1", PodNamespace: "globex", PodUID: "u", Node: next }), {
      Error: "",
    });
    time.advance(5_000);
    assert.deepEqual(
      engine.holdings().map((h) => h.id),
      ["globex/svc-1"],
    );
    assert.ok(engine.release("svc"));
    assert.equal(engine.holdings().length, 0);
  });

  it("answers a pod it cannot read with an error, and passes pods that ask for no GPU", () => {
    const engine = createPlacementEngine({ build: lab, tree: deriveBudgets(lab) });
    const noOrg = engine.filter({ Pod: pod({ name: "x", type: "training" }), NodeNames: ["r01-dgx1"] });
    assert.equal(noOrg.Error, "namespace default is not an org with racks in this factory");
    const badProfile = engine.filter({
      Pod: pod({ name: "x", type: "training", org: "acme", profile: "turbo" }),
      NodeNames: ["r01-dgx1"],
    });
    assert.match(badProfile.Error, /no profile "turbo"/);
    const p = pod({ name: "x", type: "training", org: "acme" }) as {
      spec: { containers: { resources: { requests: Record<string, string> } }[] };
    };
    p.spec.containers[0]!.resources.requests["nvidia.com/gpu"] = "two";
    assert.match(
      engine.filter({ Pod: p, NodeNames: ["r01-dgx1"] }).Error,
      /nvidia.com\/gpu quantity "two" is not a whole number/,
    );
    const cpu = pod({ name: "x", type: "training", org: "acme" }, "cpu", 0);
    assert.deepEqual(engine.filter({ Pod: cpu, NodeNames: ["r01-dgx1", "r03-dgx1"] }).NodeNames, [
      "r01-dgx1",
      "r03-dgx1",
    ]);
    assert.equal(engine.filter({ Pod: { spec: {} }, NodeNames: [] }).Error, "the pod has no metadata.name");
  });
});
