/**
 * A node's dcgm-exporter `/metrics` page in the Prometheus text format, as NVIDIA dcgm-exporter
 * writes it: for each field `# HELP NAME HELP` and `# TYPE NAME TYPE`, then one sample per GPU
 * with the labels `gpu, UUID, pci_bus_id, device, modelName, Hostname, DCGM_FI_DRIVER_VERSION`
 * in that order (dcgm-exporter 3.x/4.x output; fixtures/dcgm/ holds older captures).
 *
 * Speed: a page is written as bytes into one reused buffer. Metric names, headers and each GPU's
 * label set are encoded once and copied; numbers are written digit by digit. Nothing is
 * allocated per sample, and the page costs one copy out of the scratch buffer.
 */
import { DRIVER_VERSION, gpuUuid, pciBusId } from "../devices.ts";
import type { FactoryState } from "../state.ts";
import { ByteWriter } from "./byte-writer.ts";
import { type DcgmField, type DcgmFieldSet, dcgmFields } from "./dcgm-fields.ts";

/** Renders dcgm-exporter pages for the nodes of one factory state. */
export interface DcgmExporter {
  /** The page of node slot `node` at the state's current values (UTF-8). Empty for GPU-less nodes. */
  render(node: number): Buffer;
  /** The fields on every page, in order. */
  readonly fields: readonly DcgmField[];
}

/** Options for the exporter. */
export interface DcgmExporterOptions {
  /** `extended` (default) adds ECC, retired-page, NVLink-error and violation fields. */
  fieldSet?: DcgmFieldSet;
  driverVersion?: string;
}

/** Escapes a label value as the text format requires (backslash, double quote, newline). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** An exporter over `state`; pages reflect the state whenever `render` is called. */
export function createDcgmExporter(state: FactoryState, options: DcgmExporterOptions = {}): DcgmExporter {
  const fields = dcgmFields(options.fieldSet ?? "extended");
  const driver = escapeLabelValue(options.driverVersion ?? DRIVER_VERSION);
  const headers = fields.map((f) => Buffer.from(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`));
  const names = fields.map((f) => Buffer.from(f.name));
  const labelCache: (Buffer[] | undefined)[] = new Array(state.topo.nodeCount);
  const { topo } = state;
  const out = new ByteWriter(1 << 16);

  const labelsOf = (node: number): Buffer[] => {
    const cached = labelCache[node];
    if (cached) return cached;
    const start = topo.nodeGpuStart[node]!;
    const end = topo.nodeGpuStart[node + 1]!;
    const host = escapeLabelValue(topo.nodeNames[node]!);
    const labels: Buffer[] = [];
    for (let g = start; g < end; g++) {
      const ordinal = topo.gpuOrdinal[g]!;
      const model = escapeLabelValue(topo.models[topo.gpuModel[g]!]!.spec.model);
      const uuid = gpuUuid(topo.siteName, topo.graph.at(topo.gpuEntity[g]!).id);
      labels.push(
        Buffer.from(
          `{gpu="${ordinal}",UUID="${uuid}",pci_bus_id="${pciBusId(ordinal, end - start)}",device="nvidia${ordinal}",` +
            `modelName="${model}",Hostname="${host}",DCGM_FI_DRIVER_VERSION="${driver}"} `,
        ),
      );
    }
    labelCache[node] = labels;
    return labels;
  };

  return {
    fields,
    render(node: number): Buffer {
      const start = topo.nodeGpuStart[node]!;
      const end = topo.nodeGpuStart[node + 1]!;
      if (end === start) return Buffer.alloc(0);
      const labels = labelsOf(node);
      const offBus = state.faults.offBus;
      let labelBytes = 0;
      for (const l of labels) labelBytes += l.length;
      let need = 0;
      for (let f = 0; f < fields.length; f++)
        need += headers[f]!.length + labelBytes + (end - start) * (names[f]!.length + 32);
      out.reset(need);
      for (let f = 0; f < fields.length; f++) {
        const field = fields[f]!;
        const name = names[f]!;
        out.bytes(headers[f]!);
        for (let g = start; g < end; g++) {
          if (offBus[g]! > 0) continue; // fallen off the bus (Xid 79): DCGM no longer sees it
          out.bytes(name);
          out.bytes(labels[g - start]!);
          const v = field.value(state, g);
          if (field.float) out.fixed6(v);
          else out.integer(Math.floor(v + 0.5));
          out.newline();
        }
      }
      return out.copy();
    },
  };
}
