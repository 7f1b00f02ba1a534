/**
 * What the console's browser tests and bench run against: the lab twin in real time, a control
 * plane reading it over the twin's protocols and enforcing its power caps (as `flightdeck up`
 * does, on free ports), the built console, and Debian's Chromium through playwright-core.
 */
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createServer, FactoryState, PowerService, Telemetry } from "@flightdeck/api";
import { loadFactoryFile } from "@flightdeck/model";
import { loadScenarioFile, type RunningSim, startSim } from "@flightdeck/sim";
import { openStore, type Store } from "@flightdeck/store";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium } from "playwright-core";

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
export const CONSOLE_DIR = root("packages/console");
const LAB = root("examples/factories/lab.yaml");
const SCENARIO = root("examples/scenarios/lab.yaml");

/** Debian's Chromium unless FLIGHTDECK_CHROMIUM names another. */
export const CHROMIUM = process.env.FLIGHTDECK_CHROMIUM ?? "/usr/bin/chromium";

/** Builds the console into packages/console/dist (vite build). */
export function buildConsole(): void {
  execFileSync(process.execPath, [root("node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
    cwd: CONSOLE_DIR,
    stdio: "inherit",
  });
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

export interface Lab {
  url: string;
  sim: RunningSim;
  store: Store;
  app: FastifyInstance;
  telemetry: Telemetry;
  power: PowerService;
  /** A provider admin's token. */
  adminToken: string;
  /** Makes a user of `org` with `role` and returns its token, and the token's id (to revoke it). */
  tokenFor(org: string, role: "org-admin" | "org-viewer"): Promise<string>;
  tokenWithId(org: string, role: "org-admin" | "org-viewer"): Promise<{ token: string; id: number }>;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((done) => socket.bind(0, "127.0.0.1", done));
  const { port } = socket.address();
  await new Promise<void>((done) => socket.close(() => done()));
  return port;
}

/** The lab twin and a control plane reading it every `intervalSeconds`, both on free ports. */
export async function startLab(intervalSeconds = 2): Promise<Lab> {
  const build = loadFactoryFile(LAB).build!;
  const syslogPort = await freeUdpPort();
  const sim = await startSim({
    graph: build.graph,
    catalog: build.catalog,
    port: 0,
    scenario: await loadScenarioFile(SCENARIO, build.graph),
    syslogTarget: `udp://127.0.0.1:${syslogPort}`,
  });
  const store = await openStore({ dataDir: ":memory:" });
  const state = new FactoryState(store);
  const source = readFileSync(LAB, "utf8")
    .replaceAll("http://127.0.0.1:7071", sim.url)
    .replace("udpPort: 5514", `udpPort: ${syslogPort}`)
    .replace(
      "intervalSeconds: 10, timeoutSeconds: 5",
      `intervalSeconds: ${intervalSeconds}, timeoutSeconds: ${intervalSeconds}`,
    );
  const applied = await state.apply(source, "lab.yaml", "test");
  if (!applied.ok) throw new Error(`the lab factory did not apply: ${JSON.stringify(applied.problems)}`);
  const telemetry = new Telemetry(state, { store });
  await telemetry.start();
  // Enforcing, as `flightdeck up` does on its twin: caps reach the BMCs and read back from them.
  const power = new PowerService(state, { telemetry, store, enforce: true });
  await power.start();
  const app = await createServer({ store, state, telemetry, power });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const admin = await store.createUser({ name: "root", org: null, role: "provider-admin", actor: "test" });
  const adminToken = (await store.createToken({ userId: admin.id, name: "console", actor: "test" })).token;
  let users = 0;
  const tokenWithId = async (org: string, role: "org-admin" | "org-viewer") => {
    const user = await store.createUser({ name: `${org}-user${++users}`, org, role, actor: "test" });
    const made = await store.createToken({ userId: user.id, name: "console", actor: "test" });
    return { token: made.token, id: made.record.id };
  };
  return {
    url,
    sim,
    store,
    app,
    telemetry,
    power,
    adminToken,
    tokenWithId,
    tokenFor: async (org, role) => (await tokenWithId(org, role)).token,
    async stop() {
      await power.stop();
      await telemetry.stop();
      await app.close();
      await store.close();
      await sim.stop();
    },
  };
}
