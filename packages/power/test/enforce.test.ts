/**
 * Enforcement against the twin over HTTP: the Redfish cap driver and the reconciler push caps to
 * the twin's BMCs, read them back, and count what they cannot confirm at its maximum. The twin's
 * clock is stepped by hand. Each BMC is reached through a small HTTP relay of its own that counts
 * the connections and requests it sees (the server side of the bound) and can drop or refuse the
 * next requests, for the retry cases.
 */
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type RunningSim, startSim, WORK_COMPUTE } from "@flightdeck/sim";
import {
  type CapDriver,
  type CapReading,
  createReconciler,
  createRedfishCapDriver,
  EnforceError,
  type Reconciler,
  type ReconcilerOptions,
} from "../src/index.ts";

const LAB = fileURLToPath(new URL("../../../examples/factories/lab.yaml", import.meta.url));
const H100_MAX_WATTS = 700;

/** One BMC's relay: what it saw, and faults to inject into the next requests. */
interface Relay {
  url: string;
  open: number;
  maxOpen: number;
  inFlight: number;
  maxInFlight: number;
  requests: string[];
  /** The next `drop` requests lose their connection, the next `hang` get no answer, the next `unavailable` a 503. */
  drop: number;
  hang: number;
  unavailable: number;
  close(): Promise<void>;
}

function startRelay(upstream: string): Promise<Relay> {
  const relay: Relay = {
    url: "",
    open: 0,
    maxOpen: 0,
    inFlight: 0,
    maxInFlight: 0,
    requests: [],
    drop: 0,
    hang: 0,
    unavailable: 0,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    relay.requests.push(`${req.method} ${req.url}`);
    if (relay.drop > 0) {
      relay.drop--;
      req.socket.destroy();
      return;
    }
    if (relay.hang > 0) {
      relay.hang--;
      return;
    }
    if (relay.unavailable > 0) {
      relay.unavailable--;
      res.writeHead(503, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { code: "Base.1.16.0.ServiceTemporarilyUnavailable", message: "busy" } }),
      );
      return;
    }
    relay.inFlight++;
    relay.maxInFlight = Math.max(relay.maxInFlight, relay.inFlight);
    let done = false;
    const finish = () => {
      if (!done) relay.inFlight--;
      done = true;
    };
    const up = request(
      `${upstream}${req.url}`,
      { method: req.method, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("end", finish);
      },
    );
    up.on("error", () => {
      finish();
      req.socket.destroy();
    });
    req.pipe(up);
  });
  server.on("connection", (socket) => {
    relay.open++;
    relay.maxOpen = Math.max(relay.maxOpen, relay.open);
    socket.on("close", () => relay.open--);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      relay.close = () =>
        new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        });
      resolve(relay);
    }),
  );
}

let sim: RunningSim;
const relays = new Map<string, Relay>();
const nodes: string[] = [];

/** A GPU's slot in the twin. */
const slotOf = (node: string, ordinal: number): number =>
  sim.state.topo.nodeGpuStart[sim.state.topo.nodeSlotByName.get(node)!]! + ordinal;

/** The node's GPU ids: `gpu:NODE/0` … */
function gpusOf(node: string): string[] {
  const n = sim.state.topo.nodeSlotByName.get(node)!;
  const count = sim.state.topo.nodeGpuStart[n + 1]! - sim.state.topo.nodeGpuStart[n]!;
  return Array.from({ length: count }, (_, i) => `gpu:${node}/${i}`);
}

/** Nodes whose GPUs all run compute-bound work: they draw enough for a cap to bite. */
function computeNodes(): string[] {
  const { topo, workload } = sim.state;
  return nodes.filter((name) => {
    const n = topo.nodeSlotByName.get(name)!;
    const start = topo.nodeGpuStart[n]!;
    const end = topo.nodeGpuStart[n + 1]!;
    for (let g = start; g < end; g++) if (workload.kind[g] !== WORK_COMPUTE) return false;
    return end > start;
  });
}

