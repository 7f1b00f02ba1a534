/**
 * The twin against a real Prometheus: file_sd discovery of every node, model server and training
 * job of the lab scenario, scrapes that all succeed, and the dcgm, vLLM and trainer series
 * queryable. Needs the `prometheus` binary (Debian package `prometheus`); without
 * it this test fails rather than skips, because CI installs it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startPrometheus, type TestPrometheus } from "../../../scripts/testing/prometheus.ts";
import { type RunningSim, startSim } from "../src/index.ts";
import { example, repoPath } from "./factories.ts";

const lab = example("lab");
let sim: RunningSim | undefined;
let prometheus: TestPrometheus | undefined;
let api = "";

async function query<T>(path: string): Promise<T> {
  const res = await fetch(`${api}${path}`);
  const body = (await res.json()) as { status: string; data: T };
  assert.equal(body.status, "success", path);
  return body.data;
}

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; prometheus log:\n${prometheus?.log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Target {
  health: string;
  lastError: string;
  lastScrape: string;
  labels: Record<string, string>;
}

describe("a real Prometheus scraping the twin", () => {
  before(async () => {
    prometheus = await startPrometheus(
      (dir) =>
        `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: sim\n` +
        `    file_sd_configs:\n      - files: ["${join(dir, "targets.json")}"]\n        refresh_interval: 1s\n`,
    );
    api = prometheus.url;
    sim = await startSim({
      factoryFile: lab.file,
      scenarioFile: repoPath("examples/scenarios/lab.yaml"),
      port: 0,
      seed: 8,
      speed: 5,
      targetsFile: join(prometheus.dir, "targets.json"),
    });
  });

  after(async () => {
    await prometheus?.stop();
    await sim?.stop();
  });

  // 16 DGX nodes, 2 + 4 vLLM replicas and 2 training jobs.
  const TARGETS = 24;

  it("discovers every node, model server and job and scrapes each without a failure", async () => {
    const active = await until("every target scraped twice and up", 30, async () => {
      const { activeTargets } = await query<{ activeTargets: Target[] }>("/api/v1/targets?state=active");
      const scrapedTwice = await query<{ result: unknown[] }>(
        `/api/v1/query?query=${encodeURIComponent("count_over_time(up[1m]) >= 2")}`,
      );
      return activeTargets.length === TARGETS && scrapedTwice.result.length === TARGETS
        ? activeTargets
        : undefined;
    });
    for (const t of active) {
      assert.equal(t.health, "up", `${JSON.stringify(t.labels)}: ${t.lastError}`);
      assert.equal(t.lastError, "", JSON.stringify(t.labels));
    }
    const byJob = (job: string) => active.filter((t) => t.labels.job === job);
    assert.equal(new Set(byJob("dcgm").map((t) => t.labels.node)).size, 16);
    assert.deepEqual(
      byJob("vllm")
        .map((t) => t.labels.server)
        .sort(),
      ["acme-chat-0", "acme-chat-1", "globex-code-0", "globex-code-1", "globex-code-2", "globex-code-3"],
    );
    assert.deepEqual(
      byJob("training")
        .map((t) => t.labels.job_name)
        .sort(),
      ["acme-pretrain", "globex-finetune"],
    );
    const up = await query<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      "/api/v1/query?query=up",
    );
    assert.equal(up.result.length, TARGETS);
    assert.ok(up.result.every((r) => r.value[1] === "1"));
    // No scrape ever failed: up was 1 at every scrape of the last minute.
    const failed = await query<{ result: unknown[] }>(
      `/api/v1/query?query=${encodeURIComponent("min_over_time(up[1m]) < 1")}`,
    );
    assert.deepEqual(failed.result, []);
  });

  it("stores the dcgm series of all 128 GPUs", async () => {
    const power = await query<{ result: { metric: Record<string, string> }[] }>(
      "/api/v1/query?query=DCGM_FI_DEV_POWER_USAGE",
    );
    assert.equal(power.result.length, 128);
    assert.ok(power.result.every((r) => r.metric.modelName === "NVIDIA H100 80GB HBM3" && r.metric.UUID));
  });

  it("stores every replica's token counters and every job's training tokens", async () => {
    const generated = await query<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent("vllm:generation_tokens_total")}`,
    );
    assert.equal(generated.result.length, 6);
    assert.ok(generated.result.every((r) => Number(r.value[1]) > 0));
    const trained = await query<{ result: { metric: Record<string, string> }[] }>(
      "/api/v1/query?query=training_tokens_total",
    );
    assert.deepEqual(trained.result.map((r) => r.metric.job_name).sort(), [
      "acme-pretrain",
      "globex-finetune",
    ]);
  });
});
