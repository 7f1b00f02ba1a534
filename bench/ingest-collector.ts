/**
 * Flightdeck's collector for the ingest benchmark, in a process of its own so that its CPU time
 * is its own. Argv: FACTORY_YAML TWIN_URL INTERVAL_S TIMEOUT_S. Scrapes every node's dcgm page
 * on its timers into a series store; sends "ready" once started, then answers each "mark" with
 * its CPU time so far and the samples stored so far, and stops on "stop" or when the parent goes.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_BODY_BYTES, loadFactory } from "@flightdeck/model";
import { createCollector, createSeriesStore } from "@flightdeck/telemetry";

/** What a "mark" answers. */
export interface CollectorMark {
  cpuUs: number;
  samples: number;
  scrapes: number;
  failures: number;
  rssMB: number;
  /** The commonest reasons scrapes failed, with their counts. */
  errors: [string, number][];
}

const [factoryFile, twinUrl, intervalS, timeoutS] = process.argv.slice(2) as [string, string, string, string];
const build = loadFactory(readFileSync(factoryFile, "utf8")).build;
if (!build) throw new Error(`${factoryFile} does not load`);
const store = createSeriesStore();
// Count what each scrape stored, as Prometheus counts samples appended to its head.
let samples = 0;
const appendBatch = store.appendBatch.bind(store);
store.appendBatch = (group, timestampMs, refs, values) => {
  const n = appendBatch(group, timestampMs, refs, values);
  samples += n;
  return n;
};
const errors = new Map<string, number>();
const collector = createCollector({
  onTargetError: (_target, reason) => {
    const key = reason.replace(/r\d{3}-dgx\d/g, "NODE");
    errors.set(key, (errors.get(key) ?? 0) + 1);
  },
  graph: build.graph,
  catalog: build.catalog,
  store,
  endpoints: {
    concurrency: DEFAULT_CONCURRENCY,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    jitter: true,
    gpuMetrics: {
      url: `${twinUrl}/nodes/{node}/metrics`,
      intervalSeconds: Number(intervalS),
      timeoutSeconds: Number(timeoutS),
    },
    discovery: [],
  },
});
await collector.start();

const stop = (): void => {
  collector.stop();
  process.exit(0);
};
process.on("message", (m) => {
  if (m === "stop") stop();
  else if (m === "mark") {
    const cpu = process.cpuUsage();
    let scrapes = 0;
    let failures = 0;
    for (const t of collector.targets()) {
      scrapes += t.scrapes;
      failures += t.failures;
    }
    const mark: CollectorMark = {
      cpuUs: cpu.user + cpu.system,
      samples,
      scrapes,
      failures,
      rssMB: process.memoryUsage.rss() / 2 ** 20,
      errors: [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3),
    };
    process.send!(mark);
  }
});
process.on("disconnect", stop);
process.send!("ready");
