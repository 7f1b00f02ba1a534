/** Reservations hold nodes and power for their window, steer other work away, and are used up by their job. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BudgetOptions, deriveBudgets } from "@flightdeck/power";
import { createPlacementEngine, type Decision, type Placed, PlacementError } from "../src/index.ts";
import { clock, lab } from "./factories.ts";

const HOUR = 3_600_000;

function setup(budget: BudgetOptions = {}) {
  const time = clock();
  const engine = createPlacementEngine({ build: lab, tree: deriveBudgets(lab, budget), now: time.now });
  return { time, engine, t0: time.now() };
}
const nodesOf = (d: Decision) => {
  assert.ok(d.status === "placed" || d.status === "reserved", JSON.stringify(d));
  return (d as Placed).nodes;
};
const rackOf = (node: string) => node.replace(/-dgx\d+$/, "");

describe("reservations", () => {
  it("hold nodes for their window: open-ended work may not use them, work that ends before may", () => {
    const { engine, t0 } = setup();
    const r = engine.reserve({ id: "r", org: "acme", gpus: 16, startMs: t0 + HOUR, endMs: t0 + 3 * HOUR });
    assert.equal(r.status, "reserved");
    const reserved = new Set(nodesOf(r));
    assert.equal(reserved.size, 2);
    assert.equal((r as Placed).startMs, t0 + HOUR);
    // Open-ended work overlaps the window: 48 free GPUs, not 64.
    const open = engine.plan({ id: "open", org: "acme", gpus: 64 });
    assert.equal(open.status, "queued");
    assert.match((open as { reason: string }).reason, /needs 64 GPUs; 48 free/);
    // Work that ends before the window may use every node.
    assert.equal(engine.plan({ id: "short", org: "acme", gpus: 64, durationSeconds: 1800 }).status, "placed");
    // And work after it too.
    const later = engine.plan({
      id: "later",
      org: "acme",
      gpus: 64,
      startMs: t0 + 3 * HOUR,
      durationSeconds: 60,
    });
    assert.equal(later.status, "placed");
    assert.deepEqual(
      engine.reservations().map((h) => [h.id, h.nodes.length]),
      [["r", 2]],
    );
  });

  it("steer new work away from the racks of upcoming reservations", () => {
    const { engine, t0 } = setup();
    const r = engine.reserve({ id: "r", org: "acme", gpus: 8, startMs: t0 + HOUR, endMs: t0 + 2 * HOUR });
    const rack = rackOf(nodesOf(r)[0]!);
    // A short job that ends before the reservation could go anywhere; it goes to the other rack.
    const short = engine.place({ id: "s", org: "acme", gpus: 8, durationSeconds: 600 });
    assert.notEqual(rackOf(nodesOf(short)[0]!), rack);
    // Cancelled, the reservation no longer steers: best fit puts the next job beside the short one.
    assert.ok(engine.cancelReservation("r"));
    const next = engine.place({ id: "n", org: "acme", gpus: 8, durationSeconds: 600 });
    assert.equal(rackOf(nodesOf(next)[0]!), rackOf(nodesOf(short)[0]!));
  });

  it("hold power: work in the window is refused by the level the reservation fills", () => {
    // Floor PDU at 80 kW: room for one 16-GPU max-p job (70.4 + 8 kW), not two.
    const { engine, t0 } = setup({ overrides: { "power:fpdu-a1": { watts: 80_000 } } });
    assert.equal(
      engine.reserve({ id: "r", org: "globex", gpus: 16, startMs: t0 + HOUR, endMs: t0 + 2 * HOUR }).status,
      "reserved",
    );
    const open = engine.plan({ id: "open", org: "acme", gpus: 16 });
    assert.equal(open.status, "queued");
    assert.match(
      (open as { reason: string }).reason,
      /^floor PDU fpdu-a1 \(row hall1\/row1, side A\) would reach 108%/,
    );
    assert.equal(engine.plan({ id: "short", org: "acme", gpus: 16, durationSeconds: 1800 }).status, "placed");
    // A second reservation in the same window does not fit; one in another window does.
    const clash = engine.reserve({
      id: "r2",
      org: "acme",
      gpus: 16,
      startMs: t0 + HOUR,
      endMs: t0 + 2 * HOUR,
    });
    assert.equal(clash.status, "queued");
    assert.equal(
      engine.reserve({ id: "r3", org: "acme", gpus: 16, startMs: t0 + 2 * HOUR, endMs: t0 + 3 * HOUR })
        .status,
      "reserved",
    );
  });

  it("are used up by the job that runs on them", () => {
    const { engine, t0, time } = setup();
    const r = engine.reserve({ id: "r", org: "acme", gpus: 16, startMs: t0 + HOUR, endMs: t0 + 2 * HOUR });
    time.advance(HOUR);
    const job = engine.place({ id: "job", org: "acme", gpus: 16, reservation: "r" });
    assert.deepEqual(nodesOf(job), nodesOf(r));
    assert.equal(engine.reservations().length, 0);
    assert.deepEqual(
      engine.holdings().map((h) => h.id),
      ["job"],
    );
    const wrongOrg = () => engine.place({ id: "x", org: "globex", gpus: 8, reservation: "r" });
    assert.throws(wrongOrg, (e: unknown) => e instanceof PlacementError && e.code === "unknown-reservation");
  });

  it("lapse after their window and refuse bad windows", () => {
    const { engine, t0, time } = setup();
    engine.reserve({ id: "r", org: "acme", gpus: 8, startMs: t0, endMs: t0 + HOUR });
    time.advance(HOUR);
    assert.equal(engine.reservations().length, 0);
    const bad = (startMs: number, endMs: number) => {
      try {
        engine.reserve({ id: "b", org: "acme", gpus: 8, startMs, endMs });
      } catch (err) {
        return err instanceof PlacementError ? `${err.code} ${err.field}` : String(err);
      }
      return "none";
    };
    assert.equal(bad(t0 + 2 * HOUR, t0 + HOUR), "bad-request endMs");
    assert.equal(bad(t0 - 2 * HOUR, t0 - HOUR), "bad-request endMs");
    assert.equal(bad(Number.NaN, t0), "bad-request startMs");
    engine.reserve({ id: "dup", org: "acme", gpus: 8, startMs: t0 + HOUR, endMs: t0 + 2 * HOUR });
    assert.throws(
      () => engine.reserve({ id: "dup", org: "acme", gpus: 8, startMs: t0 + HOUR, endMs: t0 + 2 * HOUR }),
      (e: unknown) => e instanceof PlacementError && e.code === "conflict",
    );
  });
});
