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
import { tick } from "./physics.ts";
import { createSimServer } from "./server.ts";
import { createState, type FactoryState } from "./state.ts";
import { fileSdGroups, writeFileSd } from "./targets.ts";
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
}

/** A running twin. */
export interface RunningSim {
  /** Base URL, e.g. `http://127.0.0.1:9400`. */
  url: string;
  port: number;
  /** The live state (read it; write only through the state's setters). */
  state: FactoryState;
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
  const state = createState(graph, catalog, {
    seed: options.seed ?? 1,
    ...(options.workload ? { workload: options.workload } : {}),
  });
  const dcgm = createDcgmExporter(state, { fieldSet: options.fieldSet ?? "extended" });
  const server = createSimServer({ state, dcgm });
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
  const hostPort = advertised.includes(":") ? `[${advertised}]:${port}` : `${advertised}:${port}`;
  if (options.targetsFile) writeFileSd(options.targetsFile, fileSdGroups(state, hostPort));
  const timer = setInterval(() => tick(state, TICK_SECONDS), (TICK_SECONDS * 1000) / speed);
  return {
    url: `http://${hostPort}`,
    port,
    state,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(timer);
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
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
