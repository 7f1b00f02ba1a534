/**
 * The Grafana dashboard and the Prometheus config under deploy/, checked against the real KPI page
 * and the real Prometheus: the server runs the lab factory on a socket, the dashboard may query
 * only the families and `by` groupings that page serves, `promtool` parses every expression and
 * the config, and a Prometheus started on a copy of the config (token and targets files in place,
 * ports and intervals changed only) scrapes the page with its bearer token and answers every
 * panel's query with data.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openStore, type Store } from "@flightdeck/store";
import type { FastifyInstance } from "fastify";
import { createServer, FactoryState, Telemetry } from "../src/index.ts";

const run = promisify(execFile);
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const DASHBOARD_FILE = root("deploy/grafana/flightdeck-kpi.json");
const CONFIG_FILE = root("deploy/prometheus/flightdeck.yml");
const CONFIG = readFileSync(CONFIG_FILE, "utf8");

// biome-ignore lint/suspicious/noExplicitAny: the dashboard JSON model, checked field by field below
type Json = any;
const dashboard: Json = JSON.parse(readFileSync(DASHBOARD_FILE, "utf8"));

/** One PromQL query of the dashboard: a panel target or a template variable's selector. */
interface Query {
  where: string;
  expr: string;
}

/** Every panel, rows' nested panels included. */
const panels: Json[] = dashboard.panels.flatMap((p: Json) => [p, ...(p.panels ?? [])]);
const variables: Json[] = dashboard.templating.list;
const panelQueries: Query[] = panels.flatMap((p) =>
  (p.targets ?? []).map((t: Json) => ({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr })),
);
/** The selector inside each `label_values(SELECTOR, LABEL)` of a query variable. */
const variableQueries: Query[] = variables
  .filter((v) => v.type === "query")
  .map((v) => {
    const text = typeof v.query === "string" ? v.query : v.query.query;
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
    assert.ok(m, `variable ${v.name}: expected label_values(SELECTOR, LABEL), got ${text}`);
    return { where: `variable ${v.name}`, expr: m[1]! };
  });

/** The expression as Grafana sends it with every variable at "All". */
function interpolate(expr: string): string {
  const builtins: Record<string, string> = { __rate_interval: "1m", __interval: "15s", __range: "1h" };
  return expr.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const v = variables.find((x) => x.name === name);
    const value = builtins[name] ?? v?.allValue;
    assert.ok(value !== undefined, `${expr}: unknown variable $${name}`);
    return value;
  });
}

/** Metric names an expression selects: what is left outside strings, matchers and label lists. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const keywords = new Set(["by", "without", "on", "ignoring", "bool", "and", "or", "unless", "offset"]);
  return [...bare.matchAll(/([a-zA-Z_:][\w:]*)\s*(\()?/g)]
    .filter((m) => m[2] === undefined && !keywords.has(m[1]!) && !/^(?:inf|nan)$/i.test(m[1]!))
    .map((m) => m[1]!);
}

/** Values of the `by` matchers in an expression. */
const byValues = (expr: string) => [...expr.matchAll(/\bby\s*=\s*"([^"]*)"/g)].map((m) => m[1]!);

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let store: Store;
let telemetry: Telemetry;
let app: FastifyInstance;
let appPort: number;
let token: string;
/** The KPI page as the server serves it. */
let page: string;
/** Families and `by` values on the page. */
let families: Set<string>;
let groupings: Set<string>;
let tmp: string;

