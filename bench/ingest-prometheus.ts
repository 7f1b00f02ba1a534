/**
 * A real Prometheus for the ingest benchmark: started on a file_sd targets file, and read from
 * outside — its CPU time from /proc, its samples from its own
 * `prometheus_tsdb_head_samples_appended_total` — so that measuring it costs it next to nothing.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** Cumulative counters of a process at one instant. */
export interface Mark {
  cpuSeconds: number;
  samples: number;
  rssMB: number;
}

export interface RunningPrometheus {
  pid: number;
  url: string;
  version: string;
  mark(): Promise<Mark>;
  /** Scrapes of `up` stored over the `seconds` before `atSeconds` (Unix time), and how many failed. */
  scrapeHealth(seconds: number, atSeconds: number): Promise<{ scrapes: number; failed: number }>;
  stop(): Promise<void>;
}

/** Clock ticks a second, the unit of /proc CPU times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU seconds of a process so far, from /proc/PID/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Resident memory of a process, from /proc/PID/status. */
export function processRssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

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

/** Sum of every series of `name` on a Prometheus text page. */
function sumOf(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== " " && line[name.length] !== "{")) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/**
 * Starts Prometheus scraping every target of `targetsFile` each `intervalSeconds`, its TSDB under
 * `dir`; resolves once it is ready.
 */
export async function startPrometheus(
  dir: string,
  targetsFile: string,
  intervalSeconds: number,
  timeoutSeconds: number,
): Promise<RunningPrometheus> {
  const version = /version (\S+)/.exec(execFileSync("prometheus", ["--version"], { encoding: "utf8" }))?.[1];
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    `global:\n  scrape_interval: ${intervalSeconds}s\n  scrape_timeout: ${timeoutSeconds}s\n` +
      `scrape_configs:\n  - job_name: dcgm\n    file_sd_configs:\n      - files: ["${targetsFile}"]\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "prometheus")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
      if (
        await fetch(`${url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within 30 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const query = async (q: string, at: number): Promise<number> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}&time=${at}`);
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    return Number(body.data.result[0]?.value[1] ?? 0);
  };
  return {
    pid: child.pid!,
    url,
    version: version ?? "unknown",
    async mark() {
      const cpuSeconds = processCpuSeconds(child.pid!);
      const page = await (await fetch(`${url}/metrics`)).text();
      return {
        cpuSeconds,
        samples: sumOf(page, "prometheus_tsdb_head_samples_appended_total"),
        rssMB: processRssMB(child.pid!),
      };
    },
    async scrapeHealth(seconds, atSeconds) {
      // One expression for the failures: a scrape that ends between two queries lands in only one.
      const range = `up[${seconds}s]`;
      const scrapes = await query(`sum(count_over_time(${range}))`, atSeconds);
      const failed = await query(`sum(count_over_time(${range}) - sum_over_time(${range}))`, atSeconds);
      return { scrapes, failed };
    },
    stop,
  };
}
