/**
 * The collector: reads every target of the factory on its schedule and writes what it reads into
 * the live series store, keyed by the model entity each series is about.
 *
 * - Pages (dcgm-exporter, vLLM, trainers, any Prometheus/OpenMetrics page) are fetched with a
 *   deadline and a size cap, parsed, and appended as one batch sharing the scrape's timestamp.
 *   A series that was on the previous page and is missing from this one gets a staleness marker
 *   at once (a GPU that fell off the bus does not keep its last value); a target that fails marks
 *   all of its series stale, as Prometheus does.
 * - Redfish services (BMCs, PDUs, power shelves) are discovered once, then their leaf resources
 *   polled; readings become `redfish_*` series.
 * - Each target gets `up`, `scrape_duration_seconds` and `scrape_samples_scraped` series, and a
 *   health record with its last error. A bad target never blocks, slows or crashes the others.
 */
import type { Catalog, EndpointsConfig, FactoryGraph } from "@flightdeck/model";
import {
  createExpositionScanner,
  type ExpositionFormat,
  type ExpositionScanner,
  formatFromContentType,
  ParseError,
  SCRAPE_ACCEPT_HEADER,
} from "../exposition/index.ts";
import {
  createRedfishClient,
  createRedfishPoller,
  type RedfishClient,
  type RedfishSnapshot,
} from "../redfish/index.ts";
import type { GroupRef, SeriesRef, SeriesStore } from "../series/index.ts";
import { createHttpAgents, FetchError, fetchBounded } from "./fetch.ts";
import { createScheduler, type Scheduler } from "./scheduler.ts";
import { discoverTargets, staticTargets, type Target } from "./targets.ts";

/** A target's health as the API shows it. */
export interface TargetStatus {
  id: string;
  kind: Target["kind"];
  url: string;
  labels: Record<string, string>;
  health: "up" | "down" | "unknown";
  lastScrapeMs?: number;
  lastDurationMs?: number;
  lastError?: string;
  samples: number;
  scrapes: number;
  failures: number;
}

export interface CollectorOptions {
  graph: FactoryGraph;
  catalog: Catalog;
  endpoints: EndpointsConfig;
  store: SeriesStore;
  /** How often HTTP service discovery is read again (default: its scrape interval, at most 30 s). */
  discoveryRefreshMs?: number;
  /** Read only when `collectOnce` is called, never on a timer (tests that step time themselves). */
  manual?: boolean;
  /**
   * Called after each read with what was appended (the target's `up` and scrape series included)
   * and the series that went stale then: for remote-write.
   */
  onBatch?: (
    timestampMs: number,
    refs: readonly SeriesRef[],
    values: readonly number[],
    stale: readonly SeriesRef[],
  ) => void;
  /** Called with each error a target records (for logs). */
  onTargetError?: (target: Target, reason: string) => void;
}

export interface Collector {
  /** Starts the schedules and discovery. */
  start(): Promise<void>;
  stop(): void;
  /** Refreshes discovery and reads every target once, now (tests, and a first pass). */
  collectOnce(): Promise<void>;
  targets(): TargetStatus[];
  /**
   * Every model server and training job discovery has listed, finished ones included (the last
   * MAX_SOURCES_REMEMBERED): a window that covers a finished job still counts its tokens.
   */
  discoveredSources(): Target[];
  /** The GPU a kernel log line names: by the node's hostname and the NVML bus id dcgm-exporter reported. */
  resolveGpu(hostname: string, pciBusId: string): string | undefined;
}

/**
 * New series one read of a target may create once the target has been read before: a page whose
 * label values change on every scrape (a bug or an attack) would otherwise grow the store without
 * bound. The read fails with the reason, as Prometheus's sample_limit fails a scrape.
 */
export const MAX_NEW_SERIES_PER_READ = 10_000;

/** Model servers and jobs remembered after they leave discovery. */
export const MAX_SOURCES_REMEMBERED = 10_000;

/** Longest line of a page (real lines are under 1 KiB; a hostile 1 MB line is an error). */
const MAX_LINE_LENGTH = 64 * 1024;

