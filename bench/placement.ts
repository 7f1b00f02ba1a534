/**
 * Placement benchmarks on a generated GB200 NVL72 site of 10,080 compute nodes (560 racks in two
 * halls, one org each), half full: the latency of one placement decision over a mix of shapes
 * and sizes (target p99 ≤ 5 ms), and scheduler-extender filter + prioritize pairs per second with
 * the org's free nodes as candidates, as kube-scheduler and the twin send them (target ≥ 1,000/s),
 * and with every node of the org (held ones failing: the worst case).
 */
import { type BuildResult, formatProblem, loadFactory } from "@flightdeck/model";
import { createPlacementEngine, type PlacementEngine, type Shape } from "@flightdeck/placement";
import { deriveBudgets } from "@flightdeck/power";
import { type Row, rng } from "./lib.ts";

const HALLS = 2;
const ROWS = 14;
const RACKS = 20;

/** The generated site: NVL72 racks, a transformer per row and busways of ten racks per side. */
export function tenThousandNodes(): BuildResult {
  const text = `
apiVersion: flightdeck/v1
kind: Factory
metadata: { name: placement-bench }
defaults: { derating: 0.8, redundancy: N+N }
orgs: [{ name: train }, { name: serve }]
power:
  - name: hall{1..${HALLS}}-a
    kind: feed
    side: A
    rating: { kw: 80000 }
    children: &d
      - name: \${parent}-row{01..${ROWS}}-xfmr
        kind: transformer
        rating: { kw: 3400 }
        children:
          - name: \${parent}-bw{1..2}
            kind: busway
            rating: { volts: 415, amps: 2500, phases: 3 }
  - name: hall{1..${HALLS}}-b
    kind: feed
    side: B
    rating: { kw: 80000 }
    children: *d
halls:
  - name: hall1
    org: train
    rows: &rows
      - name: row{01..${ROWS}}
        racks:
          - name: \${hall}-\${row}-r{01..${RACKS}}
            type: gb200-nvl72
            power:
              A: \${hall}-a-\${row}-xfmr-bw{1..2}
              B: \${hall}-b-\${row}-xfmr-bw{1..2}
  - name: hall2
    org: serve
    rows: *rows
fabrics:
  - name: ib
    technology: infiniband
    purpose: compute
    switch: q3400
    endpoint: nic
    railOptimized: true
    unitRacks: 8
`;
  const result = loadFactory(text);
  if (!result.build) throw new Error(result.problems.map((p) => formatProblem("bench", p)).join("\n"));
  return result.build;
}

const SHAPES: Shape[] = ["any", "same-leaf", "nvl-domain", "spread"];

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** Fills the engine to about half its GPUs with jobs of 4–144 GPUs, keeping their ids. */
function fill(engine: PlacementEngine, random: () => number, live: string[], gpus: number): void {
  let held = 0;
  for (let i = 0; held < gpus / 2 && i < 5000; i++) {
    const org = random() < 0.5 ? "train" : "serve";
    const d = engine.place({ id: `fill-${i}`, org, gpus: 4 * (1 + Math.floor(random() * 36)), shape: "any" });
    if (d.status === "placed") {
      live.push(d.id);
      held += d.gpus.length;
    }
  }
}

export function benchPlacement(decisions = 2000, pairs = 2000): Row[] {
  const build = tenThousandNodes();
  const nodes = build.graph.ofKind("node").filter((n) => n.type === "gb200-compute-tray").length;
  const engine = createPlacementEngine({
    build,
    tree: deriveBudgets(build, { facility: { fraction: 0.85 } }),
  });
  const random = rng(11);
  const live: string[] = [];
  fill(engine, random, live, nodes * 4);

  // Decisions: place a job, release a random one, so the site stays about as full.
  // The first few hundred decisions compile the code paths: they are run, not timed.
  const warm = 300;
  const ms: number[] = [];
  let placed = 0;
  for (let i = -warm; i < decisions; i++) {
    const org = random() < 0.5 ? "train" : "serve";
    const shape = SHAPES[Math.floor(random() * SHAPES.length)]!;
    const gpus =
      shape === "nvl-domain" ? 72 * (1 + Math.floor(random() * 4)) : 4 * (1 + Math.floor(random() * 64));
    const t0 = performance.now();
    const d = engine.place({ id: `job-${i}`, org, gpus, shape, profile: random() < 0.3 ? "max-q" : "max-p" });
    if (i >= 0) ms.push(performance.now() - t0);
    if (d.status === "placed") {
      if (i >= 0) placed++;
      live.push(d.id);
      engine.release(live.splice(Math.floor(random() * live.length), 1)[0]!);
    }
  }

  // Extender: one pod's filter then prioritize. kube-scheduler sends the nodes its own filters
  // passed (free GPUs), as the twin does; every node of the org, held ones failing, is the worst case.
  const all = build.graph
    .ofKind("node")
    .filter((n) => n.org === "serve" && n.type === "gb200-compute-tray")
    .map((n) => n.name);
  const held = new Set(engine.holdings().flatMap((h) => h.nodes));
  const free = all.filter((name) => !held.has(name));
  const pairsPerSecond = (candidates: string[]): number => {
    const t0 = performance.now();
    for (let i = 0; i < pairs; i++) {
      const args = { Pod: pod(i), Nodes: null, NodeNames: candidates };
      const passed = engine.filter(args).NodeNames ?? [];
      engine.prioritize({ ...args, NodeNames: passed });
      // Each service of four pods is done: its assumed pods go, so the candidates stay free.
      if ((i & 3) === 3) engine.release(`svc-${i >> 2}`);
    }
    return pairs / ((performance.now() - t0) / 1000);
  };
  const pod = (i: number) => ({
    metadata: {
      name: `svc-${i}`,
      namespace: "serve",
      labels: { "flightdeck.dev/job": `svc-${i >> 2}`, "flightdeck.dev/type": "inference" },
      annotations: { "flightdeck.dev/profile": "max-p", "flightdeck.dev/priority": "0" },
    },
    spec: { containers: [{ name: "vllm", resources: { requests: { "nvidia.com/gpu": "4" } } }] },
  });
  const freeRate = pairsPerSecond(free);
  const allRate = pairsPerSecond(all);

  return [
    { bench: "placement", metric: "compute nodes", value: nodes, unit: "nodes", target: "" },
    { bench: "placement", metric: "decision p50", value: percentile(ms, 0.5), unit: "ms", target: "" },
    { bench: "placement", metric: "decision p99", value: percentile(ms, 0.99), unit: "ms", target: "<= 5" },
    {
      bench: "placement",
      metric: "decisions placed",
      value: placed / decisions,
      unit: "fraction",
      target: "",
    },
    {
      bench: "placement",
      metric: `extender filter+prioritize, ${free.length} free candidates`,
      value: freeRate,
      unit: "pairs/s",
      target: ">= 1000",
    },
    {
      bench: "placement",
      metric: `extender filter+prioritize, all ${all.length} org nodes`,
      value: allRate,
      unit: "pairs/s",
      target: "",
    },
  ];
}
