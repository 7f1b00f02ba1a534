/** `flightdeck power tree|target|profile` and `flightdeck place`: the power service from the API. */
import { type ClientOptions, call } from "./client.ts";
import { table } from "./table.ts";

type Out = ClientOptions & { json?: boolean };

interface LevelJson {
  id: string;
  name: string;
  parent: string | null;
  limitWatts: number;
  allocatedWatts: number;
  otherWatts: number;
  otherFrom: "nameplate" | "meters";
  drawWatts: number | null;
  headroomWatts: number | null;
  utilization: number | null;
  binds: boolean;
  gpuCount: number;
  band: string | null;
}

const kW = (w: number | null | undefined) => (w === null || w === undefined ? "-" : (w / 1000).toFixed(1));

/** The budget tree, indented by depth: draw, limit and headroom per level. */
export async function powerTreeCommand(opts: Out): Promise<void> {
  const res = (await call(opts, "GET", "v1/power/tree")) as {
    targetWatts: number | null;
    peakWatts: number;
    levels: LevelJson[];
  };
  if (opts.json) {
    console.log(JSON.stringify(res, null, 2));
    return;
  }
  const depth = new Map<string, number>();
  for (const l of res.levels) depth.set(l.id, l.parent === null ? 0 : (depth.get(l.parent) ?? -1) + 1);
  console.log(
    table(
      ["LEVEL", "GPUS", "DRAW kW", "LIMIT kW", "HEADROOM kW", "USE", "CAPS kW", "OTHER kW", "BINDS"],
      res.levels.map((l) => [
        `${"  ".repeat(Math.max(0, depth.get(l.id) ?? 0))}${l.name}`,
        String(l.gpuCount),
        kW(l.drawWatts),
        kW(l.limitWatts),
        kW(l.headroomWatts),
        l.utilization === null ? "-" : `${(l.utilization * 100).toFixed(1)}%`,
        kW(l.allocatedWatts),
        // Non-GPU draw planned: nameplate, or measured (marked) where that leaves GPUs more.
        `${kW(l.otherWatts)}${l.otherFrom === "meters" ? " m" : ""}`,
        l.binds ? "yes" : "",
      ]),
    ),
  );
  if (res.targetWatts !== null)
    console.log(
      `facility target ${kW(res.targetWatts)} kW (${((res.targetWatts / res.peakWatts) * 100).toFixed(0)}% of the ${kW(res.peakWatts)} kW peak)`,
    );
}

/** Shows the facility target, or sets it: `70%`, `0.7`, `850kW`, `120000W`, or `none`. */
export async function powerTargetCommand(opts: Out, value: string | undefined): Promise<void> {
  const res =
    value === undefined
      ? await call(opts, "GET", "v1/power/target")
      : await call(opts, "PUT", "v1/power/target", { target: parseTarget(value) });
  if (opts.json) {
    console.log(JSON.stringify(res, null, 2));
    return;
  }
  const t = res as { watts?: number; source: string | null; peakWatts: number; eventId?: string };
  console.log(
    t.watts === undefined
      ? `no facility target (peak ${kW(t.peakWatts)} kW)`
      : `facility target ${kW(t.watts)} kW = ${((t.watts / t.peakWatts) * 100).toFixed(1)}% of the ${kW(t.peakWatts)} kW peak, set by ${t.source}${t.eventId ? ` ${t.eventId}` : ""}`,
  );
}

export function parseTarget(value: string): { watts: number } | { fraction: number } | null {
  const v = value.trim();
  if (v === "none") return null;
  let m = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (m) return { fraction: Number(m[1]) / 100 };
  m = /^(\d+(?:\.\d+)?)\s*(W|kW|MW)$/i.exec(v);
  if (m) {
    const unit = m[2]!.toLowerCase();
    return { watts: Number(m[1]) * (unit === "mw" ? 1e6 : unit === "kw" ? 1e3 : 1) };
  }
  m = /^(0?\.\d+|1(?:\.0*)?)$/.exec(v);
  if (m) return { fraction: Number(m[1]) };
  throw new Error(
    `target "${value}": give a percent (85%), a fraction (0.85), watts (850kW, 120000W) or none`,
  );
}

/** The running jobs with their profile and cap; with a GPU, why it has its cap. */
export async function powerProfileCommand(opts: Out, gpu: string | undefined): Promise<void> {
  if (gpu) {
    const res = await call(opts, "GET", `v1/power/gpus/${encodeURIComponent(gpu.replace(/^gpu:/, ""))}`);
    console.log(opts.json ? JSON.stringify(res, null, 2) : String(res.text));
    return;
  }
  const res = (await call(opts, "GET", "v1/power/jobs")) as {
    jobs: {
      id: string;
      org: string | null;
      kind: string;
      priority: number;
      gpus: number;
      capWatts: number;
      profile: string | null;
      stoppedBy: string;
    }[];
  };
  if (opts.json) {
    console.log(JSON.stringify(res.jobs, null, 2));
    return;
  }
  console.log(
    table(
      ["JOB", "ORG", "KIND", "PRIORITY", "GPUS", "PROFILE", "CAP W", "LIMITED BY"],
      res.jobs.map((j) => [
        j.id,
        j.org ?? "",
        j.kind,
        String(j.priority),
        String(j.gpus),
        j.profile ?? "",
        j.capWatts.toFixed(0),
        j.stoppedBy,
      ]),
    ),
  );
}

export interface PlaceOptions {
  gpus: number;
  org: string;
  shape?: string;
  profile?: string;
  kind?: string;
  priority?: number;
  id?: string;
  dryRun?: boolean;
}

/** Admission: where a job would go, or why not. Exits 1 when it is queued or rejected. */
export async function placeCommand(opts: Out, o: PlaceOptions): Promise<void> {
  const body = {
    id: o.id ?? `job-${Date.now().toString(36)}`,
    org: o.org,
    gpus: o.gpus,
    ...(o.shape ? { shape: o.shape } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
  };
  const res = (await call(opts, "POST", `v1/placements${o.dryRun ? "?dryRun=true" : ""}`, body)) as {
    status: string;
    id: string;
    nodes?: string[];
    powerWatts?: number;
    reason?: string;
    headroom?: { name: string; afterPercent?: number }[];
  };
  if (opts.json) console.log(JSON.stringify(res, null, 2));
  else if (res.status === "placed")
    console.log(
      `${res.id}: placed on ${res.nodes!.join(", ")} (${kW(res.powerWatts)} kW at worst)${o.dryRun ? " — dry run, nothing held" : ""}`,
    );
  else console.log(`${res.id}: ${res.status}: ${res.reason}`);
  if (res.status !== "placed") process.exitCode = 1;
}