/** DCGM labels that identify the GPU rather than the series (dcgm-exporter's default labels). */
const DCGM_IDENTITY = new Set([
  "gpu",
  "UUID",
  "pci_bus_id",
  "device",
  "modelName",
  "Hostname",
  "DCGM_FI_DRIVER_VERSION",
  "DCGM_FI_PROCESS_NAME",
  "container",
  "namespace",
  "pod",
]);

interface PositionCache {
  names: string[];
  labels: string[][];
  refs: SeriesRef[];
}

interface TargetRuntime {
  target: Target;
  status: TargetStatus;
  group: GroupRef;
  /** Series seen in the last successful read, for staleness. */
  lastRefs: Set<SeriesRef>;
  /** Series of each sample seen before, by its name and labels. */
  refCache: Map<string, SeriesRef>;
  /**
   * The series of the sample at each position of the last page: pages list the same samples in
   * the same order scrape after scrape, so a sample is usually recognised by comparing its name
   * and label values with what stood at its position (the scanner hands back the same strings)
   * without building a key.
   */
  positions: PositionCache;
  /** One scanner per format the target has answered in (a scanner keeps names interned across scrapes). */
  scanners: Partial<Record<ExpositionFormat, ExpositionScanner>>;
  redfish?: { client: RedfishClient; poller: ReturnType<typeof createRedfishPoller> };
  meta: { up: SeriesRef; duration: SeriesRef; samples: SeriesRef };
}

