/**
 * A vLLM server's `/metrics` page, one per simulated inference replica (one vLLM process).
 *
 * The page has the families, HELP, TYPE, label names and sample order of the capture
 * `fixtures/vllm/datadog-vllm-metrics-opt-125m.prom`, written the way Python's prometheus_client
 * writes them: label names sorted, histogram `_bucket` lines then `_count` then `_sum`, floats as
 * its `floatToGoString` prints them (`1.0`, `7431.0`, `6.634254336e+09`).
 *
 * That capture is an older (V0) vLLM page to which Datadog appended V1-era families, and for those
 * it lists only a few of the buckets (e.g. `request_queue_time_seconds` has only `le="0.3"`). We
 * emit the full bucket lists of vLLM's `vllm/v1/metrics/loggers.py` for them (a superset of the
 * capture's), so quantiles over a simulated fleet mean what they mean on a real one. The V0
 * families keep the capture's buckets. `request_success_total` has a series for each of `stop`,
 * `length` and `abort` from the start, as V1 creates them; the V0 capture shows only the reasons seen.
 *
 * Speed: every sample of a page is one slot of a Float64Array, in page order, and the text between
 * two values is a precomputed string shared by all servers with the same model and cache config.
 * Rendering interleaves the two; histograms keep their buckets cumulative so nothing is summed.
 *
 * @example
 *   const stats = createVllmStats({ modelName: "meta-llama/Llama-3.1-8B-Instruct", numGpuBlocks: 27_000 });
 *   recordIteration(stats, { promptTokens: 512, generationTokens: 31 });
 *   recordFinishedRequest(stats, { promptTokens: 512, generationTokens: 128, queueSeconds: 0.02,
 *     ttftSeconds: 0.09, prefillSeconds: 0.07, decodeSeconds: 2.5, e2eSeconds: 2.61, finishedReason: "stop" });
 *   setLoad(stats, { running: 31, waiting: 4, kvCacheUsage: 0.42 });
 *   res.end(renderVllmPage(stats));
 */
import { escapeLabelValue } from "./dcgm.ts";

/** Why a request finished, as vLLM labels `vllm:request_success_total`. */
export type FinishedReason = "stop" | "length" | "abort";

/** Options of one vLLM server. Only `modelName` and `numGpuBlocks` have no default. */
export interface VllmServerOptions {
  /** `--served-model-name`, the `model_name` label of every `vllm:` sample. */
  modelName: string;
  /** KV-cache blocks on the GPU(s), as vLLM sizes them at start-up (`cache_config_info`). */
  numGpuBlocks: number;
  /** Tokens per KV block; vLLM's default 16. */
  blockSize?: number;
  /** `--gpu-memory-utilization`; default 0.9. */
  gpuMemoryUtilization?: number;
  /** `--enable-prefix-caching`; default false, as in the capture. */
  enablePrefixCaching?: boolean;
  /** Context length; sets the 1-2-5 buckets of the token-count histograms. Default 2048 (opt-125m). */
  maxModelLen?: number;
  /** Unix seconds the process started (`process_start_time_seconds`); default now. Pass the sim clock for replayable pages. */
  startTimeSeconds?: number;
}

/**
 * The counters, gauges and histograms of one server. Opaque: change it only through the functions
 * of this module, which keep counters monotonic and histograms consistent.
 */
export interface VllmServerStats {
  readonly modelName: string;
  readonly numGpuBlocks: number;
  readonly blockSize: number;
  /** Every sample of the page in page order; histogram buckets are stored cumulative. */
  readonly values: Float64Array;
}

/** One scheduler step (V1: one engine step). */
export interface IterationRecord {
  /** Prompt tokens whose prefill ran in this step, prefix-cache hits included. */
  promptTokens: number;
  /** Tokens generated in this step (one per decoding request). */
  generationTokens: number;
  /** Of `promptTokens`, those served from the prefix cache; default 0. */
  cachedPromptTokens?: number;
}

