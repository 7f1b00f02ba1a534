/**
 * The console's floor at scale, in headless Chromium: 1,000 racks (4 halls × 10 rows × 25) from a
 * synthetic API that streams every rack's KPIs every 2 s and new PDU readings on each poll.
 * Measures the time from navigation until every rack is on the floor with its color, and the
 * frame rate while the updates arrive (mean, and the worst one-second window).
 */
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConsole, CONSOLE_DIR, launchBrowser } from "../packages/console/test/harness.ts";
import type { Row } from "./lib.ts";

const HALLS = 4;
const ROWS = 10;
const RACKS_PER_ROW = 25;
const ORGS = ["acme", "globex", "initech", "umbrella"];
const MEASURE_MS = 10_000;
const BENCH_USER = { userId: 1, name: "bench", role: "provider-admin", org: null };

interface Entity {
  id: string;
  kind: string;
  name: string;
  type: string | null;
  parent: string | null;
  org: string | null;
}

function factory() {
  const halls: Entity[] = [];
  const rows: Entity[] = [];
  const racks: Entity[] = [];
  const power: Entity[] = [];
  for (let h = 1; h <= HALLS; h++) {
    halls.push({
      id: `hall:h${h}`,
      kind: "hall",
      name: `h${h}`,
      type: null,
      parent: "site:bench",
      org: null,
    });
    for (let r = 1; r <= ROWS; r++) {
      const row = `row:h${h}/row${r}`;
      rows.push({ id: row, kind: "row", name: `h${h}/row${r}`, type: null, parent: `hall:h${h}`, org: null });
      for (let k = 1; k <= RACKS_PER_ROW; k++) {
        const name = `h${h}-r${String(r).padStart(2, "0")}-${String(k).padStart(2, "0")}`;
        const org = ORGS[(h + r + Math.floor(k / 7)) % ORGS.length]!;
        racks.push({ id: `rack:${name}`, kind: "rack", name, type: "gb200-nvl72", parent: row, org });
        for (const side of ["a", "b"])
          power.push({
            id: `power:${name}-pdu-${side}`,
            kind: "power",
            name: `${name}-pdu-${side}`,
            type: "rackPdu",
            parent: `rack:${name}`,
            org: null,
          });
      }
    }
  }
  return { halls, rows, racks, power };
}

