/** `flightdeck sim`: the digital twin as its own process, until SIGINT or SIGTERM. */
import { type SyslogFormat, startSim } from "@flightdeck/sim";

export interface SimCommandOptions {
  factory: string;
  port: number;
  host: string;
  targetsFile?: string;
  scenario?: string;
  syslog?: string;
  syslogFormat?: SyslogFormat;
  seed: number;
  speed: number;
  extender?: string;
}

export async function runSim(o: SimCommandOptions): Promise<void> {
  if (!(o.speed > 0)) throw new Error("--speed must be a positive number");
  const sim = await startSim({
    factoryFile: o.factory,
    port: o.port,
    host: o.host,
    seed: o.seed,
    speed: o.speed,
    ...(o.targetsFile ? { targetsFile: o.targetsFile } : {}),
    ...(o.scenario ? { scenarioFile: o.scenario } : {}),
    ...(o.syslog ? { syslogTarget: o.syslog } : {}),
    ...(o.syslogFormat ? { syslogFormat: o.syslogFormat } : {}),
    ...(o.extender ? { extenderUrl: o.extender } : {}),
  });
  // Signals are handled before the banner is written: whoever waits for it may signal at once.
  const stopped = new Promise<void>((done) => {
    const stop = (): void => {
      sim.stop().finally(done);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  console.log(
    `Flightdeck twin of ${o.factory} listening on ${sim.url} (seed ${o.seed}, ${o.speed}× real time)`,
  );
  if (o.scenario) console.log(`  scenario ${o.scenario}: ${sim.engine.jobs.length} job(s)`);
  console.log(`  dcgm-exporter pages: ${sim.url}/nodes/NODE/metrics   ground truth: ${sim.url}/sim/truth`);
  console.log(`  Redfish: ${sim.url}/bmc/NODE/redfish/v1   ${sim.url}/pdu/DEVICE/redfish/v1`);
  if (o.scenario)
    console.log(`  vLLM: ${sim.url}/inference/SERVER/metrics   training: ${sim.url}/jobs/JOB/metrics`);
  if (o.targetsFile) console.log(`  Prometheus file_sd targets: ${o.targetsFile}`);
  if (o.syslog) console.log(`  kernel log (syslog ${o.syslogFormat ?? "rfc5424"}) to ${o.syslog}`);
  await stopped;
}