/** A request that left the engine. Times are seconds of sim time. */
export interface FinishedRequestRecord {
  promptTokens: number;
  generationTokens: number;
  /** Of `promptTokens`, those served from the prefix cache; default 0. */
  cachedPromptTokens?: number;
  /** The request's `max_tokens`; default `generationTokens`. */
  maxTokens?: number;
  /** Arrival to first scheduling (WAITING). */
  queueSeconds: number;
  /** Arrival to first token. */
  ttftSeconds: number;
  /** Scheduling to first token (PREFILL). */
  prefillSeconds: number;
  /** First to last token (DECODE). */
  decodeSeconds: number;
  /** Arrival to last token. */
  e2eSeconds: number;
  /**
   * The `generationTokens - 1` gaps between tokens. Without it every gap is taken as the mean,
   * `decodeSeconds / (generationTokens - 1)`: the histograms then cost O(1) per request.
   */
  interTokenSeconds?: ArrayLike<number>;
  finishedReason: FinishedReason;
}

/** What the scheduler holds now; fields left out keep their last value. */
export interface LoadRecord {
  running: number;
  waiting: number;
  /** Requests swapped to CPU (V0 only); default keeps the last value, 0 at start. */
  swapped?: number;
  /** Fraction 0–1 of GPU KV blocks in use (`gpu_cache_usage_perc` and `kv_cache_usage_perc`). */
  kvCacheUsage: number;
  /** Fraction 0–1 of CPU swap blocks in use. */
  cpuCacheUsage?: number;
  /** V0's throughput over its last 5 s logging interval. */
  promptTokensPerSecond?: number;
  generationTokensPerSecond?: number;
  /** 0 awake; 1 sleeping with weights offloaded; 2 sleeping with everything discarded. */
  sleepLevel?: 0 | 1 | 2;
}

/** A count that `n` may be: finite and not negative. */
function checkCount(what: string, n: number): void {
  if (!(n >= 0 && n < Number.POSITIVE_INFINITY))
    throw new RangeError(`${what} must be finite and >= 0, got ${n}`);
}

/** Counts one scheduler step: the token counters, the prefix cache and `iteration_tokens_total`. */
export function recordIteration(stats: VllmServerStats, step: IterationRecord): void {
  const cached = step.cachedPromptTokens ?? 0;
  checkCount("promptTokens", step.promptTokens);
  checkCount("generationTokens", step.generationTokens);
  checkCount("cachedPromptTokens", step.promptTokens - cached);
  const { s, h } = internal(stats).layout;
  const v = stats.values;
  add(v, s.promptTokens, step.promptTokens);
  add(v, s.generationTokens, step.generationTokens);
  add(v, s.prefixQueries, step.promptTokens);
  add(v, s.prefixHits, cached);
  add(v, s.localCompute, step.promptTokens - cached);
  add(v, s.localCacheHit, cached);
  add(v, s.cachedTokens, cached);
  add(v, s.cpuSeconds, CPU_SECONDS_PER_STEP);
  observe(v, h.iterationTokens, step.promptTokens + step.generationTokens, 1);
}

