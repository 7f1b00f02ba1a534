/**
 * The twin against a real Prometheus: file_sd discovery of every node, scrapes that succeed, and
 * the dcgm series queryable. Needs the `prometheus` binary (Debian package `prometheus`); without
 * it this test fails rather than skips, because CI installs it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningSim, startSim } from "../src/index.ts";
import { example } from "./factories.ts";

const lab = example("lab");
const dir = mkdtempSync(join(tmpdir(), "sim-prometheus-"));
let sim: RunningSim | undefined;
let prometheus: ChildProcess | undefined;
let api = "";
let log = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

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
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; prometheus log:\n${log}`);
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
    try {
      execFileSync("prometheus", ["--version"], { stdio: "ignore" });
    } catch (err) {
      throw new Error(
        `the prometheus binary is needed (apt-get install prometheus): ${(err as Error).message}`,
      );
    }
    const targets = join(dir, "targets.json");
    sim = await startSim({ factoryFile: lab.file, port: 0, seed: 8, speed: 5, targetsFile: targets });
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: sim\n` +
        `    file_sd_configs:\n      - files: ["${targets}"]\n        refresh_interval: 1s\n`,
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
    });
    await until("prometheus to be ready", 30, async () =>
      (await fetch(`${api}/-/ready`)).ok ? true : undefined,
    );
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once("exit", r));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("discovers every node and scrapes each without a failure", async () => {
    const active = await until("every target scraped twice and up", 30, async () => {
      const { activeTargets } = await query<{ activeTargets: Target[] }>("/api/v1/targets?state=active");
      const scrapedTwice = await query<{ result: unknown[] }>(
        `/api/v1/query?query=${encodeURIComponent("count_over_time(up[1m]) >= 2")}`,
      );
      return activeTargets.length === 16 && scrapedTwice.result.length === 16 ? activeTargets : undefined;
    });
    for (const t of active) {
      assert.equal(t.health, "up", `${t.labels.node}: ${t.lastError}`);
      assert.equal(t.lastError, "", t.labels.node);
      assert.equal(t.labels.job, "dcgm");
    }
    assert.deepEqual(new Set(active.map((t) => t.labels.node)).size, 16);
    const up = await query<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      "/api/v1/query?query=up",
    );
    assert.equal(up.result.length, 16);
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
});
