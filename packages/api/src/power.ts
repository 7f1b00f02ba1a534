/**
 * The power service at run time: one controller (allocator + safety loop) over the current
 * factory, fed each interval with the telemetry's meters, the jobs discovery lists and the
 * facility target; its caps pushed to the BMCs through the reconciler and read back.
 *
 * The facility target is the lowest of what is in force now: the operator's target, the step of
 * the schedule that has begun, any demand-response event under way, and a building management
 * system's load target read over Modbus. A target change takes effect at once (it does not wait
 * for the next reading), and is refused whole when the running work could not fit at its minimum
 * caps. Every accepted change is audited.
 */

import {
  type BmsMap,
  type BmsReading,
  createBmsPoller,
  createModbusTcpClient,
  type ModbusClient,
} from "@flightdeck/integrations";
import { DEFAULT_INTERVAL_SECONDS, expandEndpoint } from "@flightdeck/model";
import {
  createPlacementEngine,
  type Decision,
  type Holding,
  type PlacementEngine,
  type PlacementRequest,
  type ReservationRequest,
} from "@flightdeck/placement";
import {
  type ControlDecision,
  type ControlledJob,
  createReconciler,
  createRedfishCapDriver,
  type GpuExplanation,
  type LevelStatus,
  type LimitOverride,
  PowerController,
  PowerError,
  type ProfilePolicy,
  type Reconciler,
  type SafetyAction,
} from "@flightdeck/power";
import type { Store } from "@flightdeck/store";
import type { CurrentFactory, FactoryState } from "./state.ts";
import type { Telemetry } from "./telemetry.ts";

export interface PowerServiceOptions {
  telemetry?: Telemetry;
  /** Where target changes are audited. */
  store?: Store;
  /** Push caps to the BMCs the endpoints name (default false: decide and explain only). */
  enforce?: boolean;
  /** The hosts' non-GPU draw budgets are planned with (default nameplate; see PowerController). */
  otherDraw?: "nameplate" | "measured";
  /** Loop period; default the endpoints' scrape interval. */
  intervalMs?: number;
  /** Run a pass only when `tick` is called (tests). */
  manual?: boolean;
  /** A building management system: `modbus://host:port` and its register map. */
  bms?: { url: string; map: BmsMap; intervalMs?: number };
  log?: (message: string) => void;
  now?: () => number;
}

/** A facility target as operators give it. */
export type TargetInput = { watts: number } | { fraction: number };

export interface ScheduleStep {
  /** From when (ms since the epoch) this target holds, until the next step. */
  atMs: number;
  target: TargetInput;
}

export interface DemandResponseEvent {
  id: string;
  startMs: number;
  endMs: number;
  target: TargetInput;
  reason: string;
}

/** What sets the target now. */
export type TargetSource = "operator" | "schedule" | "event" | "bms";

export interface TargetStatus {
  /** Watts in force now, undefined when no target applies. */
  watts: number | undefined;
  source: TargetSource | null;
  /** The event in force, when an event sets it. */
  eventId?: string;
  peakWatts: number;
  operator: TargetInput | null;
  schedule: readonly ScheduleStep[];
  events: readonly DemandResponseEvent[];
  bms: {
    url: string;
    loadTargetWatts?: number;
    facilityPowerWatts?: number;
    atMs?: number;
    error?: string;
  } | null;
}

/** One entry of the action log: a safety action, or a new allocation. */
export interface PowerLogEntry {
  atMs: number;
  kind: "safety" | "allocation" | "enforcement";
  text: string;
  gpu?: string;
  fromWatts?: number;
  capWatts?: number;
  rule?: string;
  level?: string;
}

/** A job as the service sees it. */
export interface PowerJob {
  id: string;
  org: string | null;
  kind: "training" | "inference";
  priority: number;
  gpus: number;
  /** The GPU ids it runs on. */
  gpuIds: string[];
  capWatts: number;
  profile: string | null;
  stoppedBy: string;
}

/** Thrown for a refused request; `status` is the HTTP status to answer. */
export class PowerRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const LOG_KEPT = 2_000;