/** Counts a finished request in `request_success_total` and every per-request histogram. */
export function recordFinishedRequest(stats: VllmServerStats, r: FinishedRequestRecord): void {
  const { s, h } = internal(stats).layout;
  const v = stats.values;
  const computed = r.promptTokens - (r.cachedPromptTokens ?? 0);
  checkCount("promptTokens - cachedPromptTokens", computed);
  add(v, s.success[r.finishedReason], 1);
  observe(v, h.promptTokens, r.promptTokens, 1);
  observe(v, h.generationTokens, r.generationTokens, 1);
  observe(v, h.bestOf, 1, 1);
  observe(v, h.n, 1, 1);
  observe(v, h.maxGenerationTokens, r.maxTokens ?? r.generationTokens, 1);
  observe(v, h.maxTokens, r.maxTokens ?? r.generationTokens, 1);
  observe(v, h.kvComputedTokens, computed, 1);
  observe(v, h.ttft, r.ttftSeconds, 1);
  observe(v, h.e2e, r.e2eSeconds, 1);
  observe(v, h.queue, r.queueSeconds, 1);
  observe(v, h.prefill, r.prefillSeconds, 1);
  observe(v, h.decode, r.decodeSeconds, 1);
  observe(v, h.inference, r.prefillSeconds + r.decodeSeconds, 1);
  const gaps = r.generationTokens - 1;
  if (gaps <= 0) return;
  observe(v, h.requestTpot, r.decodeSeconds / gaps, 1);
  const itl = r.interTokenSeconds;
  if (itl === undefined) {
    // V0's time_per_output_token and V1's inter_token_latency both take one value per gap.
    observe(v, h.tpot, r.decodeSeconds / gaps, gaps);
    observe(v, h.itl, r.decodeSeconds / gaps, gaps);
    return;
  }
  for (let i = 0; i < itl.length; i++) {
    observe(v, h.tpot, itl[i]!, 1);
    observe(v, h.itl, itl[i]!, 1);
  }
}

/** Sets the scheduler gauges. */
export function setLoad(stats: VllmServerStats, load: LoadRecord): void {
  const { s } = internal(stats).layout;
  const v = stats.values;
  v[s.running] = load.running;
  v[s.waiting] = load.waiting;
  if (load.swapped !== undefined) v[s.swapped] = load.swapped;
  v[s.gpuCacheUsage] = load.kvCacheUsage;
  v[s.kvCacheUsage] = load.kvCacheUsage;
  if (load.cpuCacheUsage !== undefined) v[s.cpuCacheUsage] = load.cpuCacheUsage;
  if (load.promptTokensPerSecond !== undefined) v[s.promptThroughput] = load.promptTokensPerSecond;
  if (load.generationTokensPerSecond !== undefined)
    v[s.generationThroughput] = load.generationTokensPerSecond;
  if (load.sleepLevel !== undefined) {
    v[s.awake] = load.sleepLevel === 0 ? 1 : 0;
    v[s.weightsOffloaded] = load.sleepLevel === 1 ? 1 : 0;
    v[s.discardAll] = load.sleepLevel === 2 ? 1 : 0;
  }
}

/** Counts `n` requests preempted (their KV blocks taken back) since the last call. */
export function recordPreemption(stats: VllmServerStats, n: number): void {
  checkCount("preemptions", n);
  add(stats.values, internal(stats).layout.s.preemptions, n);
}

/** The page at the stats' current values, ending in a newline. */
export function renderVllmPage(stats: VllmServerStats): string {
  const { pieces } = internal(stats).layout;
  const v = stats.values;
  let page = "";
  for (let i = 0; i < v.length; i++) page += pieces[i]! + formatPromFloat(v[i]!);
  return page + pieces[v.length]!;
}

/** A new server's stats: counters and histograms at zero, idle, awake. */
export function createVllmStats(options: VllmServerOptions): VllmServerStats {
  const blockSize = options.blockSize ?? 16;
  const config: [string, string][] = [
    ["block_size", String(blockSize)],
    ["cache_dtype", "auto"],
    ["cpu_kvcache_space_bytes", "4294967296"],
    ["enable_prefix_caching", options.enablePrefixCaching ? "True" : "False"],
    ["gpu_memory_utilization", pythonRepr(options.gpuMemoryUtilization ?? 0.9)],
    ["num_cpu_blocks", "0"],
    ["num_gpu_blocks", String(options.numGpuBlocks)],
    ["num_gpu_blocks_override", "None"],
    ["sliding_window", "None"],
    ["swap_space_bytes", "4294967296"],
  ];
  const layout = layoutFor(options.modelName, options.maxModelLen ?? 2048, config);
  const values = layout.initial.slice();
  // psutil reads the start time from /proc in clock ticks (1/100 s).
  values[layout.s.startTime] = Math.round((options.startTimeSeconds ?? Date.now() / 1000) * 100) / 100;
  const stats: InternalStats = {
    modelName: options.modelName,
    numGpuBlocks: options.numGpuBlocks,
    blockSize,
    values,
    layout,
  };
  return stats;
}

