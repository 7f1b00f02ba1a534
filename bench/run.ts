/**
 * `npm run bench`: every benchmark, printed as a table (or `--json`: one object a line with
 * bench, metric, value, unit, target). `--only model|sim|parser|series|ingest|power|api` runs one group.
 */
import { benchApi } from "./api.ts";
import { benchIngest } from "./ingest.ts";
import { type Row, report } from "./lib.ts";
import { benchModelLoad, benchModelQueries } from "./model.ts";
import { benchParser } from "./parser.ts";
import { benchPlacement } from "./placement.ts";
import { benchPower } from "./power.ts";
import { benchSeries } from "./series.ts";
import { benchSim } from "./sim.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const rows: Row[] = [];
if (!only || only === "model") {
  rows.push(...benchModelLoad());
  rows.push(...benchModelQueries());
}
if (!only || only === "sim") rows.push(...benchSim());
if (!only || only === "parser") rows.push(...benchParser());
if (!only || only === "series") rows.push(...benchSeries());
if (!only || only === "power") rows.push(...benchPower());
if (!only || only === "placement") rows.push(...benchPlacement());
if (!only || only === "api") rows.push(...(await benchApi()));
if (!only || only === "console") rows.push(...(await (await import("./console.ts")).benchConsole()));
// Last: it runs a real Prometheus of 2 GB beside the collector, which would disturb what follows.
if (!only || only === "ingest") rows.push(...(await benchIngest()));
report(rows, json);