export class PowerService {
  private controller: PowerController | undefined;
  private factory: CurrentFactory | undefined;
  private operator: TargetInput | null = null;
  private schedule: ScheduleStep[] = [];
  private events: DemandResponseEvent[] = [];
  private bmsReading: BmsReading | undefined;
  private bmsError: string | undefined;
  private bmsClient: ModbusClient | undefined;
  private bmsAbort: AbortController | undefined;
  private policy: ProfilePolicy | undefined;
  /** Operator limits per power device, below their rating × derating. */
  private overrides: Readonly<Record<string, LimitOverride>> = {};
  private reconciler: Reconciler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly log: PowerLogEntry[] = [];
  /** The target in watts last applied to the controller, to notice changes. */
  private appliedTarget: number | undefined | null = null;
  private jobsKey = "";
  private readonly now: () => number;
  private engine: PlacementEngine | undefined;
  /** Placements made through the API (held until released) and reservations, by id. */
  private readonly placed = new Map<string, { request: PlacementRequest; nodes: readonly string[] }>();
  private readonly reserved = new Map<string, ReservationRequest>();
  /** Jobs found running through discovery and adopted by the placement engine. */
  private adopted = new Set<string>();

  constructor(
    private readonly state: FactoryState,
    private readonly options: PowerServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.state.onChange((factory) => this.use(factory));
    if (this.state.factory) this.use(this.state.factory);
    const bms = this.options.bms;
    if (bms) {
      const url = new URL(bms.url);
      if (url.protocol !== "modbus:" && url.protocol !== "modbus+tcp:")
        throw new PowerRequestError(400, "bad-bms", `BMS ${bms.url}: expected modbus://host:port`);
      this.bmsClient = createModbusTcpClient({ host: url.hostname, port: Number(url.port || 502) });
      this.bmsAbort = new AbortController();
      const poller = createBmsPoller({
        client: this.bmsClient,
        map: bms.map,
        intervalMs: bms.intervalMs ?? 1000,
        onReading: (r) => this.onBms(r),
      });
      void poller.start(this.bmsAbort.signal).catch((err: Error) => {
        this.bmsError = err.message;
      });
    }
    if (!this.options.manual) {
      const interval = this.intervalMs();
      this.timer = setInterval(() => {
        this.tick().catch((err: Error) => this.options.log?.(`power: ${err.message}`));
      }, interval);
      this.timer.unref?.();
    }
  }