/**
 * A float as prometheus_client's `floatToGoString` writes it: Python's `repr`, except that values
 * of seven or more integer digits switch to an exponent the way Go does (`6.634254336e+09`), with
 * that function's quirk of a zero before two-digit exponents (`1.2345678901e+010`).
 */
export function formatPromFloat(value: number): string {
  if (value >= 1e-4 && value < 1e6) return Number.isInteger(value) ? `${value}.0` : String(value);
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  const repr = pythonRepr(value);
  if (value < 1e6 || value >= 1e16) return repr;
  const dot = repr.indexOf(".");
  const mantissa = `${repr[0]}.${repr.slice(1, dot)}${repr.slice(dot + 1)}`.replace(/[0.]+$/, "");
  return `${mantissa}e+0${dot - 1}`;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
function pythonRepr(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e-4 && abs < 1e16) return Number.isInteger(value) ? `${value}.0` : String(value);
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  // toExponential() without digits gives the same shortest round-trip digits as repr.
  const text = value.toExponential();
  const e = text.indexOf("e");
  const exponent = text.slice(e + 2);
  return `${text.slice(0, e)}e${text[e + 1]}${exponent.length < 2 ? "0" : ""}${exponent}`;
}

// --- Layout ---------------------------------------------------------------------------------

/** Assumption: the Python scheduler, detokenizer and API server spend ~2 ms of CPU per engine step. */
const CPU_SECONDS_PER_STEP = 0.002;

/** A histogram's slots: cumulative buckets from `first` (the last is `+Inf`), then `_count`, `_sum`. */
interface Hist {
  readonly first: number;
  readonly bounds: readonly number[];
}

/** Where each quantity sits in `values`, and the text between values. */
interface Layout {
  /** `pieces[i]` precedes value `i`; the last piece ends the page. */
  readonly pieces: readonly string[];
  /** Start values: zeros, the info gauges' 1, the static process figures. */
  readonly initial: Float64Array;
  readonly s: Readonly<Record<ScalarName, number>> & {
    readonly success: Readonly<Record<FinishedReason, number>>;
  };
  readonly h: Readonly<Record<HistName, Hist>>;
}

interface InternalStats extends VllmServerStats {
  readonly layout: Layout;
}

function internal(stats: VllmServerStats): InternalStats {
  return stats as InternalStats;
}

type ScalarName =
  | "startTime"
  | "cpuSeconds"
  | "running"
  | "waiting"
  | "swapped"
  | "gpuCacheUsage"
  | "cpuCacheUsage"
  | "preemptions"
  | "promptTokens"
  | "generationTokens"
  | "promptThroughput"
  | "generationThroughput"
  | "kvCacheUsage"
  | "awake"
  | "weightsOffloaded"
  | "discardAll"
  | "prefixQueries"
  | "prefixHits"
  | "localCompute"
  | "localCacheHit"
  | "cachedTokens";

type HistName =
  | "ttft"
  | "tpot"
  | "e2e"
  | "promptTokens"
  | "generationTokens"
  | "bestOf"
  | "n"
  | "iterationTokens"
  | "maxGenerationTokens"
  | "maxTokens"
  | "itl"
  | "requestTpot"
  | "queue"
  | "inference"
  | "prefill"
  | "decode"
  | "kvComputedTokens";

// Bucket lists: V0's (as in the capture) for the first three; vLLM V1 loggers.py for the rest.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const TPOT_V0_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
const E2E_V0_BUCKETS = [1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60];
const REQUEST_PARAM_BUCKETS = [1, 2, 5, 10, 20];
const ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const ITL_BUCKETS = [...TPOT_V0_BUCKETS, 5, 7.5, 10, 20, 40, 80];
const PHASE_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/** vLLM's `build_1_2_5_buckets(max)`: 1, 2, 5, 10, 20, 50, … up to `max`. */
function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let scale = 1; ; scale *= 10)
    for (const m of [1, 2, 5]) {
      if (m * scale > max) return out;
      out.push(m * scale);
    }
}