export function createCollector(options: CollectorOptions): Collector {
  const { graph, catalog, endpoints, store } = options;
  const runtimes = new Map<string, TargetRuntime>();
  const gpuByBus = new Map<string, string>();
  const agents = createHttpAgents();
  const fetchOptions = { timeoutMs: 5000, maxBodyBytes: endpoints.maxBodyBytes, agents };
  let discovered: Target[] = [];
  let discoveryTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const fixed = staticTargets(graph, catalog, endpoints);

  const runtimeOf = (target: Target): TargetRuntime => {
    let rt = runtimes.get(target.id);
    if (rt && rt.target.url === target.url) {
      rt.target = target;
      return rt;
    }
    rt?.redfish?.client.close();
    const entity = `target:${target.id}`;
    rt = {
      target,
      status: {
        id: target.id,
        kind: target.kind,
        url: target.url,
        labels: target.labels,
        health: "unknown",
        samples: 0,
        scrapes: 0,
        failures: 0,
      },
      group: store.group(target.id),
      lastRefs: new Set(),
      refCache: new Map(),
      positions: { names: [], labels: [], refs: [] },
      scanners: {},
      meta: {
        up: store.getOrCreate({ __name__: "up", entity }),
        duration: store.getOrCreate({ __name__: "scrape_duration_seconds", entity }),
        samples: store.getOrCreate({ __name__: "scrape_samples_scraped", entity }),
      },
    };
    runtimes.set(target.id, rt);
    return rt;
  };

  const scheduler: Scheduler = createScheduler({
    concurrency: endpoints.concurrency,
    jitter: endpoints.jitter,
    ...(options.manual ? { manual: true } : {}),
    run: (target) => read(runtimeOf(target)),
  });

  /** One read of a target, recorded whatever happens. */
  async function read(rt: TargetRuntime): Promise<void> {
    const startMs = Date.now();
    const { status } = rt;
    let refs: SeriesRef[] = [];
    let values: number[] = [];
    let error: string | undefined;
    let up = true;
    try {
      const out =
        rt.target.kind === "bmc" || rt.target.kind === "pdu" ? await readRedfish(rt) : await readPage(rt);
      refs = out.refs;
      values = out.values;
      error = out.partialError;
    } catch (err) {
      error = err instanceof FetchError ? err.reason : (err as Error).message;
      refs = [];
      values = [];
      up = false;
      status.failures++;
    }
    const durationMs = Date.now() - startMs;
    status.health = up ? "up" : "down";
    status.scrapes++;
    status.lastScrapeMs = startMs;
    status.lastDurationMs = durationMs;
    if (error !== undefined) {
      status.lastError = error;
      options.onTargetError?.(rt.target, error);
    } else delete status.lastError;
    // Staleness: what the previous read had and this one has not ended now.
    const seen = new Set(refs);
    const stale: SeriesRef[] = [];
    for (const ref of rt.lastRefs)
      if (!seen.has(ref)) {
        store.markStale(ref, startMs);
        stale.push(ref);
      }
    rt.lastRefs = seen;
    refs.push(rt.meta.up, rt.meta.duration, rt.meta.samples);
    values.push(up ? 1 : 0, durationMs / 1000, seen.size);
    // What the store took, not what the page had: a refused batch (the clock stepped back) shows.
    status.samples = Math.max(0, store.appendBatch(rt.group, startMs, refs, values) - 3);
    options.onBatch?.(startMs, refs, values, stale);
  }

  /** Fetches and parses a page; returns its series and values. Throws with the reason on failure. */
  async function readPage(
    rt: TargetRuntime,
  ): Promise<{ refs: SeriesRef[]; values: number[]; partialError?: string }> {
    const t = rt.target;
    const page = await fetchBounded(t.url, {
      ...fetchOptions,
      timeoutMs: t.timeoutMs,
      accept: SCRAPE_ACCEPT_HEADER,
    });
    const type = page.contentType.split(";")[0]!.trim().toLowerCase();
    if (type !== "" && type !== "text/plain" && type !== "application/openmetrics-text")
      throw new Error(`not a metrics page: Content-Type ${type}`);
    const format = formatFromContentType(page.contentType);
    rt.scanners[format] ??= createExpositionScanner({ format, maxLineLength: MAX_LINE_LENGTH });
    const scanner = rt.scanners[format]!;
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    const mapper = sampleMapper(t, store, rt.refCache, gpuByBus);
    const knownBefore = rt.refCache.size;
    const first = rt.status.scrapes === 0;
    const pos = rt.positions;
    let i = 0;
    try {
      scanner.scan(page.text, {
        sample(rec) {
          const at = i++;
          let ref: SeriesRef | undefined;
          const known = pos.labels[at];
          if (known !== undefined && pos.names[at] === rec.name && known.length === rec.labelCount * 2) {
            ref = pos.refs[at];
            for (let k = 0; k < known.length; k++)
              if (known[k] !== rec.labels[k]) {
                ref = undefined;
                break;
              }
          }
          if (ref === undefined) {
            if (!first && rt.refCache.size - knownBefore >= MAX_NEW_SERIES_PER_READ)
              throw new Error(
                `more than ${MAX_NEW_SERIES_PER_READ} new series in one read (labels that change every scrape?)`,
              );
            ref = mapper(rec.name, rec.labels, rec.labelCount);
            if (ref === undefined) return;
            pos.names[at] = rec.name;
            pos.labels[at] = rec.labels.slice(0, rec.labelCount * 2);
            pos.refs[at] = ref;
          }
          refs.push(ref);
          values.push(rec.value);
        },
      });
    } catch (err) {
      if (err instanceof ParseError) throw new Error(`malformed page at ${err.message}`);
      throw err;
    }
    return { refs, values };
  }

  async function readRedfish(
    rt: TargetRuntime,
  ): Promise<{ refs: SeriesRef[]; values: number[]; partialError?: string }> {
    const t = rt.target;
    if (!rt.redfish) {
      const client = createRedfishClient({ baseUrl: t.url, timeoutMs: t.timeoutMs });
      rt.redfish = { client, poller: createRedfishPoller({ client }) };
    }
    const snapshot = await rt.redfish.poller.poll();
    const out = redfishSeries(t, snapshot, store, rt.refCache);
    if (out.refs.length === 0 && snapshot.errors.length > 0) throw new Error(snapshot.errors[0]!.reason);
    return {
      ...out,
      ...(snapshot.errors.length > 0
        ? {
            partialError: `${snapshot.errors.length} resource(s) failed; first: ${snapshot.errors[0]!.uri}: ${snapshot.errors[0]!.reason}`,
          }
        : {}),
    };
  }

  /** Model servers and jobs ever discovered, oldest first (bounded): their tokens outlive them. */
  const history = new Map<string, Target>();
  /** What each discovery URL found last time it answered. */
  const lastFound = new Map<string, Target[]>();

  async function refreshDiscovery(): Promise<void> {
    const found: Target[] = [];
    for (const d of endpoints.discovery) {
      try {
        const targets = await discoverTargets(
          d.url,
          fetchOptions,
          d.intervalSeconds * 1000,
          d.timeoutSeconds * 1000,
        );
        lastFound.set(d.url, targets);
      } catch (err) {
        // Keep what this discovery found last: a flapping SD must not drop its targets.
        options.onTargetError?.(
          { id: `sd:${d.url}`, kind: "metrics", url: d.url, intervalMs: 0, timeoutMs: 0, labels: {} },
          (err as Error).message,
        );
      }
      found.push(...(lastFound.get(d.url) ?? []));
    }
    if (stopped) return;
    discovered = found;
    for (const t of found) if (t.kind === "vllm" || t.kind === "training") history.set(t.id, t);
    while (history.size > MAX_SOURCES_REMEMBERED) history.delete(history.keys().next().value!);
    const all = [...fixed, ...discovered];
    const ids = new Set(all.map((t) => t.id));
    for (const [id, rt] of runtimes)
      if (!ids.has(id)) {
        // The target is gone (a job ended): its series end now.
        for (const ref of rt.lastRefs) store.markStale(ref, Date.now());
        rt.redfish?.client.close();
        runtimes.delete(id);
      }
    for (const t of all) runtimeOf(t);
    scheduler.setTargets(all);
  }

  return {
    async start() {
      await refreshDiscovery();
      // Stopped while discovery was answering: arm nothing.
      if (stopped) return;
      // Jobs come and go: discovery is read again as often as its targets are scraped.
      const every =
        options.discoveryRefreshMs ??
        Math.min(...endpoints.discovery.map((d) => d.intervalSeconds * 1000), 30_000);
      if (endpoints.discovery.length > 0 && !options.manual) {
        discoveryTimer = setInterval(() => void refreshDiscovery(), every);
        discoveryTimer.unref?.();
      }
    },
    stop() {
      stopped = true;
      clearInterval(discoveryTimer);
      scheduler.stop();
      for (const rt of runtimes.values()) rt.redfish?.client.close();
      agents.destroy();
    },
    async collectOnce() {
      await refreshDiscovery();
      await scheduler.runAll();
    },
    targets() {
      return [...runtimes.values()].map((rt) => ({ ...rt.status }));
    },
    discoveredSources() {
      return [...history.values()];
    },
    resolveGpu(hostname, pciBusId) {
      return gpuByBus.get(`${hostname}|${pciBusId.toUpperCase()}`);
    },
  };
}