before(async () => {
  store = await openStore({ dataDir: ":memory:" });
  const state = new FactoryState(store);
  // No twin runs here: drop the kernel-log receiver so the test binds no fixed UDP port.
  const lab = readFileSync(root("examples/factories/lab.yaml"), "utf8").replace(/^ {2}syslog:.*\n/m, "");
  assert.ok((await state.apply(lab, "lab.yaml", "test")).ok);
  telemetry = new Telemetry(state, { manual: true });
  await telemetry.start();
  app = await createServer({ store, state, telemetry });
  await app.listen({ host: "127.0.0.1", port: 0 });
  appPort = (app.server.address() as { port: number }).port;
  const admin = await store.createUser({ name: "root", org: null, role: "provider-admin", actor: "test" });
  token = (await store.createToken({ userId: admin.id, name: "prometheus", actor: "test" })).token;
  const res = await fetch(`http://127.0.0.1:${appPort}/v1/kpi/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  page = await res.text();
  families = new Set([...page.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]!));
  groupings = new Set([...page.matchAll(/^\w+\{by="(\w+)"/gm)].map((m) => m[1]!));
  assert.ok(families.size >= 8 && groupings.size === 4, page);
  tmp = mkdtempSync(join(tmpdir(), "flightdeck-deploy-"));
});

after(async () => {
  await telemetry?.stop();
  await app?.close();
  await store?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("deploy/grafana/flightdeck-kpi.json", () => {
  it("is a dashboard of schemaVersion ≥ 36 on a Prometheus datasource variable", () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    assert.equal(typeof dashboard.title, "string");
    assert.equal(typeof dashboard.uid, "string");
    const ds = variables.find((v) => v.type === "datasource");
    assert.equal(ds?.query, "prometheus");
    for (const p of panels.filter((x) => x.type !== "row"))
      assert.deepEqual(p.datasource, { type: "prometheus", uid: `\${${ds.name}}` }, `panel ${p.id}`);
    for (const v of variables.filter((x) => x.type === "query"))
      assert.deepEqual(v.datasource, { type: "prometheus", uid: `\${${ds.name}}` }, `variable ${v.name}`);
  });

  it("lays every panel on the 24-column grid, ids unique, each panel with at least one query", () => {
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids}`);
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(
        x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0,
        `panel ${p.id}: ${JSON.stringify(p.gridPos)}`,
      );
      if (p.type !== "row") assert.ok(p.targets?.length > 0 && p.title, `panel ${p.id}`);
    }
    for (const type of ["stat", "timeseries"])
      assert.ok(
        panels.some((p) => p.type === type),
        type,
      );
    assert.ok(panels.some((p) => p.type === "bargauge" || p.type === "table"));
  });

  it("queries only families of the KPI page, grouped by what the page serves", () => {
    for (const { where, expr } of [...panelQueries, ...variableQueries]) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where}: selects no metric: ${expr}`);
      for (const name of names)
        assert.ok(families.has(name), `${where}: ${name} is not on the KPI page (${[...families]})`);
      const by = byValues(expr);
      assert.ok(by.length > 0, `${where}: no by="..." matcher, so groupings would be summed twice: ${expr}`);
      for (const b of by) assert.ok(groupings.has(b), `${where}: by="${b}" is not on the page`);
    }
  });

  it("parses in Prometheus: every expression as a recording rule passes promtool check rules", async () => {
    const rules = (queries: Query[]) => ({
      groups: [
        {
          name: "flightdeck-kpi-dashboard",
          rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: interpolate(q.expr) })),
        },
      ],
    });
    const file = join(tmp, "rules.yml");
    // JSON is YAML: the rules file needs no YAML writer.
    writeFileSync(file, JSON.stringify(rules(panelQueries)));
    const ok = await run("promtool", ["check", "rules", file]);
    assert.match(ok.stdout, new RegExp(`SUCCESS: ${panelQueries.length} rules found`));
    // The check bites: one broken expression fails it.
    writeFileSync(file, JSON.stringify(rules([{ where: "broken", expr: "sum(flightdeck_kpi_gpus{by=}" }])));
    await assert.rejects(run("promtool", ["check", "rules", file]), /FAILED/);
  });
});

describe("deploy/prometheus/flightdeck.yml", () => {
  /** A copy of the deploy tree with data/admin-token and data/twin-targets.json beside it. */
  function layout(dir: string, config: string, targets: unknown[]): string {
    mkdirSync(join(dir, "deploy/prometheus"), { recursive: true });
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(join(dir, "data/admin-token"), `${token}\n`);
    writeFileSync(join(dir, "data/twin-targets.json"), JSON.stringify(targets));
    const file = join(dir, "deploy/prometheus/flightdeck.yml");
    writeFileSync(file, config);
    return file;
  }

  /** A target group as the twin writes it (`flightdeck sim --targets-file`), here on the API's /metrics. */
  const twinGroup = (port: number) => ({
    targets: [`127.0.0.1:${port}`],
    labels: { __metrics_path__: "/metrics", node: "r01-dgx1", rack: "r01", job: "dcgm" },
  });

  it("passes promtool check config where npm start puts the token and the twin its targets", async () => {
    // Relative paths resolve against the config's folder: ../../data is the repository's data/.
    const file = layout(join(tmp, "check"), CONFIG, [twinGroup(7071)]);
    const { stdout } = await run("promtool", ["check", "config", file]);
    assert.match(stdout, /SUCCESS/);
    assert.doesNotMatch(stdout, /WARNING/);
    // Without the token file the config is refused, so the check above did read it.
    rmSync(join(tmp, "check/data/admin-token"));
    await assert.rejects(run("promtool", ["check", "config", file]), /admin-token/);
  });

  it("lets Prometheus scrape the KPI page with the bearer token and answer every panel's query", async () => {
    // The same config with only the API's port and the intervals changed.
    const config = CONFIG.replaceAll("127.0.0.1:7070", `127.0.0.1:${appPort}`).replace(
      /(scrape_interval|evaluation_interval|refresh_interval): \w+/g,
      "$1: 1s",
    );
    assert.notEqual(config, CONFIG);
    const dir = join(tmp, "live");
    const file = layout(dir, config, [twinGroup(appPort)]);
    const promPort = await freePort();
    const prometheus: ChildProcess = spawn(
      "prometheus",
      [
        `--config.file=${file}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    prometheus.stderr?.on("data", (chunk) => {
      log += chunk;
    });
    const api = async (path: string): Promise<Json> => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/${path}`);
      const body: Json = await res.json();
      assert.equal(body.status, "success", `${path}: ${JSON.stringify(body)}`);
      return body.data;
    };
    try {
      // Every target up, scraped at least once: the KPI page through the token, the twin group through file_sd.
      let targets: Json[] = [];
      for (let i = 0; i < 150; i++) {
        try {
          targets = (await api("targets?state=active")).activeTargets;
          if (targets.length === 2 && targets.every((t) => t.health === "up")) break;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const pool = (name: string) => targets.find((t) => t.scrapePool === name);
      assert.equal(targets.length, 2, `${JSON.stringify(targets)}\n${log}`);
      assert.equal(pool("flightdeck-kpi")?.health, "up", JSON.stringify(pool("flightdeck-kpi")));
      assert.equal(
        pool("flightdeck-kpi")?.scrapeUrl,
        `http://127.0.0.1:${appPort}/v1/kpi/metrics?windowSeconds=300`,
      );
      assert.equal(pool("flightdeck-twin")?.health, "up", JSON.stringify(pool("flightdeck-twin")));
      assert.equal(pool("flightdeck-twin")?.labels.job, "dcgm");
      for (const { where, expr } of [...panelQueries, ...variableQueries]) {
        const q = interpolate(expr);
        const data = await api(`query?query=${encodeURIComponent(q)}`);
        assert.ok(data.result.length > 0, `${where}: no data for ${q}`);
      }
    } finally {
      prometheus.kill("SIGTERM");
      await new Promise((resolve) => prometheus.once("exit", resolve));
    }
  });
});
