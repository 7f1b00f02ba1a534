/**
 * A real Prometheus for tests (Debian package `prometheus`): started on a free loopback port with
 * the config given, its data in a temporary folder, ready when `start` resolves. Missing binary is
 * a failure, not a skip: CI installs it.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPrometheus {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Its folder: the config, the TSDB, and any file the config refers to. */
  dir: string;
  /** What it wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts Prometheus with `config` (YAML text; `config(dir)` to refer to files in its folder) and
 * extra flags such as `--web.enable-remote-write-receiver`; resolves once `/-/ready` answers.
 */
export async function startPrometheus(
  config: string | ((dir: string) => string),
  flags: readonly string[] = [],
): Promise<TestPrometheus> {
  try {
    execFileSync("prometheus", ["--version"], { stdio: "ignore" });
  } catch (err) {
    throw new Error(
      `the prometheus binary is needed (apt-get install prometheus): ${(err as Error).message}`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "fd-prometheus-"));
  writeFileSync(join(dir, "prometheus.yml"), typeof config === "string" ? config : config(dir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
      ...flags,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited:\n${log}`);
    }
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not get ready in 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, dir, log: () => log, stop };
}
