/**
 * API benchmark: the control plane serving the ~1 GW model in its own process, driven at a fixed
 * 500 requests/s over loopback by autocannon, with topology queries on random entities.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { type Row, rng } from "./lib.ts";
import { GIGAWATT } from "./model.ts";

const root = join(import.meta.dirname, "..");
const RATE = 500;

async function startServer(dataDir: string, port: number): Promise<() => Promise<void>> {
  const child = spawn(
    process.execPath,
    [
      join(root, "packages/cli/bin/flightdeck.js"),
      "--data",
      dataDir,
      "serve",
      "--port",
      String(port),
      "--factory",
      GIGAWATT,
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("listening on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return async () => {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  };
}

async function drive(
  url: string,
  token: string,
  paths: string[],
  seconds: number,
): Promise<autocannon.Result> {
  const random = rng(7);
  return autocannon({
    url,
    connections: 16,
    duration: seconds,
    overallRate: RATE,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      {
        method: "GET",
        setupRequest: (req) => ({ ...req, path: paths[Math.floor(random() * paths.length)]! }),
      },
    ],
  });
}

export async function benchApi(seconds = 10): Promise<Row[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "fd-bench-"));
  const port = 17_000 + Math.floor(Math.random() * 2000);
  const stop = await startServer(dataDir, port);
  try {
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    const url = `http://127.0.0.1:${port}`;
    const random = rng(3);
    const pick = (n: number) => Math.floor(random() * n);
    const paths: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const hall = `hall${1 + pick(4)}`;
      const row = `row${String(1 + pick(20)).padStart(2, "0")}`;
      const rack = `${hall}-${row}-r${String(1 + pick(50)).padStart(2, "0")}`;
      const tray = `${rack}-ct${String(1 + pick(18)).padStart(2, "0")}`;
      const gpu = `gpu:${tray}/${pick(4)}`;
      paths.push(
        [
          `/v1/topology/entities/${encodeURIComponent(gpu)}/power-path`,
          `/v1/topology/entities/${encodeURIComponent(gpu)}`,
          `/v1/topology/nodes?rack=${rack}`,
          `/v1/topology/gpus?node=${tray}`,
          `/v1/topology/entities/rack:${rack}/descendants?kind=gpu`,
        ][i % 5]!,
      );
    }
    const warm = await drive(url, token, paths, 2);
    if (warm.non2xx > 0) throw new Error(`${warm.non2xx} topology requests failed`);
    const topo = await drive(url, token, paths, seconds);
    const health = await drive(url, token, ["/healthz"], seconds);
    if (topo.non2xx > 0 || topo.errors > 0)
      throw new Error(`${topo.non2xx + topo.errors} topology requests failed`);
    return [
      {
        bench: "api.topology.1gw",
        metric: "p99 latency at 500 req/s",
        value: topo.latency.p99,
        unit: "ms",
        target: "<= 20",
      },
      {
        bench: "api.topology.1gw",
        metric: "median latency",
        value: topo.latency.p50,
        unit: "ms",
        target: "",
      },
      {
        bench: "api.topology.1gw",
        metric: "requests/s served",
        value: topo.requests.average,
        unit: "req/s",
        target: ">= 490",
      },
      {
        bench: "api.topology.1gw",
        metric: "baseline: /healthz p99 at 500 req/s",
        value: health.latency.p99,
        unit: "ms",
        target: "",
      },
    ];
  } finally {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
