/**
 * What a GPU looks like to the tools that read it: clocks, thermal limits, framebuffer size,
 * PCI bus ids, UUIDs and the driver version. Identities are derived from names, never from the
 * seed, so a GPU keeps its UUID and bus id across restarts of the twin.
 */
import type { GpuSpec } from "@flightdeck/model";

/** Static per-model figures the physics and the exporters use. */
export interface GpuModelInfo {
  /** Boost (max) SM clock and the clock of an idle GPU. */
  maxSmClockMHz: number;
  idleSmClockMHz: number;
  memClockMHz: number;
  /** Temperature rise above inlet per watt drawn, at steady state. */
  thermalResistanceCPerWatt: number;
  /** Above this GPU temperature the clocks throttle. */
  slowdownTempC: number;
  fbTotalMiB: number;
  fbReservedMiB: number;
  /** Dense BF16 tensor throughput at full clocks, FLOP/s: what training and prefill run on. */
  denseBf16Flops: number;
  /** HBM bandwidth, bytes/s: what decode runs on. */
  hbmBytesPerSecond: number;
}

/**
 * Dense BF16 FLOP/s and HBM bytes/s by GPU model, from NVIDIA's datasheets (the sparse figures
 * halved): H100 SXM 989 TFLOPS, 3.35 TB/s; H200 SXM 989 TFLOPS, 4.8 TB/s; HGX B200 18 PFLOPS
 * sparse FP16 per 8 GPUs (2.25 dense each), 8 TB/s; GB200 NVL72 360 PFLOPS sparse per 72 GPUs
 * (2.5 dense each), 8 TB/s. A model missing here is scaled from the H100 by its maximum power.
 */
const PERFORMANCE: Record<string, { denseBf16Flops: number; hbmBytesPerSecond: number }> = {
  "NVIDIA H100 80GB HBM3": { denseBf16Flops: 989e12, hbmBytesPerSecond: 3.35e12 },
  "NVIDIA H200": { denseBf16Flops: 989e12, hbmBytesPerSecond: 4.8e12 },
  "NVIDIA B200": { denseBf16Flops: 2.25e15, hbmBytesPerSecond: 8e12 },
  "NVIDIA GB200": { denseBf16Flops: 2.5e15, hbmBytesPerSecond: 8e12 },
};

/**
 * Driver version reported in labels: the newest driver in the H100 captures
 * (fixtures/nvidia-smi/utkuozdemir-capture-…-590.48.01.txt), recent enough for Hopper and Blackwell.
 */
export const DRIVER_VERSION = "590.48.01";

/**
 * Per-model figures. Clocks are those of an H100 80GB HBM3 in the nvidia-smi -q captures
 * (idle SM 345 MHz, max SM 1980 MHz, memory 2619 MHz), used for every model until captures of
 * the others are at hand. The thermal resistance puts a GPU at max power 40 °C above inlet (an
 * assumption: ~65 °C at a 25 °C inlet, the range H100 SXM boards run at under load). The 85 °C
 * slowdown threshold is an assumption: the captures give the limits only relative to T.Limit.
 * Framebuffer: 81,559 MiB total and 551 MiB reserved on an 80 GB H100 (capture), scaled by size.
 */
export function gpuModelInfo(spec: GpuSpec): GpuModelInfo {
  const fbTotalMiB = Math.round(spec.memoryGB * 1024 * (81_559 / 81_920));
  return {
    maxSmClockMHz: 1980,
    idleSmClockMHz: 345,
    memClockMHz: 2619,
    thermalResistanceCPerWatt: 40 / spec.maxWatts,
    slowdownTempC: 85,
    fbTotalMiB,
    fbReservedMiB: Math.round(551 * (fbTotalMiB / 81_559)),
    ...(PERFORMANCE[spec.model] ?? {
      denseBf16Flops: 989e12 * (spec.maxWatts / 700),
      hbmBytesPerSecond: 3.35e12 * (spec.maxWatts / 700),
    }),
  };
}

// DGX H100, 8 GPUs: bus ids from fixtures/nvidia-smi/gpud-nvidia-smi-table-8xH100-550.90.07.txt.
const HGX8 = ["19", "3B", "4C", "5D", "9B", "BB", "CB", "DB"].map((b) => `00000000:${b}:00.0`);
// GB200 compute tray, 4 GPUs: PCI domains 0008/0009/0018/0019 in fixtures/nvidia-smi/gpud-lspci-nn-gb200.txt.
const GB200_TRAY = ["00000008", "00000009", "00000018", "00000019"].map((d) => `${d}:01:00.0`);

/** The PCI bus id NVML reports (`00000000:19:00.0`) for GPU `ordinal` of a node with `gpus` GPUs. */
export function pciBusId(ordinal: number, gpus: number): string {
  if (gpus === 8 && ordinal < 8) return HGX8[ordinal]!;
  if (gpus === 4 && ordinal < 4) return GB200_TRAY[ordinal]!;
  const bus = (0x18 + 0x10 * ordinal) & 0xff;
  return `00000000:${bus.toString(16).toUpperCase().padStart(2, "0")}:00.0`;
}

/** A stable UUID in NVML's form `GPU-8-4-4-4-12` hex digits, hashed from the site and GPU id. */
export function gpuUuid(site: string, gpuId: string): string {
  const text = `${site}\u0000${gpuId}`;
  // cyrb128: four 32-bit lanes mixed over the text, then avalanched.
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ c, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ c, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ c, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ c, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  const hex = [h1 ^ h2 ^ h3 ^ h4, h2 ^ h1, h3 ^ h1, h4 ^ h1]
    .map((h) => (h >>> 0).toString(16).padStart(8, "0"))
    .join("");
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