  private intervalMs(): number {
    return (
      this.options.intervalMs ??
      (this.factory?.build.endpoints.pdu?.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS) * 1000
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.bmsAbort?.abort();
    this.bmsClient?.close();
    await this.running;
  }

  private use(factory: CurrentFactory): void {
    try {
      let controller: PowerController;
      try {
        controller = new PowerController({
          build: factory.build,
          budget: { overrides: this.overrides },
          ...(this.policy ? { policy: this.policy } : {}),
          ...(this.options.otherDraw ? { otherDraw: this.options.otherDraw } : {}),
        });
      } catch (err) {
        // The new revision has no such device, or the limit no longer fits: start without them.
        this.options.log?.(
          `power: overrides dropped for revision ${factory.revision}: ${(err as Error).message}`,
        );
        this.overrides = {};
        controller = new PowerController({
          build: factory.build,
          ...(this.policy ? { policy: this.policy } : {}),
          ...(this.options.otherDraw ? { otherDraw: this.options.otherDraw } : {}),
        });
      }
      this.factory = factory;
      this.controller = controller;
      this.appliedTarget = null;
      this.jobsKey = "";
      this.reconciler = undefined;
      if (this.options.enforce && factory.build.endpoints.bmc) {
        const bmc = factory.build.endpoints.bmc;
        this.reconciler = createReconciler({
          driver: createRedfishCapDriver({
            bmcUrl: (node) => expandEndpoint(bmc.url, { node }),
            timeoutMs: bmc.timeoutSeconds * 1000,
          }),
          // Every BMC answers once per loop, so one that stops while its caps hold is noticed
          // within an interval (its GPUs then count at their maximum).
          heartbeatMs: this.intervalMs(),
          now: this.now,
        });
      }
      this.applyTarget();
      this.rebuildEngine();
    } catch (err) {
      this.options.log?.(`power: revision ${factory.revision}: ${(err as Error).message}`);
    }
  }

  /**
   * A placement engine over the controller's tree (a new target changes what fits), holding
   * again what the last one held: running jobs, API placements, reservations. A holding that no
   * longer fits is dropped and logged.
   */
  private rebuildEngine(): void {
    const controller = this.controller;
    if (!controller) return;
    const engine = createPlacementEngine({ build: controller.build, tree: controller.tree, now: this.now });
    this.engine = engine;
    this.adopted = new Set();
    this.adoptDiscovered();
    for (const [id, p] of this.placed)
      try {
        engine.commit(p.request, p.nodes);
      } catch (err) {
        this.placed.delete(id);
        this.record({
          atMs: this.now(),
          kind: "allocation",
          text: `placement ${id} dropped: ${(err as Error).message}`,
        });
      }
    for (const [id, r] of this.reserved) {
      const d = r.endMs > this.now() ? engine.reserve(r) : undefined;
      if (d?.status !== "reserved") {
        this.reserved.delete(id);
        this.record({
          atMs: this.now(),
          kind: "allocation",
          text: `reservation ${id} dropped: ${d && "reason" in d ? d.reason : "its window has passed"}`,
        });
      }
    }
  }

  /** Tells the placement engine of running jobs it does not hold yet, and of jobs that ended. */
  private adoptDiscovered(): void {
    const engine = this.engine;
    const telemetry = this.options.telemetry;
    if (!engine || !telemetry) return;
    const running = new Set<string>();
    for (const s of telemetry.discovered()) {
      if (!s.running || s.nodes.length === 0) continue;
      running.add(s.id);
      if (this.adopted.has(s.id) || this.placed.has(s.id)) continue;
      try {
        engine.adopt(s.id, s.nodes, {
          org: s.org ?? "",
          kind: s.kind,
          ...(s.priority !== undefined ? { priority: s.priority } : {}),
          ...(s.profile ? { profile: s.profile } : {}),
        });
        this.adopted.add(s.id);
      } catch (err) {
        this.options.log?.(`power: placement cannot hold running ${s.id}: ${(err as Error).message}`);
      }
    }
    for (const id of this.adopted)
      if (!running.has(id)) {
        engine.release(id);
        this.adopted.delete(id);
      }
  }

  private requireEngine(): PlacementEngine {
    this.require();
    this.adoptDiscovered();
    return this.engine!;
  }

  /** Admission: places the job (holding its nodes and power) or says why not; `dryRun` holds nothing. */
  async place(actor: string, request: PlacementRequest, dryRun = false): Promise<Decision> {
    const engine = this.requireEngine();
    const decision = dryRun ? engine.plan(request) : engine.place(request);
    if (!dryRun && decision.status === "placed") {
      this.placed.set(request.id, { request, nodes: decision.nodes });
      await this.options.store?.appendAudit({
        actor,
        action: "power.placement.create",
        target: `job:${request.id}`,
        org: request.org,
        detail: { request, nodes: decision.nodes, powerWatts: decision.powerWatts },
      });
    }
    return decision;
  }

  async releasePlacement(actor: string, id: string): Promise<boolean> {
    const engine = this.requireEngine();
    const held = this.placed.get(id);
    if (!held) return false;
    engine.release(id);
    this.placed.delete(id);
    await this.options.store?.appendAudit({
      actor,
      action: "power.placement.release",
      target: `job:${id}`,
      org: held.request.org,
    });
    return true;
  }

  async reserve(actor: string, request: ReservationRequest): Promise<Decision> {
    const engine = this.requireEngine();
    if (!(request.endMs > this.now()))
      throw new PowerRequestError(
        400,
        "target-in-past",
        `reservation ${request.id}: its end ${new Date(request.endMs).toISOString()} is in the past`,
      );
    const decision = engine.reserve(request);
    if (decision.status === "reserved") {
      this.reserved.set(request.id, request);
      await this.options.store?.appendAudit({
        actor,
        action: "power.reservation.create",
        target: `reservation:${request.id}`,
        org: request.org,
        detail: { request, nodes: decision.nodes },
      });
    }
    return decision;
  }

  async cancelReservation(actor: string, id: string): Promise<boolean> {
    const engine = this.requireEngine();
    const r = this.reserved.get(id);
    if (!r) return false;
    engine.cancelReservation(id);
    this.reserved.delete(id);
    await this.options.store?.appendAudit({
      actor,
      action: "power.reservation.cancel",
      target: `reservation:${id}`,
      org: r.org,
    });
    return true;
  }

  holdings(): readonly Holding[] {
    const engine = this.requireEngine();
    return [...engine.holdings(), ...engine.reservations()];
  }

  /** The placement engine for the scheduler-extender verbs. */
  extender(): PlacementEngine {
    return this.requireEngine();
  }

  private onBms(reading: BmsReading): void {
    this.bmsReading = reading;
    const failed = Object.entries(reading.errors);
    this.bmsError = failed.length > 0 ? failed.map(([p, e]) => `${p}: ${e.message}`).join("; ") : undefined;
    // A new load target acts at once, not at the next pass.
    if ("loadTargetWatts" in reading.values) {
      try {
        this.applyTarget();
      } catch (err) {
        this.bmsError = `load target ${reading.values.loadTargetWatts} W refused: ${(err as Error).message}`;
      }
    }
  }

  private require(): PowerController {
    if (!this.controller) throw new PowerRequestError(503, "not-ready", "no factory has been applied yet");
    return this.controller;
  }

  private watts(target: TargetInput): number {
    const peak = this.require().tree.peakWatts;
    return "watts" in target ? target.watts : target.fraction * peak;
  }

  /** What sets the target at `atMs`: the lowest of everything in force. */
  private effective(atMs: number): { watts: number; source: TargetSource; eventId?: string } | undefined {
    let best: { watts: number; source: TargetSource; eventId?: string } | undefined;
    const consider = (watts: number, source: TargetSource, eventId?: string) => {
      if (best === undefined || watts < best.watts)
        best = { watts, source, ...(eventId !== undefined ? { eventId } : {}) };
    };
    if (this.operator) consider(this.watts(this.operator), "operator");
    let step: ScheduleStep | undefined;
    for (const s of this.schedule) if (s.atMs <= atMs) step = s;
    if (step) consider(this.watts(step.target), "schedule");
    for (const e of this.events)
      if (e.startMs <= atMs && atMs < e.endMs) consider(this.watts(e.target), "event", e.id);
    const bms = this.bmsReading?.values.loadTargetWatts;
    if (bms !== undefined && bms > 0) consider(bms, "bms");
    return best;
  }

  /** Applies the target in force now; throws (and keeps the old one) when it cannot hold the work. */
  private applyTarget(): void {
    const controller = this.require();
    const eff = this.effective(this.now());
    const watts = eff?.watts;
    if (watts === this.appliedTarget) return;
    controller.setFacilityTarget(watts === undefined ? undefined : { watts });
    this.appliedTarget = watts;
    if (this.engine) this.rebuildEngine();
    this.record({
      atMs: this.now(),
      kind: "allocation",
      text:
        watts === undefined
          ? "no facility target: caps allocated under the power chain's own limits"
          : `facility target ${(watts / 1000).toFixed(1)} kW (${eff!.source}${eff!.eventId ? ` ${eff!.eventId}` : ""}): caps reallocated`,
    });
  }

  private checkTarget(target: TargetInput, field: string): void {
    const peak = this.require().tree.peakWatts;
    if ("watts" in target) {
      if (!(Number.isFinite(target.watts) && target.watts > 0))
        throw new PowerRequestError(400, "bad-target", `${field}.watts must be a positive number of watts`);
    } else if (!(target.fraction > 0 && target.fraction <= 1))
      throw new PowerRequestError(
        400,
        "bad-target",
        `${field}.fraction must be in (0, 1] of the site's peak ${(peak / 1000).toFixed(1)} kW`,
      );
  }

  /**
   * Changes the targets through `change`, then applies what is in force now; when that fails
   * (the work cannot fit) everything is put back and the reason thrown.
   */
  private async changeTargets(
    actor: string,
    action: string,
    detail: unknown,
    change: () => void,
  ): Promise<void> {
    const saved = { operator: this.operator, schedule: this.schedule, events: this.events };
    change();
    try {
      this.applyTarget();
    } catch (err) {
      Object.assign(this, saved);
      if (err instanceof PowerError)
        throw new PowerRequestError(409, err.code, `target refused: ${err.message}`);
      throw err;
    }
    await this.options.store?.appendAudit({ actor, action, target: "power:facility", org: null, detail });
    if (!this.options.manual) void this.tick().catch(() => undefined);
  }

  async setOperatorTarget(actor: string, target: TargetInput | null): Promise<TargetStatus> {
    if (target) this.checkTarget(target, "target");
    await this.changeTargets(actor, "power.target.set", { target }, () => {
      this.operator = target;
    });
    return this.target();
  }

  async setSchedule(actor: string, steps: readonly ScheduleStep[]): Promise<TargetStatus> {
    const now = this.now();
    steps.forEach((s, i) => {
      this.checkTarget(s.target, `schedule[${i}].target`);
      if (!(s.atMs > now))
        throw new PowerRequestError(
          400,
          "target-in-past",
          `schedule[${i}].atMs ${new Date(s.atMs).toISOString()} is in the past`,
        );
    });
    const sorted = [...steps].sort((a, b) => a.atMs - b.atMs);
    await this.changeTargets(actor, "power.schedule.set", { steps: sorted }, () => {
      this.schedule = sorted;
    });
    return this.target();
  }

  async addEvent(actor: string, event: DemandResponseEvent): Promise<TargetStatus> {
    this.checkTarget(event.target, "event.target");
    if (!(event.endMs > this.now()))
      throw new PowerRequestError(
        400,
        "target-in-past",
        `event ${event.id}: its end ${new Date(event.endMs).toISOString()} is in the past`,
      );
    if (!(event.startMs < event.endMs))
      throw new PowerRequestError(400, "bad-target", `event ${event.id}: start must come before end`);
    if (this.events.some((e) => e.id === event.id))
      throw new PowerRequestError(409, "conflict", `event ${event.id} already exists`);
    await this.changeTargets(actor, "power.event.add", event, () => {
      this.events = [...this.events, event].sort((a, b) => a.startMs - b.startMs);
    });
    return this.target();
  }

  async cancelEvent(actor: string, id: string): Promise<TargetStatus> {
    if (!this.events.some((e) => e.id === id))
      throw new PowerRequestError(404, "not-found", `no demand-response event ${id}`);
    await this.changeTargets(actor, "power.event.cancel", { id }, () => {
      this.events = this.events.filter((e) => e.id !== id);
    });
    return this.target();
  }

  target(): TargetStatus {
    const controller = this.require();
    const eff = this.effective(this.now());
    const bms = this.options.bms;
    const values = this.bmsReading?.values;
    return {
      watts: eff?.watts,
      source: eff?.source ?? null,
      ...(eff?.eventId ? { eventId: eff.eventId } : {}),
      peakWatts: controller.tree.peakWatts,
      operator: this.operator,
      schedule: this.schedule,
      events: this.events.filter((e) => e.endMs > this.now()),
      bms: bms
        ? {
            url: bms.url,
            ...(values?.loadTargetWatts !== undefined ? { loadTargetWatts: values.loadTargetWatts } : {}),
            ...(values?.facilityPowerWatts !== undefined
              ? { facilityPowerWatts: values.facilityPowerWatts }
              : {}),
            ...(this.bmsReading ? { atMs: this.bmsReading.atMs } : {}),
            ...(this.bmsError ? { error: this.bmsError } : {}),
          }
        : null,
    };
  }

  /**
   * Replaces the operator's limits per power device (`{watts}` or `{percent}` of its derated
   * limit). Refused whole when a device is unknown, a limit is above the rating, or the running
   * work could not fit at its minimum caps.
   */
  async setOverrides(actor: string, overrides: Record<string, LimitOverride>): Promise<void> {
    const controller = this.require();
    try {
      controller.setBudgetOptions({ ...controller.options, overrides });
    } catch (err) {
      if (err instanceof PowerError)
        throw new PowerRequestError(
          err.code === "budget-below-minimum" ? 409 : 400,
          err.code,
          `overrides refused: ${err.message}`,
        );
      throw err;
    }
    this.overrides = overrides;
    this.rebuildEngine();
    this.record({ atMs: this.now(), kind: "allocation", text: `device limits changed: caps reallocated` });
    await this.options.store?.appendAudit({
      actor,
      action: "power.overrides.set",
      target: "power:overrides",
      org: null,
      detail: { overrides },
    });
  }

  currentOverrides(): Readonly<Record<string, LimitOverride>> {
    return this.overrides;
  }

  setPolicy(actor: string, policy: ProfilePolicy): Promise<void> {
    const controller = this.require();
    try {
      controller.setPolicy(policy);
    } catch (err) {
      throw new PowerRequestError(409, (err as PowerError).code ?? "bad-policy", (err as Error).message);
    }
    this.policy = policy;
    return (
      this.options.store
        ?.appendAudit({
          actor,
          action: "power.policy.set",
          target: "power:policy",
          org: null,
          detail: { rules: policy.rules, default: policy.default },
        })
        .then(() => undefined) ?? Promise.resolve()
    );
  }

  /** The jobs discovery lists now, with their GPUs (a GPU claimed twice keeps its first job). */
  private discoveredJobs(): ControlledJob[] {
    const telemetry = this.options.telemetry;
    const factory = this.factory;
    if (!telemetry || !factory) return [];
    const { graph } = factory.build;
    const claimed = new Set<string>();
    const jobs: ControlledJob[] = [];
    for (const source of telemetry.discovered()) {
      if (!source.running) continue;
      const gpus: string[] = [];
      for (const name of source.nodes) {
        const node = graph.get(`node:${name}`);
        if (!node) continue;
        for (const g of graph.descendants(node.index, "gpu"))
          if (!claimed.has(g.id)) {
            claimed.add(g.id);
            gpus.push(g.id);
          }
      }
      if (gpus.length === 0) continue;
      jobs.push({
        id: source.id,
        ...(source.org ? { org: source.org } : {}),
        kind: source.kind,
        priority: source.priority ?? 0,
        gpus,
        ...(source.profile ? { profile: source.profile } : {}),
      });
    }
    return jobs;
  }

  /** One pass: targets in force, jobs, meters, the safety loop, and the caps pushed. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    try {
      this.applyTarget();
    } catch (err) {
      this.options.log?.(`power: the target in force cannot be applied: ${(err as Error).message}`);
    }
    this.adoptDiscovered();
    const jobs = this.discoveredJobs();
    const key = JSON.stringify(jobs.map((j) => [j.id, j.gpus.length, j.priority, j.profile]));
    if (key !== this.jobsKey) {
      try {
        controller.setJobs(jobs);
        this.jobsKey = key;
        this.record({ atMs: this.now(), kind: "allocation", text: `${jobs.length} jobs: caps reallocated` });
      } catch (err) {
        this.options.log?.(`power: jobs refused: ${(err as Error).message}`);
      }
    }
    const decision = controller.observe(this.readings());
    for (const a of decision.actions) this.recordAction(decision.atMs, a);
    await this.enforce(decision);
  }

  private readings() {
    const atMs = this.now();
    const deviceWatts = new Map<string, number>();
    const gpuDrawWatts = new Map<string, number>();
    const telemetry = this.options.telemetry;
    if (telemetry) {
      for (const row of telemetry.stranded(atMs))
        if (row.drawWatts !== undefined) deviceWatts.set(row.id, row.drawWatts);
      for (const [gpu, watts] of telemetry.gpuPowerWatts(atMs)) gpuDrawWatts.set(gpu, watts);
    }
    const facility = this.bmsReading?.values.facilityPowerWatts;
    if (facility !== undefined) deviceWatts.set("facility", facility);
    const appliedCapWatts = new Map<string, number>();
    if (this.reconciler) {
      // A cap written and not refused counts as it will be: any further cut issued now would land
      // no sooner than it (the same control delay), so the safety loop does not cut twice for one
      // change while the first is in flight.
      for (const g of this.require().tree.gpus) {
        const effective = this.reconciler.effectiveCapWatts(g.id, g.maxWatts);
        const status = this.reconciler.status(g.id);
        const inFlight = status && status.state !== "failed" ? status.desiredWatts : effective;
        appliedCapWatts.set(g.id, Math.min(effective, inFlight));
      }
    }
    return {
      atMs,
      deviceWatts,
      gpuDrawWatts,
      ...(this.reconciler ? { appliedCapWatts } : {}),
    };
  }

  private async enforce(decision: ControlDecision): Promise<void> {
    const reconciler = this.reconciler;
    if (!reconciler) return;
    const desired = new Map<string, number>();
    for (const [gpu, watts] of decision.capWatts) desired.set(gpu, Math.floor(watts));
    const result = await reconciler.reconcile(desired);
    if (result.failed.length > 0) {
      const first = reconciler.status(result.failed[0]!);
      this.record({
        atMs: this.now(),
        kind: "enforcement",
        text: `${result.failed.length} caps could not be set (first: ${result.failed[0]}: ${first?.error ?? "unknown"}); they count at their maximum`,
      });
    }
    // GPUs whose cap cannot be set are allocated at their maximum draw; the others make room.
    const pinned: string[] = [];
    for (const g of this.require().tree.gpus)
      if (reconciler.status(g.id)?.state === "failed") pinned.push(g.id);
    try {
      this.controller?.setPinned(pinned);
    } catch (err) {
      this.options.log?.(`power: ${(err as Error).message}`);
    }
  }

  private recordAction(atMs: number, a: SafetyAction): void {
    // Levels by their names, as people know them.
    let text = a.reason.text;
    const level = a.reason.level;
    if (level) {
      const budget = this.controller?.tree.budgets.find((b) => b.id === level);
      if (budget) text = text.split(level).join(this.controller!.levelName(budget.devices));
    }
    this.record({
      atMs,
      kind: "safety",
      gpu: a.gpu,
      fromWatts: a.fromWatts,
      capWatts: a.capWatts,
      rule: a.reason.rule,
      ...(level ? { level } : {}),
      text,
    });
  }

  private record(entry: PowerLogEntry): void {
    this.log.push(entry);
    if (this.log.length > LOG_KEPT) this.log.splice(0, this.log.length - LOG_KEPT);
  }

  /** The action log, newest last. */
  actions(limit = 200): readonly PowerLogEntry[] {
    return this.log.slice(-limit);
  }

  levels(): readonly LevelStatus[] {
    return this.require().levels();
  }

  explainGpu(id: string): GpuExplanation | undefined {
    return this.require().explainGpu(id);
  }

  /** The jobs the controller allocates for, as of its last pass. */
  jobs(): PowerJob[] {
    const c = this.require();
    return c.allocatedJobs().map(({ job, profile, allocation }) => ({
      id: job.id,
      org: job.org ?? null,
      kind: job.kind,
      priority: job.priority ?? 0,
      gpus: job.gpus.length,
      gpuIds: [...job.gpus],
      // After the second pass, which can raise jobs that stopped where their curve goes flat.
      capWatts: c.allocatedWatts(job.gpus[0]!) ?? allocation?.capWatts ?? 0,
      profile: profile?.name ?? null,
      stoppedBy: allocation?.stoppedBy ?? "unknown",
    }));
  }

  /** The controller, for placement and explanations in routes. */
  get current(): PowerController | undefined {
    return this.controller;
  }
}
