import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  advance,
  createJobEngine,
  createState,
  type FactoryState,
  idealStepSeconds,
  injectFault,
  type JobEngine,
  loadScenario,
  parseAzureTrace,
  type RunningSim,
  type Scenario,
  ScenarioError,
  STRAGGLER_FACTOR,
  setGpuCapWatts,
  startSim,
  TraceError,
  type Truth,
  truthOf,
} from "../src/index.ts";
import { example, repoPath, sharedData } from "./factories.ts";
import { parsePromText } from "./prom-text.ts";

const lab = example("lab");
const CONV_TRACE = sharedData("traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv");

function scenario(yaml: string): Scenario {
  return loadScenario(yaml, lab.graph, "test.yaml", repoPath("examples/scenarios"));
}

function run(sc: Scenario, seconds: number, seed = 1): { state: FactoryState; engine: JobEngine } {
  const state = createState(lab.graph, lab.catalog, { seed, workload: { synthetic: false } });
  const engine = createJobEngine(state, sc);
  for (let i = 0; i < seconds; i++) advance(state, engine, 1);
  return { state, engine };
}

function scenarioError(yaml: string): ScenarioError {
  try {
    scenario(yaml);
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    return err;
  }
  assert.fail("the scenario loaded");
}

const HEADER = "apiVersion: flightdeck/v1\nkind: Scenario\nmetadata: { name: t }\n";
const TRAIN = `${HEADER}jobs:
  - name: train
    type: training
    org: acme
    gpus: 16
    model: { name: llama-3.1-8b, parameters: 8.0e9 }
    globalBatchTokens: 1048576
`;

describe("scenario files", () => {
  it("loads the lab scenario", () => {
    const sc = scenario(readFileSync(repoPath("examples/scenarios/lab.yaml"), "utf8"));
    assert.deepEqual(
      sc.jobs?.map((j) => j.name),
      ["acme-pretrain", "acme-chat", "globex-finetune", "globex-code"],
    );
  });

  it("lists every problem with its line and column", () => {
    const yaml = `${HEADER}jobs:
  - name: a
    type: training
    org: nobody
    gpus: 8
    model: { name: m, parameters: 1e9 }
    globalBatchTokens: 1000
  - name: a
    type: inference
    replicas: 1
    gpusPerReplica: 8
    model: { name: m, parameters: 1e9 }
    requests: { trace: { file: no-such-trace.csv } }
faults:
  - { at: 5, kind: xid79, target: rack:r01 }
  - { at: 5, kind: meltdown, target: gpu:r01-dgx1/0 }
  - { at: 5, kind: cooling, target: rack:r99 }
`;
    const err = scenarioError(yaml);
    // Schema errors come first and stop the check: the unknown kind alone.
    assert.equal(err.problems.length, 1, err.message);
    assert.match(err.problems[0]!, /^test\.yaml:19:20: faults\[1\]\.kind must be one of "xid79"/);
    const fixed = yaml.replace("meltdown", "xid48");
    const err2 = scenarioError(fixed);
    const text = err2.problems.join("\n");
    assert.match(text, /test\.yaml:7:\d+: no rack of the factory belongs to org "nobody"/);
    assert.match(text, /test\.yaml:11:\d+: job name "a" is used twice/);
    assert.match(text, /test\.yaml:16:\d+: trace file not found: .*no-such-trace\.csv/);
    assert.match(text, /test\.yaml:18:\d+: a xid79 fault needs a gpu, not a rack/);
    assert.match(text, /test\.yaml:20:\d+: no entity "rack:r99"/);
    assert.equal(err2.problems.length, 5, text);
  });

  it("refuses a malformed trace at load, and records a fault the state refuses instead of dying", () => {
    const dir = mkdtempSync(join(tmpdir(), "fd-trace-"));
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,x,1\n");
    const err = scenarioError(SERVE_ON(bad));
    assert.match(err.problems.join("\n"), /trace: .*bad\.csv:2: ContextTokens must be a whole number/);
    rmSync(dir, { recursive: true });
    const twice = `${TRAIN}faults:\n  - { at: 1, kind: xid79, target: gpu:r01-dgx1/0 }\n  - { at: 2, kind: xid79, target: gpu:r01-dgx1/0 }\n`;
    const { engine } = run(scenario(twice), 5);
    assert.equal(engine.faultErrors.length, 1);
    assert.match(
      engine.faultErrors[0]!,
      /at 2 s, xid79 on gpu:r01-dgx1\/0: target: gpu:r01-dgx1\/0 is off the bus/,
    );
  });

  it("rejects a training job without a batch size", () => {
    assert.throws(() => scenario(TRAIN.replace("    globalBatchTokens: 1048576\n", "")), ScenarioError);
  });
});

