/**
 * The DCGM fields the twin exports, with the metric type and help text of NVIDIA dcgm-exporter's
 * `etc/default-counters.csv` (NVIDIA/dcgm-exporter @ e61056b9, tag 4.5.3-4.8.2+1; a copy is in
 * fixtures/dcgm/). `default: true` fields are the ones that file enables; the others are lines it
 * ships commented out (ECC, retired pages, NVLink errors, violations), which operators enable in
 * their own counters file and which the twin exports unless asked for the default set only.
 */
import type { FactoryState } from "../state.ts";
import { WORK_IDLE } from "../workload.ts";

/** One exported field: name, Prometheus type, help, and how to read it from the state. */
export interface DcgmField {
  name: string;
  type: "gauge" | "counter";
  help: string;
  /** Enabled in dcgm-exporter's default-counters.csv. */
  default: boolean;
  /** Printed with six decimals, as dcgm-exporter prints doubles; otherwise as an integer. */
  float: boolean;
  value: (s: FactoryState, gpu: number) => number;
}

/**
 * Memory-interface and tensor-pipe activity per unit of utilization, for compute-bound and for
 * memory-bound (decode) work, mixed by the GPU's compute share: decode is memory-bound (FACTS.md);
 * the loaded A100 excerpt shows 0.93 tensor activity for training. Synthetic.
 */
const DRAM_SHARE = { compute: 0.6, decode: 0.85 };
const TENSOR_SHARE = { compute: 0.93, decode: 0.35 };
const mix = (s: FactoryState, g: number, share: { compute: number; decode: number }): number => {
  const c = s.workload.computeShare[g]!;
  return c * share.compute + (1 - c) * share.decode;
};

const fbUsedMiB = (s: FactoryState, g: number): number => {
  // A job's GPUs hold their memory (weights, KV cache, optimizer state) even while they wait.
  if (s.workload.kind[g] === WORK_IDLE) return 0;
  const { info } = s.topo.models[s.topo.gpuModel[g]!]!;
  return Math.round(0.9 * (info.fbTotalMiB - info.fbReservedMiB));
};
const fbOf = (s: FactoryState, g: number) => s.topo.models[s.topo.gpuModel[g]!]!.info;
const dram = (s: FactoryState, g: number): number => s.gpu.utilization[g]! * mix(s, g, DRAM_SHARE);

const field = (
  name: string,
  type: "gauge" | "counter",
  help: string,
  isDefault: boolean,
  value: (s: FactoryState, g: number) => number,
  float = false,
): DcgmField => ({ name, type, help, default: isDefault, float, value });

