/**
 * The four ways the power outcome bench runs a factory under a facility budget:
 *
 * - `none`: no management; every GPU keeps its maximum cap (a job's own MAX-Q profile stays).
 * - `uniform`: reactive uniform capping. When the facility meter reads over the budget, every
 *   GPU gets the same cap, water-filled on the measured draw to bring the site 3% under; below
 *   90% of the budget the cap rises by 5% of the range once the last order has landed.
 * - `maxq`: MAX-Q everywhere, set once before the work starts (85% of each GPU's maximum).
 * - `flightdeck`: the power controller with the facility target at the budget, the jobs it
 *   admitted (a training job, or one inference replica each) and the twin's meters each tick.
 *
 * Every cap goes through the BMC's control delay: it acts `BMC_CAP_DELAY_SECONDS` after it is
 * ordered, at the start of a tick, as a Redfish PATCH on the twin does.
 */
import type { BuildResult } from "@flightdeck/model";
import { type ControlledJob, decodeCurve, MAX_Q_CAP_FRACTION, PowerController } from "@flightdeck/power";
import { BMC_CAP_DELAY_SECONDS, type FactoryState, type JobEngine, setGpuCapWatts } from "@flightdeck/sim";
import { facilityWatts } from "./power-outcome-levels.ts";

export const POLICIES = ["none", "uniform", "maxq", "flightdeck"] as const;
export type PolicyName = (typeof POLICIES)[number];

/** Caps ordered through the BMCs: each acts after the control delay, in the order sent. */
export class CapLine {
  private readonly queue: { gpu: number; watts: number; at: number }[] = [];
  private readonly ordered: Float64Array;

  constructor(readonly state: FactoryState) {
    this.ordered = Float64Array.from(state.gpu.capWatts);
  }

  /** Orders `watts` for GPU slot `gpu` now, unless that is already its last order. */
  order(gpu: number, watts: number): void {
    if (Math.abs(this.ordered[gpu]! - watts) < 0.5) return;
    this.ordered[gpu] = watts;
    this.queue.push({ gpu, watts, at: this.state.timeSeconds + BMC_CAP_DELAY_SECONDS });
  }

  /** Whether every order has acted. */
  get settled(): boolean {
    return this.queue.length === 0;
  }

  /** Applies the orders whose delay has passed; call before each tick. */
  applyDue(): void {
    let kept = 0;
    for (const o of this.queue) {
      if (o.at <= this.state.timeSeconds) setGpuCapWatts(this.state, o.gpu, o.watts);
      else this.queue[kept++] = o;
    }
    this.queue.length = kept;
  }
}

/** What a policy sees: the twin, its jobs, the cap line and the budget. */
export interface PolicyContext {
  readonly build: BuildResult;
  readonly state: FactoryState;
  readonly engine: JobEngine;
  readonly caps: CapLine;
  /** The facility budget at the feeds, watts. */
  readonly budgetWatts: number;
  /** The jobs the control plane admitted, with their GPUs (model ids) and weights. */
  readonly jobs: readonly ControlledJob[];
}

/** A policy: called once before the first tick and after every tick. */
export interface Policy {
  step(ctx: PolicyContext): void;
}

export function createPolicy(name: PolicyName, ctx: PolicyContext, variant?: FlightdeckVariant): Policy {
  switch (name) {
    case "none":
      return { step: () => {} };
    case "maxq":
      return maxq(ctx);
    case "uniform":
      return uniform(ctx);
    case "flightdeck":
      return flightdeck(ctx, variant ?? {});
  }
}

function maxq(ctx: PolicyContext): Policy {
  const { state } = ctx;
  for (let g = 0; g < state.topo.gpuCount; g++) {
    const { spec } = state.topo.models[state.topo.gpuModel[g]!]!;
    setGpuCapWatts(state, g, MAX_Q_CAP_FRACTION * spec.maxWatts);
  }
  return { step: () => {} };
}

const UNIFORM_AIM = 0.97;
const UNIFORM_RELEASE_BELOW = 0.9;
const UNIFORM_RELEASE_STEP = 0.05;