describe("the Azure LLM trace", () => {
  it("parses the conversation trace: 19,366 requests over about an hour", () => {
    const t = parseAzureTrace(readFileSync(CONV_TRACE, "utf8"), "conv.csv");
    assert.equal(t.arrivalSeconds.length, 19_366);
    assert.equal(t.arrivalSeconds[0], 0);
    assert.ok(t.spanSeconds > 3400 && t.spanSeconds < 3600, String(t.spanSeconds));
    assert.equal(t.promptTokens[0], 374);
    assert.equal(t.generatedTokens[0], 44);
  });

  it("names the line of a malformed row", () => {
    const bad =
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:47,x,1\n";
    assert.throws(
      () => parseAzureTrace(bad, "t.csv"),
      (e: Error) => {
        assert.ok(e instanceof TraceError);
        assert.match(e.message, /^t\.csv:3: ContextTokens must be a whole number/);
        return true;
      },
    );
    assert.throws(() => parseAzureTrace("a,b\n", "t.csv"), /t\.csv:1: expected the header/);
  });
});

describe("training jobs", () => {
  it("take whole nodes of their org, first fit", () => {
    const { state, engine } = run(scenario(TRAIN), 1);
    const job = engine.jobs[0]!;
    assert.equal(job.phase, "running");
    assert.deepEqual(
      job.nodes.map((n) => state.topo.nodeNames[n]),
      ["r01-dgx1", "r01-dgx2"],
    );
    assert.equal(job.gpus.length, 16);
  });

  it("step at 6·N·tokens / (GPUs × peak × MFU), plus communication, and count tokens per step", () => {
    const { state, engine } = run(scenario(TRAIN), 300);
    const job = engine.jobs[0]!;
    const ideal = idealStepSeconds(state, job);
    // 6 × 8e9 × 1,048,576 / (16 × 989e12 × 0.4) = 7.95 s
    assert.ok(Math.abs(ideal - 7.953) < 0.01, String(ideal));
    // Uncapped and cool, every GPU runs at full speed: step = ideal.
    assert.ok(Math.abs(job.stepSeconds - ideal) < 1e-6, `${job.stepSeconds} vs ${ideal}`);
    assert.equal(job.steps, Math.floor(300 / ideal));
    assert.equal(job.trainingTokens, job.steps * 1_048_576);
  });

  it("run at the speed of the slowest GPU: one straggler slows every step", () => {
    const sc = scenario(TRAIN);
    const healthy = run(sc, 120).engine.jobs[0]!;
    const { state, engine } = run(sc, 1);
    injectFault(state, { kind: "straggler", target: "gpu:r01-dgx2/5" });
    for (let i = 0; i < 120; i++) advance(state, engine, 1);
    const job = engine.jobs[0]!;
    const ideal = idealStepSeconds(state, job);
    // (1 − comm) of the step runs at the straggler's speed; the 15% of communication does not.
    const expected = ideal * (0.85 / STRAGGLER_FACTOR + 0.15);
    assert.ok(Math.abs(job.stepSeconds - expected) < 1e-6, `${job.stepSeconds} vs ${expected}`);
    assert.ok(job.steps < healthy.steps * 0.7, `${job.steps} vs ${healthy.steps}`);
    // The others wait at the barrier: lower utilization than the straggler.
    const g = (id: string) => state.topo.gpuEntity.indexOf(lab.graph.get(id)!.index);
    assert.ok(
      state.gpu.utilization[g("gpu:r01-dgx1/0")]! < state.gpu.utilization[g("gpu:r01-dgx2/5")]! * 0.7,
    );
  });

  it("slow down when a leaf switch under them degrades, and only then", () => {
    const sc = scenario(TRAIN);
    const { state, engine } = run(sc, 1);
    const leaf = lab.graph
      .leafSwitches(lab.graph.get("node:r01-dgx1")!.index)
      .find((s) => s.id.includes("leaf"))!;
    const other = lab.graph.ofKind("switch").find((s) => s.id.includes("leaf") && s.index !== leaf.index)!;
    injectFault(state, { kind: "leafDegraded", target: other.id, durationSeconds: 1000 });
    const under = lab.graph.descendants(other.index, "node").map((n) => n.name);
    advance(state, engine, 1);
    const ideal = idealStepSeconds(state, engine.jobs[0]!);
    const touched = engine.jobs[0]!.nodes.some((n) => under.includes(state.topo.nodeNames[n]!));
    if (!touched) assert.ok(Math.abs(engine.jobs[0]!.stepSeconds - ideal) < 1e-6);
    injectFault(state, { kind: "leafDegraded", target: leaf.id });
    advance(state, engine, 1);
    assert.ok(
      Math.abs(engine.jobs[0]!.stepSeconds - ideal * (0.85 + 0.15 * 4)) < 1e-6,
      String(engine.jobs[0]!.stepSeconds),
    );
  });

  it("hang while a GPU is off the bus: no tokens, idle GPUs, stalled time counted", () => {
    const { state, engine } = run(scenario(TRAIN), 20);
    const before = engine.jobs[0]!.trainingTokens;
    injectFault(state, { kind: "xid79", target: "gpu:r01-dgx1/2", durationSeconds: 60 });
    for (let i = 0; i < 50; i++) advance(state, engine, 1);
    assert.equal(engine.jobs[0]!.trainingTokens, before);
    assert.equal(engine.jobs[0]!.stalledSeconds, 50);
    assert.equal(state.gpu.utilization[engine.jobs[0]!.gpus[0]!], 0);
    for (let i = 0; i < 40; i++) advance(state, engine, 1);
    assert.ok(engine.jobs[0]!.trainingTokens > before, "resumes when the GPU is back");
  });

  it("wait when their org has no room, with the reason", () => {
    const big = TRAIN.replace("gpus: 16", "gpus: 72");
    const { engine } = run(scenario(big), 3);
    assert.equal(engine.jobs[0]!.phase, "waiting");
    assert.equal(engine.jobs[0]!.reason, "needs 9 free node(s), 8 fit");
  });

  it("finish after their duration and free their nodes", () => {
    const sc = scenario(TRAIN.replace("    gpus: 16\n", "    gpus: 16\n    durationSeconds: 30\n"));
    const { state, engine } = run(sc, 40);
    const job = engine.jobs[0]!;
    assert.equal(job.phase, "finished");
    assert.equal(job.finishedAt, 30);
    assert.ok(engine.nodeOwner.every((o) => o === undefined));
    assert.equal(state.gpu.utilization[job.gpus[0]!], 0);
  });
});

