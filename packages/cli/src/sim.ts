/** `flightdeck sim`: the digital twin as its own process, until SIGINT or SIGTERM. */
import { startSim } from "@flightdeck/sim";

export interface SimCommandOptions {
  factory: string;
  port: number;
  host: string;
  targetsFile?: string;
  seed: number;
  speed: number;
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
  });
  console.log(
    `Flightdeck twin of ${o.factory} listening on ${sim.url} (seed ${o.seed}, ${o.speed}× real time)`,
  );
  console.log(`  dcgm-exporter pages: ${sim.url}/nodes/NODE/metrics   ground truth: ${sim.url}/sim/truth`);
  if (o.targetsFile) console.log(`  Prometheus file_sd targets: ${o.targetsFile}`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      sim.stop().finally(done);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
