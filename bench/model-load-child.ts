/**
 * Loads a factory file in a fresh process and prints one JSON line: the load time and the peak
 * memory of the process. `--parse-only` stops after YAML parsing and schema validation (baseline).
 */
import { readFileSync } from "node:fs";
import { loadFactory } from "@flightdeck/model";
import { parseDocument } from "yaml";

const [file, mode] = process.argv.slice(2);
const text = readFileSync(file!, "utf8");
const t0 = performance.now();
let ok: boolean;
if (mode === "--parse-only") {
  ok = parseDocument(text, { merge: true }).toJS({ maxAliasCount: 10_000 }) !== undefined;
} else {
  ok = loadFactory(text).ok;
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ ok, ms, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
