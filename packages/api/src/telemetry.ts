/**
 * The telemetry side of the control plane in one place: the live series store, the collector
 * reading the current factory's endpoints, the syslog receiver turning Xid lines into events,
 * and the KPIs computed from them. Rebuilt whenever a new factory revision becomes current, so
 * that a changed endpoints section takes effect without a restart; the series store survives.
 */
import {
  computeKpis,
  type KpiGrouping,
  type KpiRow,
  METRICS,
  type StrandedRow,
  strandedPower,
  type TokenSource,
} from "@flightdeck/kpi";
import type { KpiRollup, Store } from "@flightdeck/store";
import {
  type Collector,
  createCollector,
  createRemoteWriter,
  createSeriesStore,
  createSyslogReceiver,
  type RemoteWriter,
  type RemoteWriteSeries,
  type RemoteWriteStats,
  type SeriesStore,
  type SyslogReceiver,
  staleMarker,
  type TargetStatus,
  type XidEvent,
} from "@flightdeck/telemetry";
import type { CurrentFactory, FactoryState } from "./state.ts";

/** Groupings rolled up every minute. */
export const ROLLUP_GROUPINGS = ["rack", "org", "job"] as const;
const MINUTE_MS = 60_000;

export interface TelemetryOptions {
  /** Read the endpoints (default true); false keeps the store and routes without reading anything. */
  collect?: boolean;
  /** Read only when `collectOnce` is called (tests that step a twin's time themselves). */
  manual?: boolean;
  /** Also send every sample read to this Prometheus remote-write endpoint (e.g. `http://prometheus:9090/api/v1/write`). */
  remoteWriteUrl?: string;
  /** Where one-minute KPI rollups go (none without). */
  store?: Store;
  /** How much the live window holds (default one hour). */
  retentionMs?: number;
  /** Called with target errors and receiver problems, for the log. */
  log?: (message: string) => void;
}

/** Xid events kept for the API, newest last. */
export const XID_EVENTS_KEPT = 10_000;

export class Telemetry {
  readonly store: SeriesStore;
  private collector: Collector | undefined;
  private receiver:
    | { receiver: SyslogReceiver; abort: AbortController; closed: Promise<void>; wanted: unknown }
    | undefined;
  private readonly xidEvents: XidEvent[] = [];
  private factory: CurrentFactory | undefined;
  private readonly remote: RemoteWriter | undefined;
  private stopped = false;
  private rollupTimer: NodeJS.Timeout | undefined;
  /** The next minute to roll up (its start, ms). */
  private nextRollupMs: number;
  /** When the telemetry was created: KPIs over "everything" start here, where its data starts. */
  readonly startedAtMs = Date.now();

  constructor(
    private readonly state: FactoryState,
    private readonly options: TelemetryOptions = {},
  ) {
    this.store = createSeriesStore({ retentionMs: options.retentionMs ?? 3_600_000 });
    this.remote = options.remoteWriteUrl ? createRemoteWriter({ url: options.remoteWriteUrl }) : undefined;
    // From the minute the telemetry started in: its first rollup covers what part of it was seen.
    this.nextRollupMs = Math.floor(this.startedAtMs / MINUTE_MS) * MINUTE_MS;
  }

  /**
   * Writes the KPIs of every complete minute not yet written (by rack, org and job) to the store.
   * Runs each minute on its own; tests call it with a time of their choosing.
   */
  async rollUp(nowMs = Date.now()): Promise<number> {
    const store = this.options.store;
    const graph = this.factory?.build.graph;
    if (!store || !graph) return 0;
    const rows: KpiRollup[] = [];
    const orgOfJob = new Map(this.sources().map((s) => [s.job, s.org ?? null]));
    let next = this.nextRollupMs;
    while (next + MINUTE_MS <= nowMs) {
      const start = next;
      for (const by of ROLLUP_GROUPINGS)
        for (const r of this.kpis(by, start, start + MINUTE_MS)) {
          if (r.gpuSeconds === 0 && r.energyJoules === 0 && r.tokens === 0) continue;
          const org =
            by === "org"
              ? r.key
              : by === "rack"
                ? (graph.get(`rack:${r.key}`)?.org ?? null)
                : (orgOfJob.get(r.key) ?? null);
          rows.push({
            minuteMs: start,
            grouping: by,
            key: r.key,
            org,
            gpus: r.gpus,
            promptTokens: r.promptTokens,
            generatedTokens: r.generatedTokens,
            trainingTokens: r.trainingTokens,
            energyJoules: r.energyJoules,
            gpuSeconds: r.gpuSeconds,
            usableGpuSeconds: r.usableGpuSeconds,
            pduEnergyJoules: r.pduEnergyJoules ?? null,
          });
        }
      next += MINUTE_MS;
    }
    // Only once they are stored do the minutes count as done: a failed write is tried again.
    await store.putKpiRollups(rows);
    this.nextRollupMs = next;
    return rows.length;
  }

