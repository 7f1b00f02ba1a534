import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  createVllmStats,
  type FinishedReason,
  formatPromFloat,
  recordFinishedRequest,
  recordIteration,
  recordPreemption,
  renderVllmPage,
  setLoad,
} from "../src/exporters/vllm.ts";
import { sharedData } from "./factories.ts";
import { type Family, parsePromText } from "./prom-text.ts";

// The fixture has no trailing newline (as in its source); a live page ends with one.
const captureText = readFileSync(sharedData("fixtures/vllm/datadog-vllm-metrics-opt-125m.prom"), "utf8");
const capture = parsePromText(`${captureText}\n`);
const MODEL = "facebook/opt-125m";

/** Families whose capture lists only some of vLLM V1's buckets (Datadog appended them by hand). */
const V1_BUCKETS: Record<string, number[]> = {
  "vllm:iteration_tokens_total": [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
  "vllm:request_max_num_generation_tokens": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
  "vllm:request_params_max_tokens": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
  "vllm:request_prefill_kv_computed_tokens": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
  "vllm:inter_token_latency_seconds": [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  ],
  "vllm:request_time_per_output_token_seconds": [
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  ],
  ...Object.fromEntries(
    ["queue", "inference", "prefill", "decode"].map((p) => [
      `vllm:request_${p}_time_seconds`,
      [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
    ]),
  ),
};

/** A number as the text format writes it (`Number` does not read `+Inf`). */
const promNumber = (text: string): number => (text === "+Inf" ? Number.POSITIVE_INFINITY : Number(text));
/** A family's samples grouped by suffix; the histogram of `name` has `name_bucket` etc. as separate families. */
const bucketBounds = (page: Map<string, Family>, name: string): number[] =>
  page.get(`${name}_bucket`)!.samples.map((s) => promNumber(Object.fromEntries(s.labels).le!));
const labelNames = (page: Map<string, Family>, name: string): string[] => {
  const names = new Set<string>();
  for (const suffix of ["", "_bucket", "_count", "_sum"])
    for (const s of page.get(name + suffix)?.samples ?? [])
      for (const [k] of s.labels) if (k !== "le") names.add(k);
  return [...names].sort();
};
/** The one value of a family with these labels (besides `model_name`). */
const value = (page: Map<string, Family>, name: string, labels: Record<string, string> = {}): number => {
  const hits = page
    .get(name)!
    .samples.filter((s) =>
      Object.entries(labels).every(([k, v]) => s.labels.some(([k2, v2]) => k2 === k && v2 === v)),
    );
  assert.equal(hits.length, 1, `${name} ${JSON.stringify(labels)}`);
  return hits[0]!.value;
};
/** The names declared by `# TYPE` lines: histograms once, not per suffix. */
const declared = (page: Map<string, Family>): string[] =>
  [...page.values()].filter((f) => f.type !== undefined).map((f) => f.name);

// The capture's single V0 request: 5 prompt tokens, 7 generated, stopped at max_tokens.
const V0_REQUEST = {
  promptTokens: 5,
  generationTokens: 7,
  queueSeconds: 0.001,
  ttftSeconds: 0.31326723098754883,
  prefillSeconds: 0.3,
  decodeSeconds: 0.19016313552856445,
  e2eSeconds: 0.5034303665161133,
  finishedReason: "length" as const,
};
const replica = createVllmStats({ modelName: MODEL, numGpuBlocks: 7281, startTimeSeconds: 1718140558.3 });
recordIteration(replica, { promptTokens: 5, generationTokens: 7 });
recordFinishedRequest(replica, V0_REQUEST);
const pageText = renderVllmPage(replica);
const page = parsePromText(pageText);

describe("vLLM /metrics page against fixtures/vllm/datadog-vllm-metrics-opt-125m.prom", () => {
  it("declares exactly the capture's families, python_* and process_* included, in its order", () => {
    assert.deepEqual(declared(page), declared(capture));
    assert.equal(declared(page).filter((n) => n.startsWith("vllm:")).length, 40);
  });

  it("has the capture's TYPE, HELP and label names for every family", () => {
    for (const name of declared(capture)) {
      const ours = page.get(name)!;
      const theirs = capture.get(name)!;
      assert.equal(ours.type, theirs.type, name);
      assert.equal(ours.help, theirs.help, name);
      assert.deepEqual(labelNames(page, name), labelNames(capture, name), name);
    }
  });

  it("has the capture's buckets for the V0 histograms and vLLM V1's full lists, a superset, for the rest", () => {
    const histograms = declared(capture).filter((n) => capture.get(n)!.type === "histogram");
    assert.equal(histograms.length, 17);
    for (const name of histograms) {
      const theirs = bucketBounds(capture, name);
      const ours = bucketBounds(page, name);
      if (V1_BUCKETS[name]) {
        assert.deepEqual(ours, [...V1_BUCKETS[name], Number.POSITIVE_INFINITY], name);
        for (const le of theirs) assert.ok(ours.includes(le), `${name} lacks le=${le}`);
      } else assert.deepEqual(ours, theirs, name);
    }
  });

  it("writes the capture's V0 request byte for byte where the same values went in", () => {
    const lines = (text: string, prefix: string): string[] =>
      text.split("\n").filter((l) => l.replace(/^# (HELP|TYPE) /, "").startsWith(prefix));
    const same = [
      "vllm:cache_config_info",
      "vllm:num_requests_",
      "vllm:gpu_cache_usage_perc",
      "vllm:cpu_cache_usage_perc",
      "vllm:num_preemptions_total",
      "vllm:prompt_tokens_total",
      "vllm:generation_tokens_total",
      "vllm:time_to_first_token_seconds",
      "vllm:e2e_request_latency_seconds",
      "vllm:request_prompt_tokens",
      "vllm:request_generation_tokens",
      "vllm:request_params_",
      "vllm:engine_sleep_state",
      "python_",
      "process_start_time_seconds",
      "process_max_fds",
    ];
    for (const prefix of same) {
      const theirs = lines(captureText, prefix).filter((l) => !l.includes("max_tokens"));
      assert.ok(theirs.length > 0, prefix);
      assert.deepEqual(
        lines(pageText, prefix).filter((l) => !l.includes("max_tokens")),
        theirs,
        prefix,
      );
    }
    // The time per output token: six gaps, all in the capture's 0.05 bucket, the capture's sum.
    const tpot = (text: string) =>
      lines(text, "vllm:time_per_output_token_seconds").filter((l) => !l.includes("_sum"));
    assert.deepEqual(tpot(pageText), tpot(captureText));
    assert.equal(value(page, "vllm:time_per_output_token_seconds_sum"), 0.19016313552856445);
  });

  it("labels every vllm: sample with the model; request_success has stop, length and abort from the start", () => {
    for (const f of page.values())
      if (f.name.startsWith("vllm:") && f.name !== "vllm:cache_config_info")
        for (const s of f.samples) assert.equal(Object.fromEntries(s.labels).model_name, MODEL, f.name);
    assert.deepEqual(
      page
        .get("vllm:request_success_total")!
        .samples.map((s) => [Object.fromEntries(s.labels).finished_reason, s.value]),
      [
        ["stop", 0],
        ["length", 1],
        ["abort", 0],
      ],
    );
  });
});

describe("vLLM stats", () => {
  // A deterministic mix of requests across buckets, with and without per-gap latencies.
  const stats = createVllmStats({ modelName: 'org/"odd"\\name', numGpuBlocks: 1000, maxModelLen: 8192 });
  const reasons: FinishedReason[] = ["stop", "length", "abort"];
  const requests = Array.from({ length: 40 }, (_, i) => ({
    promptTokens: 10 + ((i * 397) % 6000),
    cachedPromptTokens: (i * 16) % 64,
    generationTokens: 1 + ((i * 131) % 900),
    queueSeconds: (i % 7) * 0.37,
    ttftSeconds: 0.002 * (i + 1) ** 2,
    prefillSeconds: 0.01 * i,
    decodeSeconds: 0.5 + i * 0.9,
    e2eSeconds: 1 + i * 1.7,
    finishedReason: reasons[i % 3]!,
    ...(i % 5 === 0 ? { maxTokens: 1024 } : {}),
  }));
  const steps = Array.from({ length: 100 }, (_, i) => ({
    promptTokens: (i * 613) % 3000,
    generationTokens: i % 64,
    cachedPromptTokens: (i * 613) % 3000 > 100 ? 32 : 0,
  }));
  const itl = [0.004, 0.02, 0.02, 0.3, 90];
  for (const r of requests) recordFinishedRequest(stats, r);
  recordFinishedRequest(stats, { ...requests[0]!, generationTokens: 6, interTokenSeconds: itl });
  for (const s of steps) recordIteration(stats, s);
  recordPreemption(stats, 3);
  recordPreemption(stats, 2);
  setLoad(stats, {
    running: 17,
    waiting: 5,
    swapped: 2,
    kvCacheUsage: 0.625,
    cpuCacheUsage: 0.125,
    sleepLevel: 1,
  });
  const p = parsePromText(renderVllmPage(stats));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const all = [...requests, { ...requests[0]!, generationTokens: 6 }];

  it("escapes the model name in every label", () => {
    assert.equal(
      Object.fromEntries(p.get("vllm:num_requests_running")!.samples[0]!.labels).model_name,
      'org/\\"odd\\"\\\\name',
    );
  });

  it("keeps histograms cumulative, +Inf equal to _count, and _sum equal to what was recorded", () => {
    const histograms = declared(p).filter((n) => p.get(n)!.type === "histogram");
    assert.equal(histograms.length, 17);
    for (const name of histograms) {
      const buckets = p.get(`${name}_bucket`)!.samples;
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, name);
      assert.equal(buckets.at(-1)!.value, value(p, `${name}_count`), name);
    }
    const checks: [string, number[]][] = [
      ["vllm:e2e_request_latency_seconds", all.map((r) => r.e2eSeconds)],
      ["vllm:time_to_first_token_seconds", all.map((r) => r.ttftSeconds)],
      ["vllm:request_queue_time_seconds", all.map((r) => r.queueSeconds)],
      ["vllm:request_inference_time_seconds", all.map((r) => r.prefillSeconds + r.decodeSeconds)],
      ["vllm:request_prompt_tokens", all.map((r) => r.promptTokens)],
      ["vllm:request_prefill_kv_computed_tokens", all.map((r) => r.promptTokens - r.cachedPromptTokens)],
      [
        "vllm:request_params_max_tokens",
        all.map((r) => (r as { maxTokens?: number }).maxTokens ?? r.generationTokens),
      ],
      ["vllm:iteration_tokens_total", steps.map((s) => s.promptTokens + s.generationTokens)],
    ];
    for (const [name, xs] of checks) {
      assert.equal(value(p, `${name}_count`), xs.length, name);
      assert.ok(Math.abs(value(p, `${name}_sum`) - sum(xs)) < 1e-9 * sum(xs), name);
      for (const b of p.get(`${name}_bucket`)!.samples) {
        const le = promNumber(Object.fromEntries(b.labels).le!);
        assert.equal(b.value, xs.filter((x) => x <= le).length, `${name} le=${le}`);
      }
    }
  });

  it("takes one inter-token observation per gap, the mean gap when none are given", () => {
    const gaps = sum(all.map((r) => r.generationTokens - 1));
    for (const name of ["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"]) {
      assert.equal(value(p, `${name}_count`), gaps, name);
      // A request of one token has no gap, so its decode time is not observed.
      const decode =
        sum(requests.filter((r) => r.generationTokens > 1).map((r) => r.decodeSeconds)) + sum(itl);
      assert.ok(Math.abs(value(p, `${name}_sum`) - decode) < 1e-9 * decode, name);
    }
    // One gap of 90 s lands past the V0 histogram's last bound (2.5) and inside V1's 80 < 90 ≤ +Inf.
    const itlBuckets = p.get("vllm:inter_token_latency_seconds_bucket")!.samples;
    assert.equal(itlBuckets.at(-1)!.value - itlBuckets.at(-2)!.value, 1);
    assert.equal(
      value(p, "vllm:request_time_per_output_token_seconds_count"),
      all.filter((r) => r.generationTokens > 1).length,
    );
  });

  it("adds counters up to what was recorded", () => {
    const prompt = sum(steps.map((s) => s.promptTokens));
    const cached = sum(steps.map((s) => s.cachedPromptTokens));
    assert.equal(value(p, "vllm:prompt_tokens_total"), prompt);
    assert.equal(value(p, "vllm:generation_tokens_total"), sum(steps.map((s) => s.generationTokens)));
    assert.equal(value(p, "vllm:prefix_cache_queries_total"), prompt);
    assert.equal(value(p, "vllm:prefix_cache_hits_total"), cached);
    assert.equal(value(p, "vllm:prompt_tokens_cached_total"), cached);
    assert.equal(
      value(p, "vllm:prompt_tokens_by_source_total", { source: "local_compute" }),
      prompt - cached,
    );
    assert.equal(value(p, "vllm:prompt_tokens_by_source_total", { source: "local_cache_hit" }), cached);
    assert.equal(value(p, "vllm:num_preemptions_total"), 5);
    for (const reason of reasons)
      assert.equal(
        value(p, "vllm:request_success_total", { finished_reason: reason }),
        all.filter((r) => r.finishedReason === reason).length,
        reason,
      );
    assert.ok(Math.abs(value(p, "process_cpu_seconds_total") - (10.95 + 100 * 0.002)) < 1e-9);
  });

  it("shows the load last set", () => {
    assert.equal(value(p, "vllm:num_requests_running"), 17);
    assert.equal(value(p, "vllm:num_requests_waiting"), 5);
    assert.equal(value(p, "vllm:num_requests_swapped"), 2);
    assert.equal(value(p, "vllm:gpu_cache_usage_perc"), 0.625);
    assert.equal(value(p, "vllm:kv_cache_usage_perc"), 0.625);
    assert.equal(value(p, "vllm:cpu_cache_usage_perc"), 0.125);
    assert.equal(value(p, "vllm:engine_sleep_state", { sleep_state: "awake" }), 0);
    assert.equal(value(p, "vllm:engine_sleep_state", { sleep_state: "weights_offloaded" }), 1);
    assert.equal(value(p, "vllm:engine_sleep_state", { sleep_state: "discard_all" }), 0);
    assert.equal(value(p, "vllm:cache_config_info", { num_gpu_blocks: "1000", block_size: "16" }), 1);
  });

  it("never lowers a counter or bucket between scrapes", () => {
    const s = createVllmStats({ modelName: "m", numGpuBlocks: 10 });
    let before = parsePromText(renderVllmPage(s));
    for (let i = 0; i < 5; i++) {
      recordIteration(s, { promptTokens: i * 100, generationTokens: i });
      recordFinishedRequest(s, { ...requests[i]!, cachedPromptTokens: 0 });
      setLoad(s, { running: 5 - i, waiting: 0, kvCacheUsage: 0.1 * (5 - i) });
      const after = parsePromText(renderVllmPage(s));
      for (const f of after.values()) {
        const monotonic = f.type === "counter" || /_(bucket|count|sum)$/.test(f.name);
        if (!monotonic) continue;
        const was = before.get(f.name)!.samples;
        for (const [j, x] of f.samples.entries()) assert.ok(x.value >= was[j]!.value, f.name);
      }
      before = after;
    }
    assert.equal(value(before, "vllm:request_success_total", { finished_reason: "stop" }), 2);
  });

  it("rejects negative and non-finite observations", () => {
    const s = createVllmStats({ modelName: "m", numGpuBlocks: 10 });
    assert.throws(() => recordIteration(s, { promptTokens: -1, generationTokens: 0 }), RangeError);
    assert.throws(
      () => recordIteration(s, { promptTokens: 5, generationTokens: 0, cachedPromptTokens: 6 }),
      RangeError,
    );
    assert.throws(() => recordFinishedRequest(s, { ...V0_REQUEST, e2eSeconds: Number.NaN }), RangeError);
    assert.throws(() => recordPreemption(s, Number.POSITIVE_INFINITY), RangeError);
  });
});

describe("formatPromFloat", () => {
  it("writes floats as prometheus_client's floatToGoString does", () => {
    const table: [number, string][] = [
      [0, "0.0"],
      [1, "1.0"],
      [1234.5, "1234.5"],
      [7431, "7431.0"],
      [999999, "999999.0"],
      [1e6, "1e+06"],
      [1e9, "1e+09"],
      [1048576, "1.048576e+06"],
      [6634254336, "6.634254336e+09"],
      [1718140558.3, "1.7181405583e+09"],
      [12345678901.5, "1.23456789015e+010"],
      [1e16, "1e+16"],
      [1.5e17, "1.5e+17"],
      [10.950000000000001, "10.950000000000001"],
      [0.0001, "0.0001"],
      [1e-5, "1e-05"],
      [7.358146831393242e-5, "7.358146831393242e-05"],
      [1.5e-300, "1.5e-300"],
      [-2.5, "-2.5"],
      [-3e6, "-3000000.0"],
      [Number.POSITIVE_INFINITY, "+Inf"],
      [Number.NaN, "NaN"],
    ];
    for (const [v, text] of table) assert.equal(formatPromFloat(v), text, String(v));
  });

  it("reproduces every value and bucket bound written in the capture", () => {
    let seen = 0;
    for (const line of captureText.split("\n")) {
      if (line.startsWith("#")) continue;
      const text = line.slice(line.lastIndexOf(" ") + 1);
      assert.equal(formatPromFloat(promNumber(text)), text, line);
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le !== undefined) assert.equal(formatPromFloat(promNumber(le)), le, line);
      seen++;
    }
    assert.ok(seen > 180, `checked ${seen} samples`);
  });
});
