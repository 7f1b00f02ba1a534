/**
 * `flightdeck up`: what `npm start` runs — the control plane on :7070 and, in a process of its
 * own, the twin of the lab factory on :7071 running the lab scenario. The two meet only over the
 * twin's protocols, as they would in a real factory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadFactoryFile } from "@flightdeck/model";
import { DEFAULT_FACTORY, type ServeOptions, serve } from "./serve.ts";

/** The scenario the lab twin runs: both orgs training and serving. */
export const DEFAULT_SCENARIO = fileURLToPath(
  new URL("../../../examples/scenarios/lab.yaml", import.meta.url),
);
const BIN = fileURLToPath(new URL("../bin/flightdeck.js", import.meta.url));

export interface UpOptions extends ServeOptions {
  twinPort: number;
  /** Start the control plane alone. */
  twin: boolean;
}

export async function up(o: UpOptions): Promise<void> {
  let twin: ChildProcess | undefined;
  if (o.twin) {
    twin = spawn(
      process.execPath,
      [
        BIN,
        "sim",
        "--factory",
        o.factory ?? DEFAULT_FACTORY,
        "--scenario",
        DEFAULT_SCENARIO,
        "--port",
        String(o.twinPort),
        "--host",
        o.host,
        // The kernel log goes where the factory's endpoints say the control plane receives it.
        ...syslogArgs(o.factory ?? DEFAULT_FACTORY),
        // Its jobs are placed by the control plane's placement engine, as kube-scheduler would ask
        // it; they wait (and retry each second) until the control plane answers.
        "--extender",
        `http://${o.host}:${o.port}/extender`,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    twin.once("exit", (code, signal) => {
      if (signal !== "SIGTERM") console.error(`the twin stopped (${signal ?? `exit ${code}`})`);
    });
    // The control plane starts reading at once: let the twin answer first, so that its first
    // scrapes find a factory rather than refused connections.
    await twinReady(`http://${o.host}:${o.twinPort}/healthz`, twin);
  }
  try {
    await serve(o);
  } finally {
    if (twin && twin.exitCode === null) twin.kill("SIGTERM");
  }
}

/** Resolves once the twin answers `url`, or after 60 s, or when it exits (serve starts anyway). */
async function twinReady(url: string, twin: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && twin.exitCode === null) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `--syslog udp://HOST:PORT` for the twin, from the factory's endpoints section (none without one). */
function syslogArgs(factoryFile: string): string[] {
  const syslog = loadFactoryFile(factoryFile).build?.endpoints.syslog;
  if (!syslog) return [];
  if (syslog.udpPort !== undefined) return ["--syslog", `udp://${syslog.host}:${syslog.udpPort}`];
  if (syslog.tcpPort !== undefined) return ["--syslog", `tcp://${syslog.host}:${syslog.tcpPort}`];
  return [];
}
