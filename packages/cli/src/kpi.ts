/** `flightdeck kpi`, `flightdeck top` and `flightdeck targets`: the token KPIs and collection health from the API. */
import { type ClientOptions, call, resolveToken } from "./client.ts";
import { table } from "./table.ts";

export interface KpiRowJson {
  key: string;
  gpus: number;
  tokens: number;
  energyJoules: number;
  tokensPerJoule: number;
  tokensPerSecond: number;
  tokensPerGpuHour: number;
  gpuSeconds: number;
  usableShare: number;
  meanPowerWatts: number;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The table `kpi` and `top` print. */
export function kpiTable(rows: KpiRowJson[], by: string): string {
  return table(
    [by.toUpperCase(), "GPUS", "TOKENS", "TOKENS/S", "kWh", "TOKENS/J", "TOKENS/GPU-H", "POWER kW", "USABLE"],
    rows.map((r) => [
      r.key,
      String(r.gpus),
      fmt(r.tokens),
      fmt(r.tokensPerSecond, 1),
      fmt(r.energyJoules / 3.6e6, 3),
      fmt(r.tokensPerJoule, 3),
      fmt(r.tokensPerGpuHour),
      fmt(r.meanPowerWatts / 1000, 2),
      `${fmt(r.usableShare * 100, 1)}%`,
    ]),
  );
}

export async function kpiCommand(
  opts: ClientOptions & { json?: boolean },
  by: string,
  windowSeconds: number | undefined,
): Promise<void> {
  const q = new URLSearchParams({
    by,
    ...(windowSeconds !== undefined ? { windowSeconds: String(windowSeconds) } : {}),
  });
  const res = (await call(opts, "GET", `v1/kpi?${q}`)) as {
    rows: KpiRowJson[];
    startMs: number;
    endMs: number;
  };
  if (opts.json) {
    console.log(JSON.stringify(res.rows, null, 2));
    return;
  }
  console.log(kpiTable(res.rows, by));
  console.log(`${res.rows.length} group(s) over ${fmt((res.endMs - res.startMs) / 1000)} s`);
}

/**
 * A live table of racks (or any grouping) by tokens per joule — tokens per second per watt —
 * refreshed in place from the API's KPI event stream until interrupted.
 */
export async function topCommand(
  opts: ClientOptions,
  by: string,
  windowSeconds: number,
  intervalSeconds: number,
): Promise<void> {
  const token = resolveToken(opts);
  const base = opts.server.endsWith("/") ? opts.server : `${opts.server}/`;
  const q = new URLSearchParams({
    by,
    windowSeconds: String(windowSeconds),
    intervalSeconds: String(intervalSeconds),
  });
  const url = new URL(`v1/kpi/stream?${q}`, base);
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  // A reader that went away (`flightdeck top | head`) ends the stream, quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") abort.abort();
    else throw err;
  });
  let res: Response;
  try {
    res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: abort.signal,
    });
  } catch (err) {
    throw new Error(`cannot reach ${url.origin}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new Error(`${url.pathname}: HTTP ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  const tty = process.stdout.isTTY;
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const data = event.split("\n").find((l) => l.startsWith("data: "));
        if (!event.includes("event: kpi") || !data) continue;
        const { rows } = JSON.parse(data.slice(6)) as { rows: KpiRowJson[] };
        rows.sort((a, b) => b.tokensPerJoule - a.tokensPerJoule);
        const screen = `Flightdeck top — ${by}s by tokens per joule, last ${windowSeconds} s  (${new Date().toLocaleTimeString()})\n\n${kpiTable(rows, by)}\n`;
        // Home the cursor and clear below: the table is redrawn in place.
        process.stdout.write(tty ? `\u001b[H\u001b[J${screen}` : `${screen}\n`);
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  }
}

interface TargetJson {
  id: string;
  kind: string;
  health: string;
  lastScrapeMs?: number;
  lastDurationMs?: number;
  lastError?: string;
  samples: number;
}

export async function targetsCommand(opts: ClientOptions & { json?: boolean }): Promise<void> {
  const res = (await call(opts, "GET", "v1/telemetry/targets")) as { targets: TargetJson[] };
  if (opts.json) {
    console.log(JSON.stringify(res.targets, null, 2));
    return;
  }
  console.log(
    table(
      ["TARGET", "HEALTH", "SAMPLES", "LAST ms", "ERROR"],
      res.targets.map((t) => [
        t.id,
        t.health,
        String(t.samples),
        t.lastDurationMs === undefined ? "" : String(t.lastDurationMs),
        t.lastError ?? "",
      ]),
    ),
  );
  const down = res.targets.filter((t) => t.health === "down").length;
  console.log(`${res.targets.length} targets, ${down} down`);
}
