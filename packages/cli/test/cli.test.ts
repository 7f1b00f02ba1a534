/**
 * The `flightdeck` command as users run it: the installed binary in a child process, a real server
 * on a free port with its state in a temporary folder, and the client commands against it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin", "flightdeck");
const EXAMPLES = join(ROOT, "examples", "factories");
const LAB = readFileSync(join(EXAMPLES, "lab.yaml"), "utf8");

/** The environment of the children: none of the caller's Flightdeck settings leak in. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ["FLIGHTDECK_TOKEN", "FLIGHTDECK_URL", "FLIGHTDECK_DATABASE_URL", "NODE_TEST_CONTEXT"])
    delete env[name];
  return env;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary to the end. */
function flightdeck(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`flightdeck ${args.join(" ")} ran over ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The number of the first line of `text` that contains `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, marker);
  return i + 1;
}

const tmp = mkdtempSync(join(tmpdir(), "flightdeck-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A YAML syntax error (a mapping inside a compact mapping). */
const YAML_ERROR = LAB.replace("  name: lab\n", "  name: lab: two\n");
const YAML_ERROR_LINE = lineOf(YAML_ERROR, "lab: two");
/** A rack group fed by a power device that does not exist. */
const SEMANTIC_ERROR = LAB.replace(
  "org: globex\n            power: { A: fpdu-a1, B: fpdu-b1 }",
  "org: globex\n            power: { A: fpdu-zz, B: fpdu-b1 }",
);
const SEMANTIC_ERROR_LINE = lineOf(SEMANTIC_ERROR, "fpdu-zz");
const brokenYaml = join(tmp, "broken-syntax.yaml");
const brokenModel = join(tmp, "broken-power.yaml");
writeFileSync(brokenYaml, YAML_ERROR);
writeFileSync(brokenModel, SEMANTIC_ERROR);

describe("flightdeck validate", { concurrency: true }, () => {
  const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));

  it("has examples to validate", () => {
    assert.ok(examples.includes("lab.yaml"), examples.join(", "));
  });

  for (const name of examples) {
    it(`accepts ${name}`, { timeout: 120_000 }, async () => {
      const file = join(EXAMPLES, name);
      const run = await flightdeck(["validate", file]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`^${reEscape(file)}: valid — \\d+ racks, \\d+ nodes, \\d+ GPUs`, "m"),
      );
      assert.doesNotMatch(run.stdout, /: error|^[^:]+:\d+:\d+: (?!warning:)/m);
    });
  }

  it("reports a YAML syntax error as FILE:LINE:COL: message and fails", async () => {
    const run = await flightdeck(["validate", brokenYaml]);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout, new RegExp(`^${reEscape(brokenYaml)}:${YAML_ERROR_LINE}:\\d+: YAML: .+$`, "m"));
    assert.match(run.stderr, /1 error\(s\)/);
  });

  it("reports a power device that does not exist with its line and column and fails", async () => {
    const run = await flightdeck(["validate", brokenModel]);
    assert.notEqual(run.code, 0);
    assert.match(
      run.stdout,
      new RegExp(
        `^${reEscape(brokenModel)}:${SEMANTIC_ERROR_LINE}:\\d+: power device "fpdu-zz" does not exist`,
        "m",
      ),
    );
  });

  it("prints the problems as JSON with --json", async () => {
    const run = await flightdeck(["validate", brokenModel, "--json"]);
    assert.notEqual(run.code, 0);
    const out = JSON.parse(run.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.problems[0].line, SEMANTIC_ERROR_LINE);
  });

  it("fails on a file that does not exist", async () => {
    const run = await flightdeck(["validate", join(tmp, "missing.yaml")]);
    assert.notEqual(run.code, 0);
  });
});