  /** The remote-write client's counters (undefined without remote-write). */
  remoteWriteStats(): RemoteWriteStats | undefined {
    return this.remote?.stats();
  }

  /** Sends what remote-write has queued now. */
  async flushRemoteWrite(): Promise<void> {
    await this.remote?.flush();
  }

  /** Forwards one read's samples, and staleness markers for what vanished, to remote-write. */
  private forward(
    timestampMs: number,
    refs: readonly number[],
    values: readonly number[],
    stale: readonly number[],
  ): void {
    const remote = this.remote;
    if (!remote) return;
    const series: RemoteWriteSeries[] = refs.map((ref, i) => ({
      labels: { ...this.store.labels(ref) },
      samples: [{ timestampMs, value: values[i]! }],
    }));
    for (const ref of stale)
      series.push({ labels: { ...this.store.labels(ref) }, samples: [staleMarker(timestampMs)] });
    try {
      remote.write(series);
    } catch (err) {
      this.options.log?.(`remote-write: ${(err as Error).message}`);
    }
  }

  /** Starts reading the current factory, and follows every revision applied later. */
  async start(): Promise<void> {
    this.state.onChange((factory) => {
      void this.switchTo(factory);
    });
    if (this.state.factory) await this.switchTo(this.state.factory);
    if (this.options.store && !this.options.manual) {
      this.rollupTimer = setInterval(() => {
        this.rollUp().catch((err: Error) => this.options.log?.(`rollups: ${err.message}`));
      }, MINUTE_MS / 4);
      this.rollupTimer.unref?.();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rollupTimer);
    this.collector?.stop();
    this.collector = undefined;
    this.receiver?.abort.abort();
    this.receiver = undefined;
    await this.remote?.close({ flushTimeoutMs: 5000 });
  }

  /** Revisions are taken one at a time, in order: a slow start never overtakes a later revision. */
  private switching: Promise<void> = Promise.resolve();
  private switchTo(factory: CurrentFactory): Promise<void> {
    const next = this.switching.then(() => this.use(factory));
    this.switching = next.catch((err: Error) => this.options.log?.(`telemetry: ${err.message}`));
    return next;
  }

  private async use(factory: CurrentFactory): Promise<void> {
    if (this.stopped) return;
    this.factory = factory;
    this.collector?.stop();
    this.collector = undefined;
    if (this.options.collect === false) return;
    const { graph, catalog, endpoints } = factory.build;
    const collector = createCollector({
      graph,
      catalog,
      endpoints,
      store: this.store,
      ...(this.options.manual ? { manual: true } : {}),
      onBatch: (t, refs, values, stale) => this.forward(t, refs, values, stale),
      onTargetError: (target, reason) => this.options.log?.(`${target.id}: ${reason}`),
    });
    this.collector = collector;
    await collector.start();
    await this.useSyslog(factory);
  }

  private async useSyslog(factory: CurrentFactory): Promise<void> {
    const wanted = factory.build.endpoints.syslog;
    const old = this.receiver;
    if (old && JSON.stringify(old.wanted) === JSON.stringify(wanted)) return;
    old?.abort.abort();
    // Wait for the old receiver to close its ports before the new one binds them.
    await old?.closed;
    this.receiver = undefined;
    if (!wanted || (wanted.udpPort === undefined && wanted.tcpPort === undefined)) return;
    const abort = new AbortController();
    const receiver = createSyslogReceiver({
      ...(wanted.udpPort !== undefined ? { udp: { host: wanted.host, port: wanted.udpPort } } : {}),
      ...(wanted.tcpPort !== undefined ? { tcp: { host: wanted.host, port: wanted.tcpPort } } : {}),
      resolveGpu: (hostname, bus) => this.collector?.resolveGpu(hostname, bus),
      onEvent: (event) => {
        this.xidEvents.push(event);
        if (this.xidEvents.length > XID_EVENTS_KEPT) this.xidEvents.shift();
      },
    });
    const closed = receiver
      .start(abort.signal)
      .catch((err: Error) => this.options.log?.(`syslog receiver: ${err.message}`));
    this.receiver = { receiver, abort, closed, wanted };
    await receiver.ready.catch(() => undefined);
  }