/**
 * How a page's samples become series: the entity the target is about (`gpu:NODE/N` from a dcgm
 * page's `gpu` label, `server:NAME` for a model server, `job:NAME` for a trainer, else the
 * target) plus the labels that tell series of one entity apart; identity labels are dropped.
 * dcgm pages also teach the GPU directory (hostname and bus id → GPU) that syslog events use.
 */
function sampleMapper(
  target: Target,
  store: SeriesStore,
  cache: Map<string, SeriesRef>,
  gpuByBus: Map<string, string>,
): (name: string, labels: readonly string[], count: number) => SeriesRef | undefined {
  const kind = target.kind;
  const fixedEntity =
    kind === "vllm"
      ? `server:${target.labels.server ?? target.id}`
      : kind === "training"
        ? `job:${target.labels.job_name ?? target.id}`
        : `target:${target.id}`;
  const drop =
    kind === "dcgm"
      ? DCGM_IDENTITY
      : kind === "vllm"
        ? VLLM_IDENTITY
        : kind === "training"
          ? TRAINER_IDENTITY
          : EMPTY;
  return (name, labels, count) => {
    let key = name;
    for (let i = 0; i < count * 2; i++) key += (i & 1 ? "=" : "\u0001") + labels[i];
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    let entity = fixedEntity;
    const out: Record<string, string> = { __name__: name };
    let gpu: string | undefined;
    let bus: string | undefined;
    for (let i = 0; i < count * 2; i += 2) {
      const k = labels[i]!;
      const v = labels[i + 1]!;
      if (kind === "dcgm") {
        if (k === "gpu") gpu = v;
        else if (k === "pci_bus_id") bus = v;
      }
      if (!drop.has(k) && k !== "entity") out[k] = v;
    }
    if (kind === "dcgm") {
      // A sample without a GPU is about the node (the mixed T4 capture has such lines).
      entity = gpu === undefined ? `node:${target.labels.node}` : `gpu:${target.labels.node}/${gpu}`;
      // Keyed by the node the endpoints section names, never by the page's own Hostname label:
      // a page must not be able to claim another host's GPUs for its Xid events.
      if (bus && gpu !== undefined) gpuByBus.set(`${target.labels.node}|${bus.toUpperCase()}`, entity);
    }
    out.entity = entity;
    const ref = store.getOrCreate(out);
    cache.set(key, ref);
    return ref;
  };
}

