/**
 * What the collector reads: targets from the factory description's endpoints section (a
 * dcgm-exporter page per GPU node, a BMC per GPU node, a Redfish service per rack PDU or power
 * shelf) and from Prometheus HTTP service discovery (model servers and training jobs, which come
 * and go).
 */
import {
  type Catalog,
  type Endpoint,
  type EndpointsConfig,
  expandEndpoint,
  type FactoryGraph,
} from "@flightdeck/model";
import { type FetchOptions, fetchBounded } from "./fetch.ts";

/** How a target speaks and what its data is about. */
export type TargetKind = "dcgm" | "vllm" | "training" | "metrics" | "bmc" | "pdu";

/** One thing to read periodically. */
export interface Target {
  /** `KIND:NAME`, unique: `dcgm:r01-dgx1`, `vllm:acme-chat-0`, `pdu:r01-pdu-a1`. */
  id: string;
  kind: TargetKind;
  url: string;
  intervalMs: number;
  timeoutMs: number;
  /**
   * What the target is about: `node` (dcgm, bmc), `device` (pdu), `server`/`service` (vllm),
   * `job_name` (training), `org`, and `nodes` (comma-separated nodes a discovered target runs on).
   */
  labels: Record<string, string>;
}

/** The targets the endpoints section names: per GPU node a dcgm page and a BMC, per power device a Redfish service. */
export function staticTargets(graph: FactoryGraph, catalog: Catalog, endpoints: EndpointsConfig): Target[] {
  const out: Target[] = [];
  const add = (kind: TargetKind, e: Endpoint | undefined, name: string, labels: Record<string, string>) => {
    if (!e) return;
    out.push({
      id: `${kind}:${name}`,
      kind,
      url: expandEndpoint(e.url, kind === "pdu" ? { device: name } : { node: name }),
      intervalMs: e.intervalSeconds * 1000,
      timeoutMs: e.timeoutSeconds * 1000,
      labels,
    });
  };
  const rackOf = (index: number) => graph.enclosing(index, "rack")?.name ?? "";
  if (endpoints.gpuMetrics || endpoints.bmc)
    for (const node of graph.ofKind("node")) {
      const spec = catalog.nodes[node.type ?? ""];
      if (!spec || spec.gpus === 0) continue;
      const labels = { node: node.name, rack: rackOf(node.index) };
      add("dcgm", endpoints.gpuMetrics, node.name, labels);
      add("bmc", endpoints.bmc, node.name, labels);
    }
  // Every level of the power tree, not only rack PDUs: stranded power needs each level's draw.
  if (endpoints.pdu)
    for (const device of graph.ofKind("power"))
      add("pdu", endpoints.pdu, device.name, { device: device.name, rack: rackOf(device.index) });
  return out;
}

/** One group of a Prometheus HTTP SD answer (the file_sd JSON format). */
interface SdGroup {
  targets: string[];
  labels?: Record<string, string>;
}

/** A discovery answer that is not what the HTTP SD format says, with where and why. */
export class DiscoveryError extends Error {
  constructor(url: string, reason: string) {
    super(`${url}: ${reason}`);
    this.name = "DiscoveryError";
  }
}

/**
 * Reads Prometheus HTTP service discovery at `url` and turns every group's targets into scrape
 * targets: `job` picks the kind (`vllm`, `training`, else plain metrics), `__scheme__` and
 * `__metrics_path__` build the URL, and the other labels (double-underscore ones dropped) are
 * kept to place the target (`nodes`, `org`, …).
 */
export async function discoverTargets(
  url: string,
  fetchOptions: FetchOptions,
  intervalMs: number,
  timeoutMs: number,
): Promise<Target[]> {
  const { text } = await fetchBounded(url, { ...fetchOptions, accept: "application/json" });
  let groups: unknown;
  try {
    groups = JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError(url, `not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(groups)) throw new DiscoveryError(url, "expected a JSON array of target groups");
  const out: Target[] = [];
  groups.forEach((group: SdGroup, i) => {
    if (typeof group !== "object" || group === null || !Array.isArray(group.targets))
      throw new DiscoveryError(url, `group ${i}: expected {"targets": [...], "labels": {...}}`);
    const labels = group.labels ?? {};
    if (
      typeof labels !== "object" ||
      Array.isArray(labels) ||
      Object.values(labels).some((v) => typeof v !== "string")
    )
      throw new DiscoveryError(url, `group ${i}: labels must be an object of strings`);
    const kind: TargetKind =
      labels.job === "vllm" ? "vllm" : labels.job === "training" ? "training" : "metrics";
    const scheme = labels.__scheme__ ?? "http";
    const path = labels.__metrics_path__ ?? "/metrics";
    if (!path.startsWith("/"))
      throw new DiscoveryError(url, `group ${i}: __metrics_path__ must start with "/"`);
    if (scheme !== "http" && scheme !== "https")
      throw new DiscoveryError(url, `group ${i}: __scheme__ must be http or https`);
    const kept = Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("__")));
    const name = kept.server ?? kept.job_name ?? path;
    for (const address of group.targets) {
      if (typeof address !== "string" || address === "")
        throw new DiscoveryError(url, `group ${i}: a target must be "host:port"`);
      out.push({
        // The address is part of the id: two groups naming the same server stay two targets.
        id: `${kind}:${name}@${address}`,
        kind,
        url: `${scheme}://${address}${path}`,
        intervalMs,
        timeoutMs,
        labels: kept,
      });
    }
  });
  return out;
}
