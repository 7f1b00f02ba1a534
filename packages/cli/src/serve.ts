/** `flightdeck serve`: the control plane in one process, state in a data folder or PostgreSQL. */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, ensureAdminToken, FactoryState, PowerService, Telemetry } from "@flightdeck/api";
import { parseBmsMap } from "@flightdeck/integrations";
import { formatProblem } from "@flightdeck/model";
import { openStore } from "@flightdeck/store";

export interface ServeOptions {
  port: number;
  host: string;
  data: string;
  factory?: string;
  database?: string;
  bodyLimit?: number;
  quiet?: boolean;
  /** Read the factory's endpoints (default true). */
  collect?: boolean;
  /** Send every sample read to this Prometheus remote-write endpoint. */
  remoteWrite?: string;
  /** Push the power service's caps to the BMCs (default: decide and explain only). */
  enforce?: boolean;
  /** A building management system over Modbus TCP (`modbus://host:port`) and its register map file. */
  bms?: string;
  bmsMap?: string;
  /** Plan hosts' non-GPU draw from their nameplate (default) or from meters. */
  otherDraw?: "nameplate" | "measured";
}

/** The factory a fresh installation starts with, so there is something to look at. */
export const DEFAULT_FACTORY = fileURLToPath(
  new URL("../../../examples/factories/lab.yaml", import.meta.url),
);

export async function serve(opts: ServeOptions): Promise<void> {
  const dataDir = resolve(opts.data);
  mkdirSync(dataDir, { recursive: true });
  const url = opts.database ?? process.env.FLIGHTDECK_DATABASE_URL;
  const store = await openStore(url ? { url } : { dataDir });
  const state = new FactoryState(store);
  await state.load();

  const factoryFile =
    opts.factory ?? (state.factory ? undefined : existsSync(DEFAULT_FACTORY) ? DEFAULT_FACTORY : undefined);
  if (factoryFile) {
    const outcome = await state.apply(readFileSync(factoryFile, "utf8"), basename(factoryFile), "system");
    for (const p of outcome.problems) console.error(formatProblem(factoryFile, p));
    if (!outcome.ok) {
      await store.close();
      throw new Error(`${factoryFile} has errors; nothing was applied`);
    }
  }
  const { token, created } = await ensureAdminToken(store, dataDir);
  // Target errors repeat every interval; the log gets each target's first error.
  const reported = new Set<string>();
  const telemetry = new Telemetry(state, {
    store,
    collect: opts.collect !== false,
    ...(opts.remoteWrite ? { remoteWriteUrl: opts.remoteWrite } : {}),
    log: (message) => {
      // Messages are "TARGET-ID: reason"; ids contain colons themselves (dcgm:r01-dgx1).
      const cut = message.indexOf(": ");
      const target = cut >= 0 ? message.slice(0, cut) : message;
      if (reported.has(target) || opts.quiet) return;
      reported.add(target);
      console.error(`telemetry: ${message}`);
    },
  });
  await telemetry.start();
  let bms: { url: string; map: ReturnType<typeof parseBmsMap> } | undefined;
  if (opts.bms) {
    if (!opts.bmsMap) throw new Error("--bms needs --bms-map FILE: the register map of the BMS's points");
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(opts.bmsMap, "utf8"));
    } catch (err) {
      throw new Error(`${opts.bmsMap}: ${(err as Error).message}`);
    }
    try {
      bms = { url: opts.bms, map: parseBmsMap(doc) };
    } catch (err) {
      throw new Error(`${opts.bmsMap}: ${(err as Error).message}`);
    }
  }
  const power = new PowerService(state, {
    telemetry,
    store,
    enforce: opts.enforce === true,
    ...(bms ? { bms } : {}),
    ...(opts.otherDraw ? { otherDraw: opts.otherDraw } : {}),
    log: (message) => {
      if (!opts.quiet) console.error(message);
    },
  });
  await power.start();
  const app = await createServer({
    store,
    state,
    telemetry,
    power,
    ...(opts.bodyLimit ? { bodyLimitBytes: opts.bodyLimit } : {}),
    logger: opts.quiet ? false : { level: "warn" },
  });
  const address = await app.listen({ port: opts.port, host: opts.host });
  const current = state.factory;
  console.log(
    `Flightdeck listening on ${address} (state: ${url ? "PostgreSQL" : `${dataDir}/flightdeck.db`})`,
  );
  if (current) {
    const c = current.build.summary.counts;
    console.log(
      `Factory "${current.build.summary.name}" revision ${current.revision}: ${c.rack} racks, ${c.node} nodes, ${c.gpu} GPUs`,
    );
  }
  console.log(`Admin token${created ? " (new)" : ""}: ${token}  (also in ${dataDir}/admin-token)`);
  const endpoints = state.factory?.build.endpoints;
  if (endpoints && opts.collect !== false) {
    const targets = telemetry.targets().length;
    const syslog = await telemetry.syslogPorts();
    console.log(
      `Telemetry: ${targets} targets from the factory's endpoints${syslog.udp ? `, syslog on udp/${syslog.udp}` : ""}${syslog.tcp ? `, tcp/${syslog.tcp}` : ""}`,
    );
  }

  // Signals are handled before the banner's last line is written: whoever waits for that line
  // may signal the process at once (a pipe write can wake the reader before the next statement).
  const stopped = new Promise<void>((done) => {
    const stop = (): void => {
      power
        .stop()
        .then(() => telemetry.stop())
        .then(() => app.close())
        .then(() => store.close())
        .finally(done);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  console.log(`API description: ${address}/openapi.json`);
  await stopped;
}
