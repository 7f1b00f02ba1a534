/**
 * The twin of the ingest benchmark, in a process of its own so that rendering pages is charged
 * to neither scraper. Argv: FACTORY_YAML TARGETS_FILE. Writes the file_sd targets file, then
 * sends `{ url }` to its parent once it listens; stops when the parent says "stop" or goes away.
 */
import { readFileSync } from "node:fs";
import { loadFactory } from "@flightdeck/model";
import { startSim } from "@flightdeck/sim";

const [factoryFile, targetsFile] = process.argv.slice(2) as [string, string];
const build = loadFactory(readFileSync(factoryFile, "utf8")).build;
if (!build) throw new Error(`${factoryFile} does not load`);
const sim = await startSim({
  graph: build.graph,
  catalog: build.catalog,
  port: 0,
  targetsFile,
  seed: 1,
  speed: 1,
});

const stop = async (): Promise<void> => {
  await sim.stop();
  process.exit(0);
};
process.on("message", (m) => {
  if (m === "stop") void stop();
});
process.on("disconnect", () => void stop());
process.send!({ url: sim.url });
