/**
 * Prometheus file-based service discovery for the twin: one target group per GPU node, all on
 * the twin's single listener and told apart by `__metrics_path__`. Point a `file_sd_configs`
 * entry at the file and Prometheus scrapes every node as if it ran its own dcgm-exporter.
 */
import { renameSync, writeFileSync } from "node:fs";
import type { JobEngine } from "./jobs.ts";
import type { FactoryState } from "./state.ts";

/** One group of a file_sd file (Prometheus `<file_sd_config>` JSON format). */
export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * The groups for every node with GPUs (job `dcgm`), and with an engine every running inference
 * replica (job `vllm`) and training job (job `training`), scraped at `address` (`host:port`).
 * A job's `nodes` label lists the nodes it runs on, comma-separated, as a Kubernetes pod's node
 * name would tell a real collector.
 */
export function fileSdGroups(state: FactoryState, address: string, engine?: JobEngine): FileSdGroup[] {
  const { topo } = state;
  const groups: FileSdGroup[] = [];
  for (let n = 0; n < topo.nodeCount; n++) {
    if (topo.nodeGpuStart[n + 1] === topo.nodeGpuStart[n]) continue;
    const name = topo.nodeNames[n]!;
    const rack = topo.nodeRack[n]!;
    groups.push({
      targets: [address],
      labels: {
        __metrics_path__: `/nodes/${encodeURIComponent(name)}/metrics`,
        node: name,
        rack: rack >= 0 ? topo.rackNames[rack]! : "",
        job: "dcgm",
      },
    });
  }
  for (const job of engine?.jobs ?? []) {
    if (job.phase !== "running") continue;
    const org = job.spec.org ?? "";
    if (job.spec.type === "training")
      groups.push({
        targets: [address],
        labels: {
          __metrics_path__: `/jobs/${encodeURIComponent(job.spec.name)}/metrics`,
          job_name: job.spec.name,
          org,
          nodes: job.nodes.map((n) => topo.nodeNames[n]!).join(","),
          job: "training",
          ...powerLabels(job),
        },
      });
    else
      for (const r of job.replicas)
        groups.push({
          targets: [address],
          labels: {
            __metrics_path__: `/inference/${encodeURIComponent(r.name)}/metrics`,
            server: r.name,
            service: job.spec.name,
            org,
            nodes: r.nodes.map((n) => topo.nodeNames[n]!).join(","),
            job: "vllm",
            ...powerLabels(job),
          },
        });
  }
  return groups;
}

/**
 * Writes the groups to `file` atomically (a temporary file renamed over it), so that Prometheus,
 * which watches the file, never reads half of it.
 */
export function writeFileSd(file: string, groups: FileSdGroup[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(groups, null, 1)}\n`);
  renameSync(tmp, file);
}

/**
 * The `endpoints` section of a factory description that points a control plane at this twin
 * (base URL `url`), as YAML to paste into the factory file.
 */
export function endpointsSection(url: string, syslogPort?: number): string {
  const lines = [
    "endpoints:",
    "  defaults: { intervalSeconds: 10, timeoutSeconds: 5 }",
    `  gpuMetrics: { url: "${url}/nodes/{node}/metrics" }`,
    `  bmc: { url: "${url}/bmc/{node}/redfish/v1" }`,
    `  pdu: { url: "${url}/pdu/{device}/redfish/v1" }`,
    "  discovery:",
    `    - url: ${url}/sim/sd`,
  ];
  if (syslogPort !== undefined) lines.push(`  syslog: { udpPort: ${syslogPort} }`);
  return `${lines.join("\n")}\n`;
}

/** The job's priority and power profile, as a Kubernetes pod's annotations would carry them. */
function powerLabels(job: { spec: { priority?: number; profile?: string } }): Record<string, string> {
  return {
    ...(job.spec.priority !== undefined ? { priority: String(job.spec.priority) } : {}),
    ...(job.spec.profile !== undefined ? { profile: job.spec.profile } : {}),
  };
}
