/**
 * The endpoints section of a factory description: where the control plane reads the factory.
 * Each target kind has a URL template (`{node}`, `{device}`) expanded per entity, an interval and
 * a timeout; discovery lists Prometheus HTTP service discovery URLs for model servers and jobs.
 * Defaults follow Prometheus (a 10 s scrape interval is common for dcgm-exporter; the timeout may
 * not exceed the interval).
 */
import type { ProblemList } from "./problems.ts";

/** One kind of target as written in the file. */
export interface EndpointDoc {
  url: string;
  intervalSeconds?: number;
  timeoutSeconds?: number;
}

/** The `endpoints` section as written in the file. */
export interface EndpointsDoc {
  defaults?: {
    intervalSeconds?: number;
    timeoutSeconds?: number;
    concurrency?: number;
    maxBodyBytes?: number;
    jitter?: boolean;
  };
  gpuMetrics?: EndpointDoc;
  bmc?: EndpointDoc;
  pdu?: EndpointDoc;
  discovery?: EndpointDoc[];
  syslog?: { host?: string; udpPort?: number; tcpPort?: number };
}

/** A target kind with every default filled in. */
export interface Endpoint {
  url: string;
  intervalSeconds: number;
  timeoutSeconds: number;
}

/** The endpoints with every default filled in; kinds the file leaves out are absent. */
export interface EndpointsConfig {
  concurrency: number;
  maxBodyBytes: number;
  jitter: boolean;
  gpuMetrics?: Endpoint;
  bmc?: Endpoint;
  pdu?: Endpoint;
  discovery: Endpoint[];
  syslog?: { host: string; udpPort?: number; tcpPort?: number };
}

export const DEFAULT_INTERVAL_SECONDS = 10;
export const DEFAULT_TIMEOUT_SECONDS = 5;
/** Requests in flight at once over all targets. */
export const DEFAULT_CONCURRENCY = 64;
/** A page larger than this is an error of its target (a 288k-GPU factory's largest is ~30 KB). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

const PLACEHOLDERS: Record<string, readonly string[]> = {
  gpuMetrics: ["node"],
  bmc: ["node"],
  pdu: ["device"],
  discovery: [],
};

/** Fills in defaults and checks placeholders and timeouts; problems are located in `endpoints`. */
export function resolveEndpoints(doc: EndpointsDoc | undefined, problems: ProblemList): EndpointsConfig {
  const d = doc?.defaults ?? {};
  const interval = d.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS;
  const timeout = d.timeoutSeconds ?? Math.min(DEFAULT_TIMEOUT_SECONDS, interval);
  if (timeout > interval)
    problems.error(`timeoutSeconds (${timeout}) must not exceed intervalSeconds (${interval})`, [
      "endpoints",
      "defaults",
      "timeoutSeconds",
    ]);
  const one = (kind: string, e: EndpointDoc, path: (string | number)[]): Endpoint => {
    const allowed = PLACEHOLDERS[kind]!;
    for (const m of e.url.matchAll(/\{([a-zA-Z]+)\}/g))
      if (!allowed.includes(m[1]!))
        problems.error(
          allowed.length > 0
            ? `unknown placeholder {${m[1]}} in a ${kind} URL; use {${allowed.join("}, {")}}`
            : `a ${kind} URL takes no placeholder, found {${m[1]}}`,
          [...path, "url"],
        );
    const i = e.intervalSeconds ?? interval;
    const t = e.timeoutSeconds ?? Math.min(timeout, i);
    if (t > i)
      problems.error(`timeoutSeconds (${t}) must not exceed intervalSeconds (${i})`, [
        ...path,
        "timeoutSeconds",
      ]);
    return { url: e.url, intervalSeconds: i, timeoutSeconds: t };
  };
  const out: EndpointsConfig = {
    concurrency: d.concurrency ?? DEFAULT_CONCURRENCY,
    maxBodyBytes: d.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    jitter: d.jitter ?? true,
    discovery: (doc?.discovery ?? []).map((e, i) => one("discovery", e, ["endpoints", "discovery", i])),
  };
  for (const kind of ["gpuMetrics", "bmc", "pdu"] as const) {
    const e = doc?.[kind];
    if (e) out[kind] = one(kind, e, ["endpoints", kind]);
  }
  if (doc?.syslog) out.syslog = { host: "127.0.0.1", ...doc.syslog };
  return out;
}

/** A template URL for one target: `{node}` / `{device}` replaced by the URL-encoded name. */
export function expandEndpoint(template: string, names: { node?: string; device?: string }): string {
  return template.replace(/\{(node|device)\}/g, (_, key: "node" | "device") =>
    encodeURIComponent(names[key] ?? ""),
  );
}