const SERVE_ON = (trace: string) => `${HEADER}jobs:
  - name: chat
    type: inference
    replicas: 1
    gpusPerReplica: 8
    model: { name: m, parameters: 8e9 }
    requests: { trace: { file: ${trace} } }
`;

const SERVE = `${HEADER}jobs:
  - name: chat
    type: inference
    org: globex
    replicas: 2
    gpusPerReplica: 8
    model: { name: meta-llama/Llama-3.1-70B-Instruct, parameters: 70.6e9 }
    requests: { trace: { file: ${CONV_TRACE}, rateScale: 2 } }
`;

describe("inference services", () => {
  it("replay the Azure trace: every prompt token of every finished request is counted once", () => {
    const { state, engine } = run(scenario(SERVE), 600);
    const job = engine.jobs[0]!;
    const trace = parseAzureTrace(readFileSync(CONV_TRACE, "utf8"));
    // Requests that arrived in 600 s at twice the trace rate.
    let arrived = 0;
    while (trace.arrivalSeconds[arrived]! / 2 < 600) arrived++;
    const arrivedTotal = job.replicas.reduce((s, r) => s + r.counters.requestsArrived, 0);
    assert.equal(arrivedTotal, arrived);
    const finished = job.replicas.reduce((s, r) => s + r.counters.requestsFinished, 0);
    assert.ok(finished > arrived * 0.95, `${finished} of ${arrived}`);
    const prompt = job.replicas.reduce((s, r) => s + r.counters.promptTokens, 0);
    let expectedPrompt = 0;
    for (let i = 0; i < arrived; i++) expectedPrompt += trace.promptTokens[i]!;
    // Prefilled: all finished and running requests' prompts; those still queued are not yet.
    const queued = job.replicas.reduce((s, r) => s + r.waiting.reduce((a, w) => a + w.promptTokens, 0), 0);
    const partial = job.replicas.reduce(
      (s, r) =>
        s + r.running.filter((q) => q.generated === 0).reduce((a, q) => a + q.arrival.promptTokens, 0),
      0,
    );
    assert.equal(prompt, expectedPrompt - queued - partial);
    const truth = truthOf(state, engine);
    assert.equal(truth.tokens.prompt, prompt);
    assert.ok(truth.jobs[0]!.gpuEnergyJoules > 0);
    // Per rack: the service runs on globex's racks r03 and r04, one replica each.
    const racks = Object.values(truth.racks);
    const sum = (f: (r: (typeof racks)[number]) => number) => racks.reduce((a, r) => a + f(r), 0);
    assert.ok(Math.abs(sum((r) => r.promptTokens) - prompt) < 1e-6 * prompt);
    assert.ok(Math.abs(sum((r) => r.gpuEnergyJoules) - truth.gpuEnergyJoules) < 1e-6 * truth.gpuEnergyJoules);
    assert.equal(truth.racks.r01!.promptTokens, 0);
    assert.ok(truth.racks.r03!.promptTokens > 0);
    assert.equal(truth.racks.r03!.org, "globex");
    // The rack PDUs carry the GPUs plus node overheads and supply losses.
    for (const r of racks) assert.ok(r.pduEnergyJoules > r.gpuEnergyJoules * 1.2, JSON.stringify(r));
  });

  it("decode hardly notices a cap that prefill feels", () => {
    const base = run(scenario(SERVE), 300);
    const capped = (() => {
      const state = createState(lab.graph, lab.catalog, { seed: 1, workload: { synthetic: false } });
      const engine = createJobEngine(state, scenario(SERVE));
      for (let g = 0; g < state.topo.gpuCount; g++) setGpuCapWatts(state, g, 350);
      for (let i = 0; i < 300; i++) advance(state, engine, 1);
      return { state, engine };
    })();
    const gen = (e: JobEngine) => e.jobs[0]!.replicas.reduce((s, r) => s + r.counters.generatedTokens, 0);
    const energy = (e: JobEngine) => e.jobs[0]!.gpuEnergyJoules;
    // Same requests served: generated tokens within 1%; energy clearly lower under the cap.
    assert.ok(
      Math.abs(gen(capped.engine) / gen(base.engine) - 1) < 0.01,
      `${gen(capped.engine)} vs ${gen(base.engine)}`,
    );
    assert.ok(
      energy(capped.engine) < energy(base.engine) * 0.97,
      `${energy(capped.engine)} vs ${energy(base.engine)}`,
    );
  });

  it("are deterministic: the same seed and scenario give the same truth", () => {
    const a = truthOf(...(Object.values(run(scenario(SERVE), 120, 7)) as [FactoryState, JobEngine]));
    const b = truthOf(...(Object.values(run(scenario(SERVE), 120, 7)) as [FactoryState, JobEngine]));
    assert.deepEqual(a, b);
  });
});