const EMPTY = new Set<string>();
/** vLLM labels every sample of a server carries. */
const VLLM_IDENTITY = new Set(["model_name", "engine"]);
const TRAINER_IDENTITY = new Set(["job_name", "model_name"]);

/** The ordinal at the end of a Redfish GPU id: GPU_SXM_3, GPU_3, HGX_ProcessorModule_3 → 3. */
const TRAILING_NUMBER = /(\d+)$/;

/** Readings of one Redfish poll as series (redfish_* names), with their values. */
function redfishSeries(
  target: Target,
  snap: RedfishSnapshot,
  store: SeriesStore,
  cache: Map<string, SeriesRef>,
): { refs: SeriesRef[]; values: number[] } {
  const refs: SeriesRef[] = [];
  const values: number[] = [];
  const put = (name: string, entity: string, value: number | undefined, extra?: Record<string, string>) => {
    if (value === undefined || !Number.isFinite(value)) return;
    const key = `${name}\u0001${entity}\u0001${extra ? JSON.stringify(extra) : ""}`;
    let ref = cache.get(key);
    if (ref === undefined) {
      ref = store.getOrCreate({ __name__: name, entity, ...extra });
      cache.set(key, ref);
    }
    refs.push(ref);
    values.push(value);
  };
  const node = target.labels.node;
  if (target.kind === "bmc" && node) {
    for (const g of snap.gpus) {
      const ordinal = TRAILING_NUMBER.exec(g.id)?.[1];
      if (ordinal === undefined) continue;
      const entity = `gpu:${node}/${Number(ordinal)}`;
      put("redfish_gpu_power_watts", entity, g.powerWatts);
      put("redfish_gpu_temperature_celsius", entity, g.temperatureC);
      put("redfish_gpu_energy_joules", entity, g.energyJoules);
      put("redfish_gpu_power_limit_watts", entity, g.powerLimit?.setPointWatts);
    }
    for (const c of snap.chassis) {
      if (c.containedBy !== undefined) continue;
      put("redfish_node_power_watts", `node:${node}`, c.powerWatts);
      put("redfish_node_energy_joules", `node:${node}`, c.energyJoules);
    }
    for (const c of snap.controls)
      put("redfish_control_setpoint_watts", `node:${node}`, c.setPointWatts, { control: c.id });
  }
  const device = target.labels.device;
  if (target.kind === "pdu" && device) {
    const entity = `power:${device}`;
    for (const d of snap.powerDevices) {
      put("redfish_device_power_watts", entity, d.powerWatts);
      put("redfish_device_energy_joules", entity, d.energyJoules);
    }
    for (const c of snap.circuits) {
      const extra = { circuit: c.id, kind: c.kind };
      put("redfish_circuit_power_watts", entity, c.powerWatts, extra);
      put("redfish_circuit_current_amps", entity, c.currentAmps, extra);
      put("redfish_circuit_energy_joules", entity, c.energyJoules, extra);
    }
  }
  return { refs, values };
}
