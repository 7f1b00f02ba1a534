/** Factories for the placement tests: the lab example and a small GB200 NVL72 site built here. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type BuildResult, formatProblem, loadFactory } from "@flightdeck/model";

export function load(text: string): BuildResult {
  const result = loadFactory(text);
  if (!result.build) throw new Error(result.problems.map((p) => formatProblem("test", p)).join("\n"));
  return result.build;
}

export const lab = load(
  readFileSync(fileURLToPath(new URL("../../../examples/factories/lab.yaml", import.meta.url)), "utf8"),
);

/**
 * Six GB200 NVL72 racks (each one NVLink domain of 18 compute trays): four for frontier in two
 * scalable units of two racks (two leaf groups), two for serving; A/B busways per unit.
 */
export const nvl72 = load(`
apiVersion: flightdeck/v1
kind: Factory
metadata: { name: nvl-test }
defaults: { derating: 0.8, redundancy: N+N }
orgs:
  - name: frontier
  - name: serving
power:
  - name: feed-a
    kind: feed
    side: A
    rating: { kw: 3000 }
    children: &d
      - name: \${parent}-bw{1..3}
        kind: busway
        rating: { kw: 400 }
  - name: feed-b
    kind: feed
    side: B
    rating: { kw: 3000 }
    children: *d
halls:
  - name: hall1
    rows:
      - name: row1
        racks:
          - name: su1-r{1..2}
            type: gb200-nvl72
            org: frontier
            power: { A: feed-a-bw1, B: feed-b-bw1 }
          - name: su2-r{1..2}
            type: gb200-nvl72
            org: frontier
            power: { A: feed-a-bw2, B: feed-b-bw2 }
          - name: su3-r{1..2}
            type: gb200-nvl72
            org: serving
            power: { A: feed-a-bw3, B: feed-b-bw3 }
fabrics:
  - name: ib
    technology: infiniband
    purpose: compute
    switch: qm9700
    endpoint: nic
    railOptimized: true
    unitRacks: 2
`);

/** A clock the test moves. */
export function clock(startMs = Date.UTC(2026, 0, 1)) {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