describe("feeds", () => {
  it("losing one side of an A/B pair moves its load to the other; losing both powers the node off", () => {
    const { state, engine } = run(scenario(TRAIN), 10);
    const before = truthOf(state, engine);
    injectFault(state, { kind: "feedLoss", target: "power:util-a" });
    advance(state, engine, 1);
    const after = truthOf(state, engine);
    assert.equal(after.power["power:util-a"], 0);
    assert.equal(after.power["power:r01-pdu-a1"], 0);
    const sumFeeds = (t: Truth) => (t.power["power:util-a"] ?? 0) + (t.power["power:util-b"] ?? 0);
    assert.ok(Math.abs(sumFeeds(after) - after.nodeInputWatts) < 1e-6 * after.nodeInputWatts);
    assert.ok(after.power["power:util-b"]! > before.power["power:util-b"]! * 1.8);
    assert.equal(engine.jobs[0]!.phase, "running");
    injectFault(state, { kind: "feedLoss", target: "power:util-b" });
    advance(state, engine, 1);
    const dark = truthOf(state, engine);
    assert.equal(dark.nodeInputWatts, 0);
    assert.equal(dark.gpuPowerWatts, 0);
    assert.ok(state.faults.nodeUnpowered.every((v) => v === 1));
  });
});

describe("a twin running a scenario", () => {
  let sim: RunningSim;
  const collector = createSocket("udp4");
  const datagrams: string[] = [];
  collector.on("message", (m) => datagrams.push(m.toString("utf8")));
  before(async () => {
    await new Promise<void>((r) => collector.bind(0, "127.0.0.1", r));
    sim = await startSim({
      syslogTarget: `udp://127.0.0.1:${collector.address().port}`,
      graph: lab.graph,
      catalog: lab.catalog,
      port: 0,
      speed: 200,
      scenario: scenario(readFileSync(repoPath("examples/scenarios/lab.yaml"), "utf8")),
    });
  });
  after(async () => {
    await sim.stop();
    collector.close();
  });

  it("sends the kernel line of an injected Xid to the syslog collector", async () => {
    const res = await fetch(`${sim.url}/sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "xid79", target: "gpu:r03-dgx2/3" }),
    });
    assert.equal(res.status, 201);
    const end = Date.now() + 5000;
    while (datagrams.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(datagrams.length, 1);
    assert.match(datagrams[0]!, /^<4>1 \S+ r03-dgx2 kernel - - - NVRM: Xid \(PCI:0000:5d:00\): 79, /);
  });

  it("serves a vLLM page per replica and a trainer page per job, agreeing with the truth", async () => {
    while (sim.state.timeSeconds < 20) await new Promise((r) => setTimeout(r, 20));
    const vllm = parsePromText(await (await fetch(`${sim.url}/inference/acme-chat-0/metrics`)).text());
    const train = parsePromText(await (await fetch(`${sim.url}/jobs/acme-pretrain/metrics`)).text());
    const generated = vllm.get("vllm:generation_tokens_total")!.samples[0]!.value;
    const trained = train.get("training_tokens_total")!.samples[0]!.value;
    assert.ok(generated > 0 && trained > 0);
    const truth = (await (await fetch(`${sim.url}/sim/truth`)).json()) as Truth;
    // The truth is read later than the pages: its counters are at least as far along.
    const chat = truth.jobs.find((j) => j.name === "acme-chat")!;
    assert.ok(chat.replicas![0]!.generatedTokens >= generated);
    assert.ok(truth.jobs.find((j) => j.name === "acme-pretrain")!.trainingTokens! >= trained);
    assert.equal((await fetch(`${sim.url}/inference/nobody-0/metrics`)).status, 404);
    assert.equal((await fetch(`${sim.url}/jobs/acme-chat/metrics`)).status, 404);
  });
});

describe("placement through a scheduler extender", () => {
  let extender: Server;
  let url: string;
  const seen: { path: string; body: Record<string, unknown> }[] = [];
  before(async () => {
    // A scheduler extender as kube-scheduler would call it: it accepts only rack r02's nodes and
    // prefers the highest-numbered one.
    extender = createServer((req: IncomingMessage, res) => {
      let text = "";
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", () => {
        const body = JSON.parse(text) as { NodeNames: string[] };
        seen.push({ path: req.url!, body });
        res.setHeader("content-type", "application/json");
        if (req.url === "/ext/filter") {
          const ok = body.NodeNames.filter((n) => n.startsWith("r02-"));
          const failed = Object.fromEntries(
            body.NodeNames.filter((n) => !ok.includes(n)).map((n) => [n, "not r02"]),
          );
          res.end(JSON.stringify({ Nodes: null, NodeNames: ok, FailedNodes: failed, Error: "" }));
        } else {
          res.end(JSON.stringify(body.NodeNames.map((n) => ({ Host: n, Score: Number(n.at(-1)) }))));
        }
      });
    });
    await new Promise<void>((r) => extender.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(extender.address() as AddressInfo).port}/ext`;
  });
  after(() => new Promise<void>((r) => extender.close(() => r())));

  it("asks filter then prioritize for each pod, and binds to the best node", async () => {
    const yaml = TRAIN.replace(HEADER, `${HEADER}placement: { extender: { url: "${url}" } }\n`);
    const state = createState(lab.graph, lab.catalog, { seed: 1, workload: { synthetic: false } });
    const sc = scenario(yaml);
    const { extenderPlacer } = await import("../src/extender.ts");
    const engine = createJobEngine(state, sc, extenderPlacer(state, sc.placement!.extender!));
    advance(state, engine, 1);
    while (engine.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
    advance(state, engine, 1);
    const job = engine.jobs[0]!;
    assert.equal(job.phase, "running", job.reason);
    assert.deepEqual(
      job.nodes.map((n) => state.topo.nodeNames[n]),
      ["r02-dgx4", "r02-dgx3"],
    );
    assert.deepEqual(
      seen.map((s) => s.path),
      ["/ext/filter", "/ext/prioritize", "/ext/filter", "/ext/prioritize"],
    );
    const pod = seen[0]!.body.Pod as {
      metadata: { name: string; namespace: string };
      spec: { containers: { resources: { limits: Record<string, string> } }[] };
    };
    assert.equal(pod.metadata.name, "train-0");
    assert.equal(pod.metadata.namespace, "acme");
    assert.equal(pod.spec.containers[0]!.resources.limits["nvidia.com/gpu"], "8");
    // Candidates are the org's free nodes; the second pod's exclude the first's node.
    assert.equal((seen[0]!.body.NodeNames as string[]).length, 8);
    assert.ok(!(seen[2]!.body.NodeNames as string[]).includes("r02-dgx4"));
  });
});
