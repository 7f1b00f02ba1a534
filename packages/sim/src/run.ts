/**
 * Running the twin as a service: load the factory, build the state, tick it on a timer and serve
 * its endpoints on one port. This is the whole wiring of the sim process (`flightdeck sim`).
 */
import type { AddressInfo } from "node:net";
import {
  type Catalog,
  type FactoryGraph,
  formatProblem,
  loadFactoryFile,
  type Problem,
} from "@flightdeck/model";
import { createDcgmExporter } from "./exporters/dcgm.ts";
import type { DcgmFieldSet } from "./exporters/dcgm-fields.ts";
import {
  createVllmStats,
  recordFinishedRequest,
  recordIteration,
  renderVllmPage,
  setLoad,
  type VllmServerStats,
} from "./exporters/vllm.ts";
import { extenderPlacer } from "./extender.ts";
import { KV_BLOCK_TOKENS } from "./inference.ts";
import { createJobService } from "./job-service.ts";
import { accountEnergy, createJobEngine, firstFit, type JobEngine, type Replica, stepJobs } from "./jobs.ts";
import { tick } from "./physics.ts";
import { createRedfishService } from "./redfish/index.ts";
import { loadScenarioFile, type Scenario } from "./scenario.ts";
import { createSimServer, type SimHandler, send } from "./server.ts";
import { createState, type FactoryState } from "./state.ts";
import { createSyslogSender, type SyslogFormat, type SyslogSender } from "./syslog.ts";
import { endpointsSection, fileSdGroups, writeFileSd } from "./targets.ts";
import type { WorkloadOptions } from "./workload.ts";

/** How to start the twin. Give either `factoryFile` or `graph` with `catalog`. */
export interface SimOptions {
  /** A factory YAML file, loaded with @flightdeck/model. */
  factoryFile?: string;
  /** An already built factory (e.g. `loadFactoryFile(f).build`). */
  graph?: FactoryGraph;
  catalog?: Catalog;
  /** Listen port; 0 picks a free one (default 9400, dcgm-exporter's port). */
  port?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Seed of every random draw (default 1): the same seed replays the same factory. */
  seed?: number;
  /** Sim seconds per wall second (default 1): a tick of 1 s of sim time every 1000/speed ms. */
  speed?: number;
  /** Where to write the Prometheus file_sd targets (none when absent). */
  targetsFile?: string;
  /** dcgm fields per page: `extended` (default) or dcgm-exporter's `default` counters only. */
  fieldSet?: DcgmFieldSet;
  workload?: WorkloadOptions;
  /**
   * A scenario file (jobs, services, faults on a timeline); or `scenario`, already loaded. With
   * one, GPUs idle until its jobs take them; without, every node runs the synthetic load.
   */
  scenarioFile?: string;
  scenario?: Scenario;
  /** Where to send the kernel log (Xid lines): `udp://HOST:PORT` or `tcp://HOST:PORT`. */
  syslogTarget?: string;
  syslogFormat?: SyslogFormat;
  /** Place jobs through this scheduler extender (its base URL), over the scenario's placement. */
  extenderUrl?: string;
}

/** A running twin. */
export interface RunningSim {
  /** Base URL, e.g. `http://127.0.0.1:9400`. */
  url: string;
  port: number;
  /** The live state (read it; write only through the state's setters). */
  state: FactoryState;
  /** The scenario's jobs (none without a scenario). */
  engine: JobEngine;
  /**
   * Advances `seconds` of sim time in 1 s ticks now, as the timer would (jobs, physics, targets
   * file, kernel log): for tests and tools that step the twin themselves.
   */
  step(seconds: number): void;
  /** Stops ticking and closes the listener. */
  stop(): Promise<void>;
}