describe("flightdeck serve", () => {
  const data = join(tmp, "data");
  let port: number;
  let server: ChildProcess | undefined;
  let out = "";
  let err = "";
  let url: string;
  /** Client arguments for the running server, with the admin token read from the data folder. */
  const client = (...args: string[]): Promise<Run> => flightdeck([...args, "--server", url, "--data", data]);

  /** Starts `serve` and waits for its "listening" line and the rest of its banner. */
  async function start(): Promise<void> {
    out = "";
    err = "";
    const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), "--data", data], {
      cwd: ROOT,
      env: childEnv(),
    });
    server = child;
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "listening" line in 60 s\n${out}\n${err}`)),
        60_000,
      );
      const check = (): void => {
        // The "listening" line comes first; the API description line is the last of the banner.
        if (/listening/.test(out) && /API description: /.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", check);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code} before listening\n${out}\n${err}`));
      });
    });
  }

  /** Sends SIGTERM and waits for the exit. */
  function stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = server;
    assert.ok(child, "the server runs");
    return new Promise((resolve, reject) => {
      if (child.exitCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("serve did not stop within 20 s of SIGTERM"));
      }, 20_000);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        server = undefined;
        resolve({ code, signal });
      });
      child.kill("SIGTERM");
    });
  }

  before(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await start();
  });

  after(async () => {
    if (server && server.exitCode === null) server.kill("SIGKILL");
  });

  it("says where it listens, with the lab applied", () => {
    assert.match(out, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}\\b`));
    assert.match(out, /Factory "lab" revision 1: 4 racks, 16 nodes, 128 GPUs/);
    assert.match(out, /Admin token \(new\): fd_/);
  });

  it("answers /openapi.json", async () => {
    const res = await fetch(`${url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, "3.1.0");
    assert.ok(doc.paths["/v1/topology/racks"]);
  });

  it("keeps the admin token in the data folder, readable only by its owner", async () => {
    const file = join(data, "admin-token");
    const token = readFileSync(file, "utf8").trim();
    assert.match(token, /^fd_[A-Za-z0-9_-]{20,}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(out.includes(token), "the token printed at start is the one on disk");
    const res = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { role: string }).role, "provider-admin");
    const anonymous = await fetch(`${url}/v1/whoami`);
    assert.equal(anonymous.status, 401);
  });

  it("lists racks with `topology racks --json`", async () => {
    const run = await client("topology", "racks", "--json");
    assert.equal(run.code, 0, run.stderr);
    const res = JSON.parse(run.stdout) as { total: number; items: Array<{ id: string; org: string }> };
    assert.equal(res.total, 4);
    assert.deepEqual(
      res.items.map((r) => `${r.id} ${r.org}`),
      ["rack:r01 acme", "rack:r02 acme", "rack:r03 globex", "rack:r04 globex"],
    );
  });

  it("lists racks as a table, with filters", async () => {
    const run = await client("topology", "racks", "--org", "globex");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^ID\s+TYPE\s+ORG/m);
    assert.match(run.stdout, /^rack:r03\s+dgx-h100-4\s+globex/m);
    assert.doesNotMatch(run.stdout, /rack:r01/);
    assert.match(run.stdout, /^2 of 2$/m);
  });

  it("shows every power path of a GPU with `topology power-path`", async () => {
    const run = await client("topology", "power-path", "gpu:r01-dgx1/0");
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 4, run.stdout);
    for (const line of lines) {
      assert.match(line, /^gpu:r01-dgx1\/0 → node:r01-dgx1 → power:r01-pdu-[ab][12] \(.+ kW\) → /);
      assert.match(line, /power:util-[ab] \(.+ kW\)$/);
    }
    const json = await client("topology", "power-path", "gpu:r01-dgx1/0", "--json");
    assert.equal(JSON.parse(json.stdout).paths.length, 4);
  });

  it("fails with the server's problem for an entity that does not exist", async () => {
    const run = await client("topology", "power-path", "gpu:r99-dgx1/0");
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /^flightdeck: no entity "gpu:r99-dgx1\/0"/m);
  });

  it("rejects `apply` of a broken file, naming line and column, and keeps the revision", async () => {
    for (const [file, line] of [
      [brokenYaml, YAML_ERROR_LINE],
      [brokenModel, SEMANTIC_ERROR_LINE],
    ] as const) {
      const run = await client("apply", file);
      assert.notEqual(run.code, 0, run.stdout);
      assert.match(run.stderr, new RegExp(`^${reEscape(file)}:${line}:\\d+: `, "m"));
      assert.match(run.stderr, /^flightdeck: .*nothing was applied/m);
    }
    const revisions = await client("revisions", "--json");
    assert.equal(revisions.code, 0, revisions.stderr);
    assert.deepEqual(
      (JSON.parse(revisions.stdout) as { items: Array<{ id: number }> }).items.map((r) => r.id),
      [1],
    );
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { revision: number };
    assert.equal(ready.revision, 1);
  });

  it("prints KPIs as one JSON object per group, and as a table", async () => {
    // No twin answers here: the groups are there, with nothing measured yet.
    const json = await client("kpi", "--by", "rack", "--json");
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => r.key),
      ["r01", "r02", "r03", "r04"],
    );
    for (const r of rows)
      for (const field of ["tokens", "energyJoules", "tokensPerJoule", "gpuSeconds"])
        assert.equal(typeof r[field], "number", `${field} in ${JSON.stringify(r)}`);
    const text = await client("kpi", "--by", "org");
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ORG +GPUS +TOKENS/);
    assert.match(text.stdout, /\bacme +64\b/);
    const bad = await client("kpi", "--by", "planet");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /by/);
  });

  it("applies the same lab as unchanged", async () => {
    const run = await client("apply", join(EXAMPLES, "lab.yaml"));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /same as the current revision; nothing applied/);
  });

  it("stops on SIGTERM, and starts again on the same data with the same state", async () => {
    const stopped = await stop();
    assert.equal(stopped.code, 0, err);
    await assert.rejects(fetch(`${url}/healthz`));
    await start();
    assert.match(out, /Factory "lab" revision 1:/);
    assert.match(out, /Admin token: fd_/);
    assert.doesNotMatch(out, /\(new\)/);
    const again = await stop();
    assert.equal(again.code, 0, err);
  });
});