function uniform(ctx: PolicyContext): Policy {
  const { state, caps, budgetWatts } = ctx;
  const n = state.topo.gpuCount;
  const spec = (g: number) => state.topo.models[state.topo.gpuModel[g]!]!.spec;
  const maxWatts = spec(0).maxWatts;
  const minWatts = spec(0).minWatts;
  let cap = maxWatts;
  const set = (watts: number) => {
    cap = Math.min(maxWatts, Math.max(minWatts, watts));
    for (let g = 0; g < n; g++) caps.order(g, cap);
  };
  return {
    step() {
      const site = facilityWatts(state);
      const draw = state.gpu.powerWatts;
      if (site > budgetWatts) {
        // The level L with Σ min(draw, L) = Σ draw − excess: GPUs under L lose nothing.
        let total = 0;
        for (let g = 0; g < n; g++) total += draw[g]!;
        const want = total - (site - UNIFORM_AIM * budgetWatts);
        let lo = 0;
        let hi = maxWatts;
        for (let i = 0; i < 40; i++) {
          const mid = (lo + hi) / 2;
          let s = 0;
          for (let g = 0; g < n; g++) s += Math.min(draw[g]!, mid);
          if (s > want) hi = mid;
          else lo = mid;
        }
        if (lo < cap) set(lo);
      } else if (site < UNIFORM_RELEASE_BELOW * budgetWatts && cap < maxWatts && caps.settled)
        set(cap + UNIFORM_RELEASE_STEP * (maxWatts - minWatts));
    },
  };
}

/** Prototype changes to the controller's input, measured with `--variants`. */
export interface FlightdeckVariant {
  /** The supplies' efficiency the controller plans with (its default is its own assumption). */
  psuEfficiency?: number;
  /** The inference curve's knee and its gain from there to the maximum cap (`decodeCurve`). */
  decode?: [knee: number, gainAbove: number];
  /** Plan the hosts' other draw from meters instead of their nameplate. */
  otherDraw?: "measured";
}

function flightdeck(ctx: PolicyContext, variant: FlightdeckVariant): Policy {
  const { build, state, caps, budgetWatts } = ctx;
  const { topo } = state;
  const controller = new PowerController({
    build,
    ...(variant.psuEfficiency !== undefined ? { budget: { psuEfficiency: variant.psuEfficiency } } : {}),
    ...(variant.decode !== undefined ? { curves: { inference: decodeCurve(...variant.decode) } } : {}),
    ...(variant.otherDraw !== undefined ? { otherDraw: variant.otherDraw } : {}),
  });
  controller.setFacilityTarget({ watts: budgetWatts });
  controller.setJobs(ctx.jobs);
  const gpuIds = Array.from(topo.gpuEntity, (e) => build.graph.at(e).id);
  const gpuSlot = new Map(gpuIds.map((id, g) => [id, g]));
  const feeds: number[] = [];
  for (let d = 0; d < topo.powerCount; d++)
    if (topo.powerUpStart[d + 1] === topo.powerUpStart[d]) feeds.push(d);
  return {
    step() {
      const deviceWatts = new Map<string, number>();
      let site = 0;
      for (let d = 0; d < topo.powerCount; d++) deviceWatts.set(topo.powerIds[d]!, state.powerWatts[d]!);
      for (const d of feeds) site += state.powerWatts[d]!;
      deviceWatts.set("facility", site);
      const gpuDrawWatts = new Map<string, number>();
      const appliedCapWatts = new Map<string, number>();
      for (let g = 0; g < topo.gpuCount; g++) {
        gpuDrawWatts.set(gpuIds[g]!, state.gpu.powerWatts[g]!);
        appliedCapWatts.set(gpuIds[g]!, state.gpu.capWatts[g]!);
      }
      const decision = controller.observe({
        atMs: state.timeSeconds * 1000,
        deviceWatts,
        gpuDrawWatts,
        appliedCapWatts,
      });
      for (const [id, watts] of decision.capWatts) {
        const g = gpuSlot.get(id);
        if (g !== undefined) caps.order(g, watts);
      }
    },
  };
}