/** Every field the twin can export, in the order of default-counters.csv. */
export const DCGM_FIELDS: readonly DcgmField[] = [
  field(
    "DCGM_FI_DEV_SM_CLOCK",
    "gauge",
    "SM clock frequency (in MHz).",
    true,
    (s, g) => s.gpu.smClockMHz[g]!,
  ),
  field(
    "DCGM_FI_DEV_MEM_CLOCK",
    "gauge",
    "Memory clock frequency (in MHz).",
    true,
    (s, g) => s.gpu.memClockMHz[g]!,
  ),
  field("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C).", true, (s, g) => s.gpu.memTempC[g]!),
  field("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", true, (s, g) => s.gpu.gpuTempC[g]!),
  // NVML reports power in milliwatts, so dcgm-exporter's six decimals end in 000 (`409.692000` in
  // fixtures/dcgm/nvidia-cloud-native-docs-dcgm-exporter-A100-MIG-excerpt.prom): whole mW.
  field(
    "DCGM_FI_DEV_POWER_USAGE",
    "gauge",
    "Power draw (in W).",
    true,
    (s, g) => Math.round(s.gpu.powerWatts[g]! * 1000) / 1000,
    true,
  ),
  field(
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
    "counter",
    "Total energy consumption since boot (in mJ).",
    true,
    (s, g) => s.gpu.energyMillijoules[g]!,
  ),
  field(
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
    "counter",
    "Total number of PCIe retries.",
    true,
    (s, g) => s.gpu.pcieReplays[g]!,
  ),
  field(
    "DCGM_FI_DEV_GPU_UTIL",
    "gauge",
    "GPU utilization (in %).",
    true,
    (s, g) => s.gpu.utilization[g]! * 100,
  ),
  field("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", true, (s, g) => dram(s, g) * 100),
  field("DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %).", true, () => 0),
  field("DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %).", true, () => 0),
  field(
    "DCGM_FI_DEV_XID_ERRORS",
    "gauge",
    "Value of the last XID error encountered.",
    true,
    (s, g) => s.gpu.xidLast[g]!,
  ),
  field(
    "DCGM_FI_DEV_POWER_VIOLATION",
    "counter",
    "Throttling duration due to power constraints (in ns).",
    false,
    (s, g) => s.gpu.powerViolationNs[g]!,
  ),
  field(
    "DCGM_FI_DEV_THERMAL_VIOLATION",
    "counter",
    "Throttling duration due to thermal constraints (in ns).",
    false,
    (s, g) => s.gpu.thermalViolationNs[g]!,
  ),
  field("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).", true, (s, g) => {
    const fb = fbOf(s, g);
    return fb.fbTotalMiB - fb.fbReservedMiB - fbUsedMiB(s, g);
  }),
  field("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", true, fbUsedMiB),
  field(
    "DCGM_FI_DEV_FB_RESERVED",
    "gauge",
    "Framebuffer memory reserved (in MiB).",
    true,
    (s, g) => fbOf(s, g).fbReservedMiB,
  ),
  ...(
    [
      ["ECC_SBE_VOL_TOTAL", "single-bit volatile ECC errors", "eccSbeVolatile"],
      ["ECC_DBE_VOL_TOTAL", "double-bit volatile ECC errors", "eccDbeVolatile"],
      ["ECC_SBE_AGG_TOTAL", "single-bit persistent ECC errors", "eccSbeAggregate"],
      ["ECC_DBE_AGG_TOTAL", "double-bit persistent ECC errors", "eccDbeAggregate"],
    ] as const
  ).map(([suffix, what, key]) =>
    field(`DCGM_FI_DEV_${suffix}`, "counter", `Total number of ${what}.`, false, (s, g) => s.gpu[key][g]!),
  ),
  field(
    "DCGM_FI_DEV_RETIRED_SBE",
    "counter",
    "Total number of retired pages due to single-bit errors.",
    false,
    (s, g) => s.gpu.retiredPagesSbe[g]!,
  ),
  field(
    "DCGM_FI_DEV_RETIRED_DBE",
    "counter",
    "Total number of retired pages due to double-bit errors.",
    false,
    (s, g) => s.gpu.retiredPagesDbe[g]!,
  ),
  field(
    "DCGM_FI_DEV_RETIRED_PENDING",
    "counter",
    "Total number of pages pending retirement.",
    false,
    (s, g) => s.gpu.retiredPagesPending[g]!,
  ),
  ...(
    [
      [
        "CRC_FLIT_ERROR_COUNT_TOTAL",
        "Total number of NVLink flow-control CRC errors.",
        "nvlinkCrcFlitErrors",
      ],
      ["CRC_DATA_ERROR_COUNT_TOTAL", "Total number of NVLink data CRC errors.", "nvlinkCrcDataErrors"],
      ["REPLAY_ERROR_COUNT_TOTAL", "Total number of NVLink retries.", "nvlinkReplayErrors"],
      ["RECOVERY_ERROR_COUNT_TOTAL", "Total number of NVLink recovery errors.", "nvlinkRecoveryErrors"],
    ] as const
  ).map(([suffix, help, key]) =>
    field(`DCGM_FI_DEV_NVLINK_${suffix}`, "counter", help, false, (s, g) => s.gpu[key][g]!),
  ),
  field(
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
    "counter",
    "Total number of NVLink bandwidth counters for all lanes.",
    true,
    (s, g) => s.gpu.nvlinkBytes[g]!,
  ),
  field("DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", "vGPU License status", true, () => 0),
  field(
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
    "counter",
    "Number of remapped rows for uncorrectable errors",
    true,
    (s, g) => s.gpu.rowRemapUncorrectable[g]!,
  ),
  field(
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
    "counter",
    "Number of remapped rows for correctable errors",
    true,
    (s, g) => s.gpu.rowRemapCorrectable[g]!,
  ),
  field(
    "DCGM_FI_DEV_ROW_REMAP_FAILURE",
    "gauge",
    "Whether remapping of rows has failed",
    true,
    (s, g) => s.gpu.rowRemapFailure[g]!,
  ),
  field(
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "gauge",
    "Ratio of time the graphics engine is active.",
    true,
    (s, g) => s.gpu.utilization[g]!,
    true,
  ),
  field(
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    "gauge",
    "Ratio of cycles the tensor (HMMA) pipe is active.",
    true,
    (s, g) => s.gpu.utilization[g]! * mix(s, g, TENSOR_SHARE) * s.gpu.throughputRel[g]!,
    true,
  ),
  field(
    "DCGM_FI_PROF_DRAM_ACTIVE",
    "gauge",
    "Ratio of cycles the device memory interface is active sending or receiving data.",
    true,
    dram,
    true,
  ),
  field(
    "DCGM_FI_PROF_PCIE_TX_BYTES",
    "gauge",
    "The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - in bytes per second.",
    true,
    // Rates of the order of the loaded A100 excerpt (33 MB/s out, 98 MB/s in). Synthetic.
    (s, g) => s.gpu.utilization[g]! * 33e6,
  ),
  field(
    "DCGM_FI_PROF_PCIE_RX_BYTES",
    "gauge",
    "The rate of data received over the PCIe bus - including both protocol headers and data payloads - in bytes per second.",
    true,
    (s, g) => s.gpu.utilization[g]! * (60e6 + 38e6 * (1 - s.workload.computeShare[g]!)),
  ),
];

/** Which fields a page carries: the default counters file only, or with the reliability fields. */
export type DcgmFieldSet = "default" | "extended";

/** The fields of a set, in export order. */
export function dcgmFields(set: DcgmFieldSet): readonly DcgmField[] {
  return set === "default" ? DCGM_FIELDS.filter((f) => f.default) : DCGM_FIELDS;
}