/** A synthetic API: the routes the floor reads, with values that move on every answer. */
function syntheticApi(dist: string) {
  const f = factory();
  let tick = 0;
  const page = (items: Entity[]) => ({ total: items.length, offset: 0, limit: 10_000, items });
  const kpiRows = () =>
    f.racks.map((r, i) => {
      const load = 0.5 + 0.45 * Math.sin(i * 0.37 + tick * 0.9);
      return {
        key: r.name,
        gpus: 72,
        tokens: 1e6 * load,
        energyJoules: 6e6 * load,
        tokensPerJoule: 0.8 + 0.4 * Math.cos(i * 0.11 + tick),
        tokensPerSecond: 2e4 * load,
        gpuSeconds: 72 * 60,
        usableGpuSeconds: 72 * 60,
        usableShare: 1,
        meanPowerWatts: 1000 * load,
      };
    });
  const stranded = () => ({
    atMs: Date.now(),
    levels: f.power.map((p, i) => {
      const draw = 40_000 + 30_000 * Math.abs(Math.sin(i * 0.21 + tick * 0.7));
      return {
        id: p.id,
        type: "rackPdu",
        limitWatts: 90_000,
        drawWatts: draw,
        strandedWatts: 90_000 - draw,
        utilization: draw / 90_000,
      };
    }),
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {
      "content-type": status >= 400 ? "application/problem+json" : "application/json",
    });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  // The factory does not change: its lists are written once, as a server caching them would.
  const lists = {
    halls: JSON.stringify(page(f.halls)),
    rows: JSON.stringify(page(f.rows)),
    racks: JSON.stringify(page(f.racks)),
    power: JSON.stringify(page(f.power)),
  };
  const streams = new Set<ServerResponse>();
  const timer = setInterval(() => {
    tick++;
    const endMs = Date.now();
    for (const res of streams) {
      const by = (res as ServerResponse & { by?: string }).by;
      const rows = by === "rack" ? kpiRows() : [];
      res.write(`event: kpi\ndata: ${JSON.stringify({ by, startMs: endMs - 60_000, endMs, rows })}\n\n`);
    }
  }, 2000);
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    if (p === "/v1/whoami")
      return json(res, 200, { userId: 1, name: "bench", role: "provider-admin", org: null });
    if (p === "/v1/topology/halls") return json(res, 200, lists.halls);
    if (p === "/v1/topology/rows") return json(res, 200, lists.rows);
    if (p === "/v1/topology/racks") return json(res, 200, lists.racks);
    if (p === "/v1/topology/power") return json(res, 200, lists.power);
    if (p === "/v1/kpi/stranded") return json(res, 200, stranded());
    if (p === "/v1/kpi/stream") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      const by = url.searchParams.get("by") ?? "rack";
      Object.assign(res, { by });
      const endMs = Date.now();
      res.write(
        `event: kpi\ndata: ${JSON.stringify({ by, startMs: endMs - 60_000, endMs, rows: by === "rack" ? kpiRows() : [] })}\n\n`,
      );
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (p.startsWith("/v1/")) return json(res, 404, { status: 404, detail: `no route ${p}` });
    const file = p.startsWith("/assets/") ? join(dist, p) : join(dist, "index.html");
    try {
      const body = await readFile(file);
      const type = { ".js": "text/javascript", ".css": "text/css" }[extname(file)] ?? "text/html";
      res.writeHead(200, { "content-type": type });
      res.end(body);
    } catch {
      json(res, 404, { status: 404 });
    }
  });
  return {
    async listen(): Promise<string> {
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close(): Promise<void> {
      clearInterval(timer);
      for (const res of streams) res.end();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

// In the page: when every rack tile is there with a color, and a frame counter.
const PAGE_PROBE = `
(() => {
  const want = ${HALLS * ROWS * RACKS_PER_ROW};
  const done = () => {
    const tiles = document.querySelectorAll("a.rack");
    if (tiles.length < want) return false;
    for (const t of tiles) if (t.style.background.includes("var(")) return false;
    return true;
  };
  const check = () => {
    if (window.__floorReadyMs === undefined && done()) window.__floorReadyMs = performance.now();
    else if (window.__floorReadyMs === undefined) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
  window.__measureFrames = (ms) => new Promise((resolve) => {
    const frames = [];
    const start = performance.now();
    const step = (t) => {
      frames.push(t);
      if (t - start < ms) requestAnimationFrame(step);
      else resolve(frames);
    };
    requestAnimationFrame(step);
  });
})();
`;

export async function benchConsole(): Promise<Row[]> {
  buildConsole();
  await mkdir(fileURLToPath(new URL("../screenshots/", import.meta.url)), { recursive: true });
  const api = syntheticApi(join(CONSOLE_DIR, "dist"));
  const url = await api.listen();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    // A tab that logged in before: the token and who it is for are in its session storage.
    await context.addInitScript(
      `sessionStorage.setItem("flightdeck.token", "bench");
       sessionStorage.setItem("flightdeck.principal", '${JSON.stringify(BENCH_USER)}');`,
    );
    await context.addInitScript(PAGE_PROBE);
    const page = await context.newPage();
    await page.goto(`${url}/floor`);
    await page.waitForFunction("window.__floorReadyMs !== undefined", undefined, { timeout: 30_000 });
    const renderMs = (await page.evaluate("window.__floorReadyMs")) as number;
    const before = await page.locator("a.rack .rack-value").first().textContent();
    const frames = (await page.evaluate(`window.__measureFrames(${MEASURE_MS})`)) as number[];
    const after = await page.locator("a.rack .rack-value").first().textContent();
    await page.screenshot({
      path: fileURLToPath(new URL("../screenshots/floor-1000-racks.png", import.meta.url)),
      clip: { x: 0, y: 0, width: 1920, height: 760 },
    });
    if (before === after) throw new Error("the floor did not update while it was measured");
    const spanMs = frames.at(-1)! - frames[0]!;
    const meanFps = ((frames.length - 1) * 1000) / spanMs;
    // The worst one-second window: frames that started within it.
    let worstFps = Infinity;
    for (let i = 0, j = 0; i < frames.length && frames[i]! + 1000 <= frames.at(-1)!; i++) {
      while (j < frames.length && frames[j]! < frames[i]! + 1000) j++;
      worstFps = Math.min(worstFps, j - i);
    }
    let longestFrameMs = 0;
    for (let i = 1; i < frames.length; i++)
      longestFrameMs = Math.max(longestFrameMs, frames[i]! - frames[i - 1]!);
    const racks = HALLS * ROWS * RACKS_PER_ROW;
    return [
      {
        bench: "console",
        metric: `floor of ${racks} racks rendered`,
        value: renderMs,
        unit: "ms",
        target: "<= 1000",
      },
      {
        bench: "console",
        metric: "frame rate, updates every 2 s (mean)",
        value: meanFps,
        unit: "fps",
        target: ">= 30",
      },
      {
        bench: "console",
        metric: "frame rate, worst 1 s window",
        value: worstFps,
        unit: "fps",
        target: ">= 30",
      },
      {
        bench: "console",
        metric: "longest frame while updating",
        value: longestFrameMs,
        unit: "ms",
        target: "",
      },
    ];
  } finally {
    await browser.close();
    await api.close();
  }
}
