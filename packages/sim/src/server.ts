/**
 * One HTTP listener for the whole twin, a path per scrape target, so that a 100k-node factory
 * needs one port rather than 100k:
 *
 *   GET /nodes/NAME/metrics   dcgm-exporter page of node NAME (404 when there is no such GPU node)
 *   GET /sim/truth            ground truth as JSON (truth.ts)
 *   POST /sim/faults          inject a fault (faults.ts): `{"kind", "target", "durationSeconds"?}`
 *   GET /healthz              `ok`
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { DcgmExporter } from "./exporters/dcgm.ts";
import { FaultError, type FaultRequest, injectFault } from "./faults.ts";
import type { JobEngine } from "./jobs.ts";
import type { FactoryState } from "./state.ts";
import { truthOf } from "./truth.ts";

/** Content type of the Prometheus text format 0.0.4, as promhttp (and dcgm-exporter) sends it. */
export const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

const NODE_METRICS = /^\/nodes\/([^/]+)\/metrics$/;

/** Largest fault request body accepted, in bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * What the server reads from; it reads the state at request time and writes it only to inject a
 * fault (POST /sim/faults).
 */
export interface SimServerSources {
  state: FactoryState;
  dcgm: DcgmExporter;
  /** The scenario's jobs, for the ground truth. */
  engine?: JobEngine;
  /**
   * Further services on the same listener (Redfish, model servers, jobs), tried in order before
   * the built-in paths; each answers and returns true when the path is its own.
   */
  handlers?: readonly SimHandler[];
}

/** A service on the twin's listener: answers `req` and returns true when `path` is its own. */
export type SimHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** An HTTP server (not yet listening) that serves the twin's endpoints. */
export function createSimServer(sources: SimServerSources): Server {
  return createServer((req, res) => {
    try {
      route(sources, req, res);
    } catch (err) {
      send(res, 500, "text/plain; charset=utf-8", `internal error: ${(err as Error).message}\n`);
    }
  });
}

function route(
  { state, dcgm, handlers, engine }: SimServerSources,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const text = "text/plain; charset=utf-8";
  const path = (req.url ?? "/").split("?")[0]!;
  for (const handle of handlers ?? []) if (handle(req, res, path)) return;
  if (path === "/sim/faults" && req.method === "POST") {
    postFault(state, req, res);
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    send(res, 405, text, `method ${req.method} not allowed\n`);
    return;
  }
  const m = NODE_METRICS.exec(path);
  if (path === "/healthz") send(res, 200, text, "ok\n");
  else if (path === "/sim/truth") send(res, 200, "application/json", JSON.stringify(truthOf(state, engine)));
  else if (m) {
    const name = decode(m[1]!);
    const node = name === undefined ? undefined : state.topo.nodeSlotByName.get(name);
    if (node === undefined || state.topo.nodeGpuStart[node + 1] === state.topo.nodeGpuStart[node])
      send(res, 404, text, `no GPU node named ${JSON.stringify(name ?? m[1])}\n`);
    // A node without power answers nothing: the scraper sees its connection drop.
    else if (state.faults.nodeUnpowered[node] === 1) req.socket.destroy();
    else send(res, 200, PROMETHEUS_TEXT, dcgm.render(node));
  } else send(res, 404, text, `no such path: ${path}\n`);
}

/** Reads the JSON body, injects the fault, answers 201 with its record or 4xx `{"error"}`. */
function postFault(state: FactoryState, req: IncomingMessage, res: ServerResponse): void {
  const json = "application/json";
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on("end", () => {
    try {
      if (tooLarge) {
        send(res, 413, json, JSON.stringify({ error: `body: larger than ${MAX_BODY_BYTES} bytes` }));
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        send(res, 400, json, JSON.stringify({ error: `body: malformed JSON: ${(err as Error).message}` }));
        return;
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        send(res, 400, json, JSON.stringify({ error: "body: must be a JSON object" }));
        return;
      }
      const record = injectFault(state, body as FaultRequest);
      send(res, 201, json, JSON.stringify(record));
    } catch (err) {
      if (err instanceof FaultError) send(res, err.status, json, JSON.stringify({ error: err.message }));
      else send(res, 500, "text/plain; charset=utf-8", `internal error: ${(err as Error).message}\n`);
    }
  });
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Content-Length", typeof body === "string" ? Buffer.byteLength(body) : body.length);
  res.end(res.req.method === "HEAD" ? undefined : body);
}