/** Layouts are immutable and keyed by what shapes their text; servers of one deployment share one. */
const layouts = new Map<string, Layout>();

function layoutFor(modelName: string, maxModelLen: number, config: [string, string][]): Layout {
  const key = JSON.stringify([modelName, maxModelLen, config]);
  let layout = layouts.get(key);
  if (!layout) {
    layout = buildLayout(modelName, maxModelLen, config);
    layouts.set(key, layout);
  }
  return layout;
}

function buildLayout(modelName: string, maxModelLen: number, config: [string, string][]): Layout {
  const pieces: string[] = [];
  const initial: number[] = [];
  let pending = "";
  const model: [string, string] = ["model_name", modelName];

  const family = (name: string, type: string, help: string): void => {
    pending += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  };
  // prometheus_client writes label names sorted.
  const sample = (name: string, labels: [string, string][] = [], start = 0): number => {
    const sorted = [...labels].sort(([a], [b]) => (a < b ? -1 : 1));
    const text = sorted.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",");
    pieces.push(`${pending}${name}${text ? `{${text}}` : ""} `);
    pending = "\n";
    initial.push(start);
    return initial.length - 1;
  };
  const scalar = (name: string, type: string, help: string, labels = [model], start = 0): number => {
    family(name, type, help);
    return sample(name, labels, start);
  };
  const histogram = (name: string, help: string, bounds: number[]): Hist => {
    family(name, "histogram", help);
    const first = initial.length;
    for (const le of bounds) sample(`${name}_bucket`, [["le", formatPromFloat(le)], model]);
    sample(`${name}_bucket`, [["le", "+Inf"], model]);
    sample(`${name}_count`, [model]);
    sample(`${name}_sum`, [model]);
    return { first, bounds };
  };
  const perGeneration = (name: string, type: string, help: string, counts: number[]): void => {
    family(name, type, help);
    counts.forEach((c, g) => {
      sample(name, [["generation", String(g)]], c);
    });
  };

  // The client's own collectors, with the capture's figures: static, but a real scrape has them.
  perGeneration(
    "python_gc_objects_collected_total",
    "counter",
    "Objects collected during gc",
    [7431, 4936, 1661],
  );
  perGeneration(
    "python_gc_objects_uncollectable_total",
    "counter",
    "Uncollectable objects found during GC",
    [0, 0, 0],
  );
  perGeneration(
    "python_gc_collections_total",
    "counter",
    "Number of times this generation was collected",
    [1151, 104, 6],
  );
  const python: [string, string][] = [
    ["implementation", "CPython"],
    ["major", "3"],
    ["minor", "10"],
    ["patchlevel", "12"],
    ["version", "3.10.12"],
  ];
  scalar("python_info", "gauge", "Python platform information", python, 1);
  const bytes = "Virtual memory size in bytes.";
  scalar("process_virtual_memory_bytes", "gauge", bytes, [], 6634254336);
  scalar("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [], 5106151424);
  const start = "Start time of the process since unix epoch in seconds.";
  const startTime = scalar("process_start_time_seconds", "gauge", start, []);
  const cpu = "Total user and system CPU time spent in seconds.";
  // Start-up (weights, CUDA graphs) costs the capture's 10.95 s of CPU before the first request.
  const cpuSeconds = scalar("process_cpu_seconds_total", "counter", cpu, [], 10.95);
  scalar("process_open_fds", "gauge", "Number of open file descriptors.", [], 49);
  scalar("process_max_fds", "gauge", "Maximum number of open file descriptors.", [], 1048576);

  scalar("vllm:cache_config_info", "gauge", "information of cache_config", config, 1);
  const running = scalar(
    "vllm:num_requests_running",
    "gauge",
    "Number of requests currently running on GPU.",
  );
  const waiting = scalar("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
  const swapped = scalar("vllm:num_requests_swapped", "gauge", "Number of requests swapped to CPU.");
  const gpuCacheUsage = scalar(
    "vllm:gpu_cache_usage_perc",
    "gauge",
    "GPU KV-cache usage. 1 means 100 percent usage.",
  );
  const cpuCacheUsage = scalar(
    "vllm:cpu_cache_usage_perc",
    "gauge",
    "CPU KV-cache usage. 1 means 100 percent usage.",
  );
  const preemptions = scalar(
    "vllm:num_preemptions_total",
    "counter",
    "Cumulative number of preemption from the engine.",
  );
  const promptTokens = scalar("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
  const generationTokens = scalar(
    "vllm:generation_tokens_total",
    "counter",
    "Number of generation tokens processed.",
  );
  const h = {
    ttft: histogram(
      "vllm:time_to_first_token_seconds",
      "Histogram of time to first token in seconds.",
      TTFT_BUCKETS,
    ),
    tpot: histogram(
      "vllm:time_per_output_token_seconds",
      "Histogram of time per output token in seconds.",
      TPOT_V0_BUCKETS,
    ),
    e2e: histogram(
      "vllm:e2e_request_latency_seconds",
      "Histogram of end to end request latency in seconds.",
      E2E_V0_BUCKETS,
    ),
    promptTokens: histogram(
      "vllm:request_prompt_tokens",
      "Number of prefill tokens processed.",
      buckets125(maxModelLen),
    ),
    generationTokens: histogram(
      "vllm:request_generation_tokens",
      "Number of generation tokens processed.",
      buckets125(maxModelLen),
    ),
    bestOf: histogram(
      "vllm:request_params_best_of",
      "Histogram of the best_of request parameter.",
      REQUEST_PARAM_BUCKETS,
    ),
    n: histogram("vllm:request_params_n", "Histogram of the n request parameter.", REQUEST_PARAM_BUCKETS),
  } as Record<HistName, Hist>;
  family("vllm:request_success_total", "counter", "Count of successfully processed requests.");
  const success = {} as Record<FinishedReason, number>;
  for (const reason of ["stop", "length", "abort"] as const)
    success[reason] = sample("vllm:request_success_total", [["finished_reason", reason], model]);
  const promptThroughput = scalar(
    "vllm:avg_prompt_throughput_toks_per_s",
    "gauge",
    "Average prefill throughput in tokens/s.",
  );
  const generationThroughput = scalar(
    "vllm:avg_generation_throughput_toks_per_s",
    "gauge",
    "Average generation throughput in tokens/s.",
  );
  const kvCacheUsage = scalar(
    "vllm:kv_cache_usage_perc",
    "gauge",
    "KV-cache usage. 1 means 100 percent usage.",
  );
  family(
    "vllm:engine_sleep_state",
    "gauge",
    "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; " +
      "weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
  );
  const sleep = (state: string, on: number): number =>
    sample("vllm:engine_sleep_state", [model, ["sleep_state", state]], on);
  const awake = sleep("awake", 1);
  const weightsOffloaded = sleep("weights_offloaded", 0);
  const discardAll = sleep("discard_all", 0);
  const prefixQueries = scalar(
    "vllm:prefix_cache_queries_total",
    "counter",
    "Prefix cache queries, in terms of number of queried tokens.",
  );
  const prefixHits = scalar(
    "vllm:prefix_cache_hits_total",
    "counter",
    "Prefix cache hits, in terms of number of cached tokens.",
  );
  // The twin has no KV connector and no multi-modal inputs: these stay at zero.
  const crossInstance = "from KV connector cross-instance cache sharing, in terms of number of";
  scalar(
    "vllm:external_prefix_cache_queries_total",
    "counter",
    `External prefix cache queries ${crossInstance} queried tokens.`,
  );
  scalar(
    "vllm:external_prefix_cache_hits_total",
    "counter",
    `External prefix cache hits ${crossInstance} cached tokens.`,
  );
  scalar(
    "vllm:mm_cache_queries_total",
    "counter",
    "Multi-modal cache queries, in terms of number of queried items.",
  );
  scalar(
    "vllm:mm_cache_hits_total",
    "counter",
    "Multi-modal cache hits, in terms of number of cached items.",
  );
  family("vllm:prompt_tokens_by_source_total", "counter", "Number of prompt tokens by source.");
  const bySource = (source: string): number =>
    sample("vllm:prompt_tokens_by_source_total", [model, ["source", source]]);
  const localCompute = bySource("local_compute");
  const localCacheHit = bySource("local_cache_hit");
  bySource("external_kv_transfer");
  const cachedTokens = scalar(
    "vllm:prompt_tokens_cached_total",
    "counter",
    "Number of cached prompt tokens (local + external).",
  );
  scalar(
    "vllm:prompt_tokens_recomputed_total",
    "counter",
    "Number of cached tokens recomputed for forward pass.",
  );
  h.iterationTokens = histogram(
    "vllm:iteration_tokens_total",
    "Histogram of number of tokens per engine_step.",
    ITERATION_TOKEN_BUCKETS,
  );
  h.maxGenerationTokens = histogram(
    "vllm:request_max_num_generation_tokens",
    "Histogram of maximum number of requested generation tokens.",
    buckets125(maxModelLen),
  );
  h.maxTokens = histogram(
    "vllm:request_params_max_tokens",
    "Histogram of the max_tokens request parameter.",
    buckets125(maxModelLen),
  );
  h.itl = histogram(
    "vllm:inter_token_latency_seconds",
    "Histogram of inter-token latency in seconds.",
    ITL_BUCKETS,
  );
  h.requestTpot = histogram(
    "vllm:request_time_per_output_token_seconds",
    "Histogram of time_per_output_token_seconds per request.",
    ITL_BUCKETS,
  );
  const phase = (name: string, what: string): Hist =>
    histogram(
      `vllm:request_${name}_time_seconds`,
      `Histogram of time spent in ${what} phase for request.`,
      PHASE_BUCKETS,
    );
  h.queue = phase("queue", "WAITING");
  h.inference = phase("inference", "RUNNING");
  h.prefill = phase("prefill", "PREFILL");
  h.decode = phase("decode", "DECODE");
  h.kvComputedTokens = histogram(
    "vllm:request_prefill_kv_computed_tokens",
    "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
    buckets125(maxModelLen),
  );
  pieces.push(pending);

  const s = {
    ...{ startTime, cpuSeconds, running, waiting, swapped, gpuCacheUsage, cpuCacheUsage, preemptions },
    ...{ promptTokens, generationTokens, promptThroughput, generationThroughput, kvCacheUsage },
    ...{ awake, weightsOffloaded, discardAll, prefixQueries, prefixHits, localCompute, localCacheHit },
    cachedTokens,
    success,
  };
  return { pieces, initial: Float64Array.from(initial), s, h };
}

/** `v[slot] += by`. */
function add(v: Float64Array, slot: number, by: number): void {
  v[slot] = v[slot]! + by;
}

/** Observes `value` `times` times: every bucket from the first whose bound holds it, `_count`, `_sum`. */
function observe(v: Float64Array, hist: Hist, value: number, times: number): void {
  if (!(value >= 0 && value < Number.POSITIVE_INFINITY))
    throw new RangeError(`observation must be finite and >= 0, got ${value}`);
  const { first, bounds } = hist;
  let b = 0;
  while (b < bounds.length && value > bounds[b]!) b++;
  const inf = first + bounds.length;
  for (let i = first + b; i <= inf; i++) add(v, i, times);
  add(v, inf + 1, times);
  add(v, inf + 2, value * times);
}