  /** Reads every target once now (tests; the schedules keep running). */
  async collectOnce(): Promise<void> {
    await this.collector?.collectOnce();
  }

  targets(): TargetStatus[] {
    return this.collector?.targets() ?? [];
  }

  /** Xid events received, oldest first. */
  events(): readonly XidEvent[] {
    return this.xidEvents;
  }

  /** The ports the syslog receiver listens on, once bound (none without a syslog endpoint). */
  async syslogPorts(): Promise<{ udp?: number; tcp?: number }> {
    if (!this.receiver) return {};
    const a = await this.receiver.receiver.ready;
    return { ...(a.udp ? { udp: a.udp.port } : {}), ...(a.tcp ? { tcp: a.tcp.port } : {}) };
  }

  /**
   * Model servers and training jobs discovery has listed, finished ones included, with the nodes
   * they run on: their tokens count in any window that covers them.
   */
  sources(): TokenSource[] {
    const out: TokenSource[] = [];
    for (const t of this.collector?.discoveredSources() ?? []) {
      const nodes = (t.labels.nodes ?? "").split(",").filter((n) => n !== "");
      const name = t.kind === "vllm" ? (t.labels.server ?? t.id) : (t.labels.job_name ?? t.id);
      out.push({
        entity: t.kind === "vllm" ? `server:${name}` : `job:${name}`,
        kind: t.kind === "vllm" ? "inference" : "training",
        job: t.kind === "vllm" ? (t.labels.service ?? name) : name,
        ...(t.labels.model ? { model: t.labels.model } : {}),
        ...(t.labels.org ? { org: t.labels.org } : {}),
        nodes,
      });
    }
    return out;
  }

  /**
   * What discovery lists, finished sources included (`running` false), with the traits the power
   * service allocates by: org, priority and profile labels where the source carries them.
   */
  discovered(): {
    id: string;
    kind: "inference" | "training";
    org?: string;
    priority?: number;
    profile?: string;
    nodes: string[];
    running: boolean;
  }[] {
    const live = new Set(this.targets().map((t) => t.id));
    return (this.collector?.discoveredSources() ?? []).map((t) => {
      const priority = Number(t.labels.priority);
      return {
        id: t.kind === "vllm" ? `server:${t.labels.server ?? t.id}` : `job:${t.labels.job_name ?? t.id}`,
        kind: t.kind === "vllm" ? ("inference" as const) : ("training" as const),
        ...(t.labels.org ? { org: t.labels.org } : {}),
        ...(t.labels.priority !== undefined && Number.isFinite(priority) ? { priority } : {}),
        ...(t.labels.profile ? { profile: t.labels.profile } : {}),
        nodes: (t.labels.nodes ?? "").split(",").filter((n) => n !== ""),
        running: live.has(t.id),
      };
    });
  }

  /** Every GPU's power draw at `atMs` (DCGM), where a fresh reading is at hand. */
  gpuPowerWatts(atMs: number): Map<string, number> {
    const out = new Map<string, number>();
    const graph = this.factory?.build.graph;
    if (!graph) return out;
    for (const gpu of graph.ofKind("gpu"))
      for (const ref of this.store.byEntity(gpu.id)) {
        if (this.store.labels(ref).__name__ !== METRICS.gpuPowerWatts) continue;
        const v = this.store.instant(ref, atMs);
        if (v !== undefined) out.set(gpu.id, v);
      }
    return out;
  }

  /** KPIs of the current factory over [startMs, endMs], grouped `by`, for GPUs `keep` accepts. */
  kpis(by: KpiGrouping, startMs: number, endMs: number, keep?: (gpuIndex: number) => boolean): KpiRow[] {
    const graph = this.factory?.build.graph;
    if (!graph) return [];
    return computeKpis(graph, this.reader(), this.sources(), {
      by,
      startMs,
      endMs,
      ...(keep ? { keep } : {}),
    });
  }

  stranded(atMs: number): StrandedRow[] {
    const graph = this.factory?.build.graph;
    return graph ? strandedPower(graph, this.reader(), atMs) : [];
  }

  private reader() {
    const store = this.store;
    return {
      find: (name: string, entity: string) =>
        store.byEntity(entity).filter((ref) => store.labels(ref).__name__ === name),
      counterDelta: (ref: number, a: number, b: number) => store.counterDelta(ref, a, b) ?? 0,
      range: (ref: number, a: number, b: number) => store.range(ref, a, b),
      instant: (ref: number, at: number) => store.instant(ref, at),
    };
  }
}
