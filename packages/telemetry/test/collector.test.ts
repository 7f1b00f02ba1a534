/**
 * The collector against real HTTP: good pages from real captures, and every way a target can be
 * bad — an error status, HTML, a page that never ends, a 50 MB page, a 1 MB line, a malformed
 * line — each recorded on its own target with the reason, none of them holding up the others.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type EndpointsConfig, loadFactoryFile } from "@flightdeck/model";
import { createCollector } from "../src/collector/collector.ts";
import { createSeriesStore } from "../src/series/index.ts";

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const lab = loadFactoryFile(root("examples/factories/lab.yaml")).build!;
const T4 = readFileSync(root("../shared/data/fixtures/dcgm/datadog-dcgm-exporter-T4-mixed.prom"), "utf8");

/** What each node's page does; nodes not listed serve the T4 capture. */
const behaviour: Record<string, "500" | "html" | "hang" | "huge" | "longline" | "malformed" | "drop-gpu"> = {
  "r01-dgx2": "500",
  "r01-dgx3": "html",
  "r01-dgx4": "hang",
  "r02-dgx1": "huge",
  "r02-dgx2": "longline",
  "r02-dgx3": "malformed",
};

let server: Server;
let base = "";
const hanging = new Set<import("node:http").ServerResponse>();

before(async () => {
  server = createServer((req, res) => {
    const node = /^\/nodes\/([^/]+)\/metrics$/.exec(req.url ?? "")?.[1] ?? "";
    const mode = behaviour[node];
    const text = (body: string, type = "text/plain; version=0.0.4") => {
      res.writeHead(200, { "content-type": type });
      res.end(body);
    };
    switch (mode) {
      case "500":
        res.writeHead(500).end("boom");
        return;
      case "html":
        text("<html><body>Login required</body></html>", "text/html");
        return;
      case "hang":
        hanging.add(res);
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("# HELP x\n");
        return;
      case "huge": {
        res.writeHead(200, { "content-type": "text/plain" });
        const line = `${'DCGM_FI_DEV_POWER_USAGE{gpu="0"} 1\n'.repeat(1000)}`;
        let sent = 0;
        const push = () => {
          while (sent < 50 * 1024 * 1024) {
            sent += line.length;
            if (!res.write(line)) return void res.once("drain", push);
          }
          res.end();
        };
        res.on("error", () => undefined);
        push();
        return;
      }
      case "longline":
        text(`DCGM_FI_DEV_POWER_USAGE{gpu="0",x="${"a".repeat(1024 * 1024)}"} 1\n`);
        return;
      case "malformed":
        text(`${T4}DCGM_FI_DEV_GPU_TEMP{gpu="0" 41\n`);
        return;
      case "drop-gpu":
        text(
          T4.split("\n")
            .filter((l) => !l.includes('gpu="0"'))
            .join("\n"),
        );
        return;
      default:
        text(T4);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function endpoints(): EndpointsConfig {
  return {
    concurrency: 4,
    maxBodyBytes: 4 * 1024 * 1024,
    jitter: true,
    gpuMetrics: { url: `${base}/nodes/{node}/metrics`, intervalSeconds: 10, timeoutSeconds: 1 },
    discovery: [],
  };
}

describe("the collector", () => {
  it("records every bad target with its reason and still reads every good one", async () => {
    const store = createSeriesStore();
    const collector = createCollector({
      graph: lab.graph,
      catalog: lab.catalog,
      endpoints: endpoints(),
      store,
    });
    const t0 = Date.now();
    await collector.collectOnce();
    const elapsedMs = Date.now() - t0;
    const byId = new Map(collector.targets().map((t) => [t.id, t]));
    assert.equal(byId.size, 16);
    const reason = (node: string) => byId.get(`dcgm:${node}`)!.lastError ?? "";
    assert.match(reason("r01-dgx2"), /^HTTP 500/);
    assert.match(reason("r01-dgx3"), /not a metrics page: Content-Type text\/html/);
    assert.match(reason("r01-dgx4"), /no answer within 1000 ms/);
    assert.match(reason("r02-dgx1"), /body exceeds the limit of 4194304 bytes/);
    assert.match(reason("r02-dgx2"), /malformed page at 1:65537: line is longer than 65536/);
    assert.match(reason("r02-dgx3"), /malformed page at \d+:\d+: /);
    for (const node of Object.keys(behaviour)) assert.equal(byId.get(`dcgm:${node}`)!.health, "down", node);
    const good = [...byId.values()].filter((t) => !Object.keys(behaviour).includes(t.labels.node!));
    assert.equal(good.length, 10);
    for (const t of good) {
      assert.equal(t.health, "up", `${t.id}: ${t.lastError}`);
      assert.equal(t.samples, 38, t.id);
    }
    // The hanging target cost its own timeout, not one per target: four at a time, one second each.
    assert.ok(elapsedMs < 4000, `took ${elapsedMs} ms`);
    // Good pages landed under their GPU's entity; the bad ones left no series but `up 0`.
    const power = store.select('DCGM_FI_DEV_POWER_USAGE{entity="gpu:r01-dgx1/0"}');
    assert.equal(power.length, 1);
    assert.equal(store.instant(power[0]!, Date.now()), 8.969);
    const up = store.select('up{entity="target:dcgm:r01-dgx2"}');
    assert.equal(store.instant(up[0]!, Date.now()), 0);
    collector.stop();
  });

  it("marks the series of a GPU that vanished from its page stale at once", async () => {
    const store = createSeriesStore();
    const collector = createCollector({
      graph: lab.graph,
      catalog: lab.catalog,
      endpoints: endpoints(),
      store,
    });
    await collector.collectOnce();
    const ref = store.select('DCGM_FI_DEV_GPU_TEMP{entity="gpu:r03-dgx1/0"}')[0]!;
    assert.notEqual(store.instant(ref, Date.now()), undefined);
    behaviour["r03-dgx1"] = "drop-gpu";
    await new Promise((r) => setTimeout(r, 5));
    await collector.collectOnce();
    delete behaviour["r03-dgx1"];
    assert.equal(store.instant(ref, Date.now()), undefined, "the vanished GPU keeps no value");
    const other = store.select('DCGM_FI_DEV_GPU_TEMP{entity="gpu:r03-dgx1/1"}');
    assert.equal(other.length, 0, "the T4 capture has one GPU");
    collector.stop();
  });
});