/** The SetPoint a GPU's EnvironmentMetrics shows, read straight from the twin. */
async function setPointOf(node: string, ordinal: number): Promise<number> {
  const uri = `${sim.url}/bmc/${node}/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_SXM_${ordinal}/EnvironmentMetrics`;
  const body = (await (await fetch(uri)).json()) as { PowerLimitWatts: { SetPoint: number } };
  return body.PowerLimitWatts.SetPoint;
}

async function injectFault(kind: string, target: string, durationSeconds: number): Promise<void> {
  const res = await fetch(`${sim.url}/sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind, target, durationSeconds }),
  });
  assert.equal(res.status, 201, await res.text());
}

const driverOptions = { bmcUrl: (node: string) => `${relays.get(node)!.url}/bmc/${node}`, retryDelayMs: 5 };
const drivers: CapDriver[] = [];

/** A driver through the relays and a reconciler on the twin's clock. */
function enforcer(options: Partial<ReconcilerOptions> = {}): Reconciler {
  const driver = createRedfishCapDriver(driverOptions);
  drivers.push(driver);
  return createReconciler({ driver, now: () => sim.state.timeSeconds * 1000, ...options });
}

const decision = (targets: readonly string[], watts: number) =>
  new Map(targets.map((t) => [t, watts] as [string, number]));

describe("enforcement against the twin's BMCs", () => {
  before(async () => {
    // A speed this low never ticks on its own: the tests step the clock.
    sim = await startSim({ factoryFile: LAB, port: 0, seed: 1, speed: 1e-6 });
    sim.step(5);
    nodes.push(
      ...sim.state.topo.nodeNames.filter(
        (_, n) => sim.state.topo.nodeGpuStart[n + 1]! > sim.state.topo.nodeGpuStart[n]!,
      ),
    );
    for (const node of nodes) relays.set(node, await startRelay(sim.url));
  });
  after(async () => {
    for (const d of drivers) d.close();
    for (const r of relays.values()) await r.close();
    await sim?.stop();
  });
  beforeEach(async () => {
    // Each test's connections are its own: the last test's drivers let theirs go first.
    for (const d of drivers.splice(0)) d.close();
    const end = Date.now() + 2000;
    while ([...relays.values()].some((r) => r.open > 0) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 5));
    for (const r of relays.values()) {
      r.maxOpen = r.open;
      r.maxInFlight = 0;
      r.requests.length = 0;
    }
  });

  it("pushes caps, confirms them by read-back, and the twin's draw falls under them after the control delay", async () => {
    const node = computeNodes()[0]!;
    const gpus = gpusOf(node);
    const slots = gpus.map((_, i) => slotOf(node, i));
    const capWatts = 400;
    assert.ok(
      slots.some((g) => sim.state.gpu.powerWatts[g]! > capWatts + 50),
      "the node draws well above the cap before",
    );
    const reconciler = enforcer();
    const result = await reconciler.reconcile(decision(gpus, capWatts));
    assert.equal(result.complete, true, JSON.stringify([...result.statuses]));
    assert.deepEqual(result.confirmed, gpus);
    assert.equal(result.writes, gpus.length);
    for (const g of gpus) {
      const s = result.statuses.get(g)!;
      assert.equal(s.state, "confirmed");
      assert.equal(s.confirmedWatts, capWatts);
      assert.equal(s.minWatts, 200);
      assert.equal(s.maxWatts, H100_MAX_WATTS);
      // Confirmed, but the BMC acts after its control delay: it counts at its maximum until then.
      assert.equal(reconciler.effectiveCapWatts(g, H100_MAX_WATTS), H100_MAX_WATTS);
    }
    sim.step(3);
    for (const g of slots)
      assert.ok(sim.state.gpu.powerWatts[g]! <= capWatts + 0.5, `${sim.state.gpu.powerWatts[g]} W`);
    for (const g of gpus) assert.equal(reconciler.effectiveCapWatts(g, H100_MAX_WATTS), capWatts);

    // The same decision again: nothing differs, nothing is sent.
    const again = await reconciler.reconcile(decision(gpus, capWatts));
    assert.equal(again.complete, true);
    assert.equal(again.writes + again.reads, 0);
    assert.equal(again.pass, 2);
  });

  it("observes before writing: a cap the BMC already holds is confirmed without a write", async () => {
    const node = computeNodes()[0]!;
    const gpus = gpusOf(node);
    const fresh = enforcer();
    const result = await fresh.reconcile(decision(gpus, 400));
    assert.equal(result.complete, true);
    assert.equal(result.writes, 0);
    assert.equal(result.reads, gpus.length);
  });

  it("an out-of-range cap is refused with the BMC's DMTF message, not retried, and nothing changes", async () => {
    const node = computeNodes()[1]!;
    const [g0, g1] = gpusOf(node) as [string, string];
    const reconciler = enforcer();
    assert.equal(
      (
        await reconciler.reconcile(
          new Map([
            [g0, 500],
            [g1, 450],
          ]),
        )
      ).complete,
      true,
    );
    sim.step(3);
    assert.equal(reconciler.effectiveCapWatts(g0, H100_MAX_WATTS), 500);
    relays.get(node)!.requests.length = 0;

    const result = await reconciler.reconcile(
      new Map([
        [g0, 5000],
        [g1, 450],
      ]),
    );
    assert.equal(result.complete, false);
    assert.deepEqual(result.failed, [g0]);
    assert.deepEqual(result.confirmed, [g1]);
    const s = result.statuses.get(g0)!;
    assert.equal(s.state, "failed");
    assert.equal(s.errorCode, "refused");
    assert.ok(
      s.messageIds?.some((id) => id.endsWith(".PropertyValueOutOfRange")),
      JSON.stringify(s),
    );
    assert.match(s.error!, /PropertyValueOutOfRange/);
    // Nothing changed: the cap confirmed before is still in force, and still counts.
    assert.equal(s.confirmedWatts, 500);
    assert.equal(await setPointOf(node, 0), 500);
    assert.equal(reconciler.effectiveCapWatts(g0, H100_MAX_WATTS), 500);
    const patches = relays
      .get(node)!
      .requests.filter((r) => r.startsWith("PATCH") && r.includes("GPU_SXM_0/"));
    assert.equal(patches.length, 1, "a 4xx is not retried");

    // A reconciler that has never seen the GPU reads it first: after the refusal, what it read stands.
    const fresh = await enforcer().reconcile(new Map([[g0, 100]]));
    assert.equal(fresh.statuses.get(g0)!.errorCode, "refused");
    assert.equal(fresh.statuses.get(g0)!.confirmedWatts, 500);
  });

  it("a BMC that stops answering: its caps fail, count at their maximum, and converge once it is back", async () => {
    const [down, up] = computeNodes().slice(2, 4) as [string, string];
    const reconciler = enforcer();
    const first = await reconciler.reconcile(decision([...gpusOf(down), ...gpusOf(up)], 450));
    assert.equal(first.complete, true);
    sim.step(3);
    assert.equal(reconciler.effectiveCapWatts(`gpu:${down}/0`, H100_MAX_WATTS), 450);

    await injectFault("bmcUnreachable", `node:${down}`, 10);
    relays.get(down)!.requests.length = 0;
    const desired = decision([...gpusOf(down), ...gpusOf(up)], 420);
    const result = await reconciler.reconcile(desired);
    assert.deepEqual(result.failed, gpusOf(down));
    assert.deepEqual(result.confirmed, gpusOf(up));
    for (const g of gpusOf(down)) {
      const s = result.statuses.get(g)!;
      assert.equal(s.errorCode, "unreachable", s.error);
      assert.equal(s.confirmedWatts, undefined);
      assert.equal(reconciler.effectiveCapWatts(g, H100_MAX_WATTS), H100_MAX_WATTS);
    }
    // The first try and two retries for the two GPUs tried at once; the others are not tried.
    assert.equal(relays.get(down)!.requests.length, 3 * 2);
    assert.match(result.statuses.get(`gpu:${down}/7`)!.error!, /not tried/);
    assert.equal(reconciler.status(`gpu:${down}/7`)?.state, "failed");

    sim.step(11);
    const healed = await reconciler.reconcile(desired);
    assert.equal(healed.complete, true, JSON.stringify([...healed.statuses]));
    sim.step(3);
    for (const g of gpusOf(down)) assert.equal(reconciler.effectiveCapWatts(g, H100_MAX_WATTS), 420);
  });

  it("a BMC that stops answering while its caps hold is noticed by the heartbeat in the next pass", async () => {
    const [down, up] = computeNodes().slice(5, 7) as [string, string];
    const reconciler = enforcer({ heartbeatMs: 1000 });
    const desired = decision([...gpusOf(down), ...gpusOf(up)], 440);
    assert.equal((await reconciler.reconcile(desired)).complete, true);
    sim.step(3);
    // Nothing to change and every cap fresh: one read per BMC, the stalest cap of each.
    const steady = await reconciler.reconcile(desired);
    assert.equal(steady.complete, true);
    assert.deepEqual([steady.reads, steady.writes], [2, 0]);
    // Within the heartbeat nothing is read.
    assert.deepEqual([(await reconciler.reconcile(desired)).reads], [0]);

    sim.step(3);
    await injectFault("bmcUnreachable", `node:${down}`, 10);
    relays.get(down)!.requests.length = 0;
    const noticed = await reconciler.reconcile(desired);
    assert.deepEqual(noticed.failed, gpusOf(down));
    assert.deepEqual(noticed.confirmed, gpusOf(up));
    for (const g of gpusOf(down)) {
      assert.equal(noticed.statuses.get(g)!.errorCode, "unreachable");
      assert.equal(reconciler.effectiveCapWatts(g, H100_MAX_WATTS), H100_MAX_WATTS);
    }
    // One cap asked (a first try and two retries), no write.
    assert.equal(relays.get(down)!.requests.length, 3);
    assert.equal(noticed.writes, 0);

    sim.step(11);
    const healed = await reconciler.reconcile(desired);
    assert.equal(healed.complete, true, JSON.stringify([...healed.statuses]));
  });

  it("retries dropped connections, timeouts and 503 answers", async () => {
    const node = computeNodes()[4]!;
    const relay = relays.get(node)!;
    const reconciler = enforcer();
    relay.drop = 2;
    const first = await reconciler.reconcile(new Map([[`gpu:${node}/0`, 480]]));
    assert.equal(first.complete, true, JSON.stringify([...first.statuses]));
    relay.unavailable = 2;
    const second = await reconciler.reconcile(new Map([[`gpu:${node}/0`, 470]]));
    assert.equal(second.complete, true, JSON.stringify([...second.statuses]));
    assert.equal(relay.drop + relay.unavailable, 0);
    assert.equal(await setPointOf(node, 0), 470);

    const impatient = createRedfishCapDriver({ ...driverOptions, timeoutMs: 200 });
    drivers.push(impatient);
    relay.hang = 1;
    const late = await createReconciler({ driver: impatient }).reconcile(new Map([[`gpu:${node}/1`, 490]]));
    assert.equal(late.complete, true, JSON.stringify([...late.statuses]));
    assert.equal(relay.hang, 0);

    relay.unavailable = 3; // more than the two retries
    const third = await reconciler.reconcile(new Map([[`gpu:${node}/0`, 460]]));
    assert.equal(third.statuses.get(`gpu:${node}/0`)!.errorCode, "bmc-error");
    assert.match(third.statuses.get(`gpu:${node}/0`)!.error!, /503/);
  });

  it("keeps at most two connections and two requests per BMC while every GPU of the factory is capped", async () => {
    const all = nodes.flatMap(gpusOf);
    const reconciler = enforcer({ concurrency: 256 });
    const result = await reconciler.reconcile(decision(all, 550));
    assert.equal(result.complete, true, JSON.stringify(result.failed));
    assert.equal(result.confirmed.length, all.length);
    for (const [node, r] of relays) {
      assert.ok(r.maxOpen <= 2, `${node}: ${r.maxOpen} connections`);
      assert.ok(r.maxInFlight <= 2, `${node}: ${r.maxInFlight} requests in flight`);
    }
    assert.ok(
      [...relays.values()].some((r) => r.maxInFlight === 2),
      "two requests in flight to one BMC at some point",
    );
    assert.ok(
      [...relays.values()].filter((r) => r.maxInFlight > 0).length === nodes.length,
      "every BMC was worked on",
    );
  });

  it("sets a node's total GPU power through its chassis control", async () => {
    const node = computeNodes()[5]!;
    const gpus = gpusOf(node);
    const reconciler = enforcer();
    const totalWatts = 500 * gpus.length;
    const result = await reconciler.reconcile(new Map([[`node:${node}`, totalWatts]]));
    assert.equal(result.complete, true, JSON.stringify([...result.statuses]));
    const s = result.statuses.get(`node:${node}`)!;
    assert.equal(s.minWatts, 200 * gpus.length);
    assert.equal(s.maxWatts, H100_MAX_WATTS * gpus.length);
    sim.step(3);
    for (let i = 0; i < gpus.length; i++) assert.equal(sim.state.gpu.capWatts[slotOf(node, i)], 500);
  });

  it("refuses a bad decision whole, sending nothing", async () => {
    const node = nodes[0]!;
    const reconciler = enforcer();
    const bad = new Map([
      [`gpu:${node}/0`, 500],
      ["rack:r01", 500],
      [`gpu:${node}/1`, Number.NaN],
    ]);
    await assert.rejects(reconciler.reconcile(bad), (err: unknown) => {
      assert.ok(err instanceof EnforceError);
      assert.equal(err.code, "bad-decision");
      assert.match(err.message, /rack:r01/);
      assert.match(err.message, /NaN/);
      return true;
    });
    assert.equal(relays.get(node)!.requests.length, 0);
  });
});

/** A driver whose read-back shows a write only `lagReads` reads later, as a slow BMC may. */
function laggingDriver(lagReads: number) {
  const setPoints = new Map<string, number>();
  const due = new Map<string, { watts: number; reads: number }>();
  let active = 0;
  const driver: CapDriver & {
    maxActive: number;
    writes: number;
    setPoints: Map<string, number>;
    refuse: Set<string>;
    log: string[];
  } = {
    maxActive: 0,
    writes: 0,
    setPoints,
    refuse: new Set(),
    log: [],
    controllerOf: (t) => t.split(/[:/]/)[1]!,
    async read(t): Promise<CapReading> {
      active++;
      driver.maxActive = Math.max(driver.maxActive, active);
      await new Promise((r) => setTimeout(r, 1));
      active--;
      const d = due.get(t);
      if (d !== undefined && d.reads-- <= 0) {
        setPoints.set(t, d.watts);
        due.delete(t);
      }
      return { setPointWatts: setPoints.get(t) ?? 700, minWatts: 200, maxWatts: 700, readingWatts: 300 };
    },
    async write(t, watts) {
      driver.writes++;
      driver.log.push(`${t}=${watts}`);
      if (driver.refuse.has(t))
        throw new EnforceError("refused", t, "answered HTTP 400: PropertyValueOutOfRange");
      due.set(t, { watts, reads: lagReads });
    },
    close() {},
  };
  return driver;
}

describe("the reconciler's passes", () => {
  it("a cap that does not read back yet is pending, counts at its maximum, and is confirmed on a later pass", async () => {
    const driver = laggingDriver(1);
    const reconciler = createReconciler({ driver, settleMs: 0 });
    const first = await reconciler.reconcile(new Map([["gpu:n1/0", 400]]));
    assert.deepEqual(first.pending, ["gpu:n1/0"]);
    assert.equal(reconciler.effectiveCapWatts("gpu:n1/0", 700), 700);
    const second = await reconciler.reconcile(new Map([["gpu:n1/0", 400]]));
    assert.deepEqual(second.confirmed, ["gpu:n1/0"]);
    assert.equal(second.writes, 0, "a pending cap is read again, not written again");
    assert.equal(reconciler.effectiveCapWatts("gpu:n1/0", 700), 400);
  });

  it("writes a pending cap again after `rewriteAfterMs`, and reads a confirmed one again after `resyncMs`", async () => {
    const driver = laggingDriver(1000);
    let nowMs = 0;
    const reconciler = createReconciler({ driver, now: () => nowMs, rewriteAfterMs: 5000, resyncMs: 30_000 });
    const desired = new Map([["gpu:n1/0", 400]]);
    assert.deepEqual((await reconciler.reconcile(desired)).pending, ["gpu:n1/0"]);
    nowMs = 1000;
    assert.equal((await reconciler.reconcile(desired)).writes, 0);
    nowMs = 6000;
    assert.equal((await reconciler.reconcile(desired)).writes, 1);

    // Someone else changes the cap: the next resync sees it and puts the decision back.
    driver.setPoints.set("gpu:n1/0", 400);
    nowMs = 7000;
    assert.equal((await reconciler.reconcile(desired)).complete, true);
    driver.setPoints.set("gpu:n1/0", 650);
    nowMs = 20_000;
    const quiet = await reconciler.reconcile(desired);
    assert.equal(quiet.reads + quiet.writes, 0, "within resyncMs nothing is read");
    nowMs = 40_000;
    const resync = await reconciler.reconcile(desired);
    assert.equal(resync.writes, 1);
    assert.equal(reconciler.effectiveCapWatts("gpu:n1/0", 700), 700, "not read back yet, and 650 before it");
  });

  it("lowers caps first and raises others only once the lowered ones are confirmed and settled", async () => {
    const driver = laggingDriver(0);
    let nowMs = 0;
    const reconciler = createReconciler({ driver, now: () => nowMs, settleMs: 2000 });
    assert.equal(
      (
        await reconciler.reconcile(
          new Map([
            ["gpu:n1/0", 500],
            ["gpu:n2/0", 400],
          ]),
        )
      ).complete,
      true,
    );
    nowMs = 3000;
    // Move 100 W from n1 to n2: n2's raise waits until n1's lower cap has taken effect.
    const move = new Map([
      ["gpu:n2/0", 500],
      ["gpu:n1/0", 400],
    ]);
    const first = await reconciler.reconcile(move);
    assert.deepEqual(first.confirmed, ["gpu:n1/0"]);
    assert.deepEqual(first.pending, ["gpu:n2/0"]);
    assert.deepEqual(first.statuses.get("gpu:n2/0")!.waitingFor, ["gpu:n1/0"]);
    assert.equal(
      reconciler.effectiveCapWatts("gpu:n1/0", 700),
      500,
      "settling: counts at the cap it replaced",
    );
    assert.equal(reconciler.effectiveCapWatts("gpu:n2/0", 700), 400);
    nowMs = 5500;
    const second = await reconciler.reconcile(move);
    assert.equal(second.complete, true);
    assert.deepEqual(driver.log.slice(-2), ["gpu:n1/0=400", "gpu:n2/0=500"]);

    // A lowered cap that is refused holds the raise back.
    driver.refuse.add("gpu:n2/0");
    const stuck = await reconciler.reconcile(
      new Map([
        ["gpu:n1/0", 600],
        ["gpu:n2/0", 300],
      ]),
    );
    assert.deepEqual(stuck.failed, ["gpu:n2/0"]);
    assert.deepEqual(stuck.statuses.get("gpu:n1/0")!.waitingFor, ["gpu:n2/0"]);
    assert.equal(driver.log.at(-1), "gpu:n2/0=300");
  });

  it("runs one pass at a time; decisions that arrive meanwhile share one next pass, the latest winning", async () => {
    const driver = laggingDriver(0);
    const reconciler = createReconciler({ driver, settleMs: 0 });
    const a = reconciler.reconcile(new Map([["gpu:n1/0", 400]]));
    const b = reconciler.reconcile(new Map([["gpu:n1/0", 450]]));
    const c = reconciler.reconcile(new Map([["gpu:n1/0", 500]]));
    assert.equal(b, c);
    const [ra, rc] = await Promise.all([a, c]);
    assert.equal(ra.pass, 1);
    assert.equal(rc.pass, 2);
    assert.equal(rc.statuses.get("gpu:n1/0")!.confirmedWatts, 500);
    assert.equal(driver.writes, 2);
  });

  it("works on at most `perController` targets of one controller at once", async () => {
    const driver = laggingDriver(0);
    const reconciler = createReconciler({ driver, settleMs: 0 });
    const targets = Array.from({ length: 16 }, (_, i) => `gpu:n1/${i}`);
    const result = await reconciler.reconcile(new Map(targets.map((t) => [t, 300])));
    assert.equal(result.complete, true);
    assert.equal(driver.maxActive, 2);
  });
});