/** The factory could not be loaded: every problem, formatted `FILE:LINE:COL: message`. */
export class SimLoadError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`cannot load factory ${file}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "SimLoadError";
    this.problems = problems;
  }
}

/** The sim seconds each tick advances. */
export const TICK_SECONDS = 1;

/** Loads, builds and serves the twin; resolves once it listens. Throws SimLoadError for a bad file. */
export async function startSim(options: SimOptions): Promise<RunningSim> {
  const { graph, catalog } = resolveFactory(options);
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new Error(`speed must be a positive number, got ${speed}`);
  const scenario =
    options.scenario ??
    (options.scenarioFile ? await loadScenarioFile(options.scenarioFile, graph) : undefined);
  const state = createState(graph, catalog, {
    seed: options.seed ?? 1,
    workload: { ...options.workload, ...(scenario ? { synthetic: false } : {}) },
  });
  const placement = options.extenderUrl
    ? { ...scenario?.placement?.extender, url: options.extenderUrl }
    : scenario?.placement?.extender;
  const engine = createJobEngine(
    state,
    scenario ?? { apiVersion: "flightdeck/v1", kind: "Scenario", metadata: { name: "synthetic" } },
    placement ? extenderPlacer(state, placement) : firstFit,
  );
  const epochMs = Date.now();
  const pages = attachModelServers(engine, epochMs);
  const syslog: SyslogSender | undefined = options.syslogTarget
    ? createSyslogSender(state, {
        target: options.syslogTarget,
        epochMs,
        ...(options.syslogFormat ? { format: options.syslogFormat } : {}),
      })
    : undefined;
  let hostPort = "";
  // Prometheus HTTP service discovery: the same groups as the targets file, always current.
  const discovery: SimHandler = (_req, res, path) => {
    if (path === "/sim/sd")
      send(res, 200, "application/json", JSON.stringify(fileSdGroups(state, hostPort, engine)));
    else if (path === "/sim/endpoints")
      send(res, 200, "application/yaml", endpointsSection(`http://${hostPort}`));
    else return false;
    return true;
  };
  const handlers: SimHandler[] = [discovery, createRedfishService(state), createJobService(engine, pages)];
  const dcgm = createDcgmExporter(state, { fieldSet: options.fieldSet ?? "extended" });
  const server = createSimServer({ state, dcgm, engine, handlers });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 9400, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const advertised = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  hostPort = advertised.includes(":") ? `[${advertised}]:${port}` : `${advertised}:${port}`;
  let targetsKey = "";
  const writeTargets = () => {
    if (!options.targetsFile) return;
    const groups = fileSdGroups(state, hostPort, engine);
    const key = groups.map((g) => g.labels.__metrics_path__).join("\n");
    if (key === targetsKey) return;
    targetsKey = key;
    writeFileSd(options.targetsFile, groups);
  };
  writeTargets();
  const step = (seconds: number) => {
    for (let t = 0; t < seconds; t += TICK_SECONDS) advance(state, engine, TICK_SECONDS);
    writeTargets();
    syslog?.flush();
  };
  const timer = setInterval(() => step(TICK_SECONDS), Math.min((TICK_SECONDS * 1000) / speed, 2 ** 31 - 1));
  return {
    url: `http://${hostPort}`,
    port,
    state,
    engine,
    step,
    stop: async () => {
      clearInterval(timer);
      await syslog?.close();
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}

/**
 * One step of the whole twin: the jobs (placement, faults due, work) over the next `dtSeconds`,
 * then the physics, then each job's share of the energy. What the timer runs; tests and
 * benchmarks call it to run the twin faster than any timer.
 */
export function advance(state: FactoryState, engine: JobEngine, dtSeconds: number): void {
  stepJobs(engine, state, dtSeconds);
  tick(state, dtSeconds);
  accountEnergy(engine, state, dtSeconds);
}

/** Longest context a served model takes (the Azure code trace's prompts reach ~8k tokens). */
const MAX_MODEL_LEN = 8192;

/**
 * Gives every replica that starts a vLLM exporter fed by its scheduler; returns the renderer of a
 * replica's page.
 */
export function attachModelServers(engine: JobEngine, epochMs: number): (replica: Replica) => string {
  const stats = new Map<Replica, VllmServerStats>();
  engine.onReplica = (replica) => {
    const s = createVllmStats({
      modelName: replica.service.spec.model.name,
      numGpuBlocks: Math.floor(replica.kvTokensCapacity / KV_BLOCK_TOKENS),
      maxModelLen: MAX_MODEL_LEN,
      startTimeSeconds: epochMs / 1000 + (replica.service.startedAt ?? 0),
    });
    stats.set(replica, s);
    replica.observer = {
      iteration: (promptTokens, generationTokens) => recordIteration(s, { promptTokens, generationTokens }),
      finished: (r) =>
        recordFinishedRequest(s, {
          promptTokens: r.promptTokens,
          generationTokens: r.generatedTokens,
          queueSeconds: r.queueSeconds,
          ttftSeconds: r.ttftSeconds,
          prefillSeconds: r.prefillSeconds,
          decodeSeconds: r.decodeSeconds,
          e2eSeconds: r.e2eSeconds,
          finishedReason: "stop",
        }),
      load: (running, waiting, kvCacheUsage) => setLoad(s, { running, waiting, kvCacheUsage }),
    };
  };
  return (replica) => renderVllmPage(stats.get(replica)!);
}

function resolveFactory(options: SimOptions): { graph: FactoryGraph; catalog: Catalog } {
  if (options.graph && options.catalog) return { graph: options.graph, catalog: options.catalog };
  if (!options.factoryFile) throw new Error("startSim needs factoryFile, or graph and catalog");
  const result = loadFactoryFile(options.factoryFile);
  const errors = result.problems.filter((p: Problem) => p.severity === "error");
  if (!result.ok || !result.build || errors.length > 0) {
    const list = (errors.length > 0 ? errors : result.problems).map((p) =>
      formatProblem(options.factoryFile!, p),
    );
    throw new SimLoadError(options.factoryFile, list.length > 0 ? list : ["no factory was built"]);
  }
  return { graph: result.build.graph, catalog: result.build.catalog };
}
