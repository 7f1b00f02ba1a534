/**
 * The built-in catalog of device specs. A factory file may add entries or override them by name
 * under `catalog:`. Figures come from `FACTS.md` (NVIDIA datasheets and DGX / HGX user guides)
 * unless a comment says otherwise.
 */

/** A GPU model: its power envelope and memory. */
export interface GpuSpec {
  /** Smallest power limit the driver accepts. */
  minWatts: number;
  /** Largest power limit, also the default cap. */
  maxWatts: number;
  /** Draw of an idle GPU. */
  idleWatts: number;
  memoryGB: number;
  /** Human name as tools print it. */
  model: string;
}

/** What a node is for: compute nodes hold GPUs; NVLink switch trays join a rack-scale domain. */
export type NodeRole = "compute" | "nvswitch" | "storage" | "management";

/** A server or tray model. */
export interface NodeSpec {
  role: NodeRole;
  /** GPU type (a key of the GPU catalog); absent for nodes without GPUs. */
  gpu?: string;
  gpus: number;
  /** The power supplies' rating for the whole node, what the power chain must carry at worst. */
  nameplateWatts: number;
  cpuWatts: number;
  memoryWatts: number;
  nicWatts: number;
  fanWatts: number;
  otherWatts: number;
  /** Scale-out (east-west) NIC ports, one per rail. */
  nics: number;
  /** BlueField DPUs for north-south traffic. */
  dpus: number;
  /** `node`: the node's GPUs form one NVLink domain (HGX baseboard); `rack`: they join the rack's. */
  nvlink: "node" | "rack" | "none";
}

/** A network switch model. */
export interface SwitchSpec {
  technology: "infiniband" | "ethernet";
  ports: number;
  portGbps: number;
  watts: number;
  model: string;
}

/** Names a power rating either directly or as volts × amps × phases. */
export type Rating = { kw: number } | { volts: number; amps: number; phases: 1 | 3 };

/** A power device inside a rack type: a rack PDU or a power shelf. */
export interface RackPowerSpec {
  name: string;
  kind: "rackPdu" | "powerShelf";
  side: string;
  rating: Rating;
  derating?: number;
}

/** A group of nodes inside a rack type; `name` may be a pattern such as `ct{01..18}`. */
export interface RackSlotSpec {
  name: string;
  type: string;
}

/** A rack model: the nodes it holds and the power devices that feed them. */
export interface RackSpec {
  nodes: RackSlotSpec[];
  power: RackPowerSpec[];
  /** `rack`: every GPU of the rack is one NVLink domain (NVL72). */
  nvlink: "node" | "rack";
  /** An out-of-band management switch in the rack for BMCs. */
  managementSwitch?: string;
}

/** All spec tables. */
export interface Catalog {
  gpus: Record<string, GpuSpec>;
  nodes: Record<string, NodeSpec>;
  switches: Record<string, SwitchSpec>;
  racks: Record<string, RackSpec>;
}

const overhead = { cpuWatts: 0, memoryWatts: 0, nicWatts: 0, fanWatts: 0, otherWatts: 0 };

/** The catalog every factory starts from. */
export const builtinCatalog: Catalog = {
  gpus: {
    // H100 SXM5: 700 W default and maximum limit, 200 W minimum, idle ~71–111 W (FACTS.md).
    "h100-sxm": { model: "NVIDIA H100 80GB HBM3", minWatts: 200, maxWatts: 700, idleWatts: 90, memoryGB: 80 },
    // H200 SXM: same 700 W envelope as H100 SXM, 141 GB HBM3e (FACTS.md: decode draws 137–300 W of 700 W).
    "h200-sxm": { model: "NVIDIA H200", minWatts: 200, maxWatts: 700, idleWatts: 90, memoryGB: 141 },
    // HGX B200: up to 1 kW per GPU (FACTS.md); 180 GB HBM3e.
    b200: { model: "NVIDIA B200", minWatts: 200, maxWatts: 1000, idleWatts: 140, memoryGB: 180 },
    // GB200: 1,200 W TDP per GPU (FACTS.md); 186 GB HBM3e per Blackwell GPU in the superchip.
    gb200: { model: "NVIDIA GB200", minWatts: 200, maxWatts: 1200, idleWatts: 160, memoryGB: 186 },
  },
  nodes: {
    // DGX H100: rated 10.2 kW; GPUs ~55% of nameplate (8 × 700 W = 5.6 kW); ~8.4 kW measured peak.
    // The rest is split over 2 CPUs, memory, 8 ConnectX-7 + 2 BlueField-3, fans and the rest.
    "dgx-h100": {
      role: "compute",
      gpu: "h100-sxm",
      gpus: 8,
      nameplateWatts: 10_200,
      cpuWatts: 700,
      memoryWatts: 400,
      nicWatts: 350,
      fanWatts: 1000,
      otherWatts: 350,
      nics: 8,
      dpus: 2,
      nvlink: "node",
    },
    // DGX B200: rated 14.3 kW, 8 × 1 kW GPUs (FACTS.md).
    "hgx-b200": {
      role: "compute",
      gpu: "b200",
      gpus: 8,
      nameplateWatts: 14_300,
      cpuWatts: 700,
      memoryWatts: 500,
      nicWatts: 400,
      fanWatts: 1600,
      otherWatts: 400,
      nics: 8,
      dpus: 2,
      nvlink: "node",
    },
    // GB200 NVL72 compute tray: 2 Grace CPUs + 4 Blackwell GPUs, 4 ConnectX NICs, 2 BlueField-3.
    // 18 trays + 9 switch trays make the ~120 kW rack (FACTS.md): 18 × 6.3 kW + 9 × 0.8 kW ≈ 120 kW.
    "gb200-compute-tray": {
      role: "compute",
      gpu: "gb200",
      gpus: 4,
      nameplateWatts: 6_300,
      cpuWatts: 600,
      memoryWatts: 200,
      nicWatts: 150,
      fanWatts: 300,
      otherWatts: 250,
      nics: 4,
      dpus: 2,
      nvlink: "rack",
    },
    // NVLink switch tray: two NVLink switch chips, no GPUs; part of the rack's NVLink domain.
    "nvlink-switch-tray": {
      role: "nvswitch",
      gpus: 0,
      nameplateWatts: 800,
      ...overhead,
      otherWatts: 650,
      fanWatts: 150,
      nics: 0,
      dpus: 0,
      nvlink: "rack",
    },
  },
  switches: {
    // Quantum-2 QM9700: 64 ports of 400 Gb/s NDR InfiniBand.
    qm9700: {
      model: "NVIDIA Quantum-2 QM9700",
      technology: "infiniband",
      ports: 64,
      portGbps: 400,
      watts: 1720,
    },
    // Quantum-X800 Q3400: 144 ports of 800 Gb/s XDR InfiniBand, for fabrics of 100k+ GPUs.
    q3400: {
      model: "NVIDIA Quantum-X800 Q3400",
      technology: "infiniband",
      ports: 144,
      portGbps: 800,
      watts: 6000,
    },
    // Spectrum-4 SN5600: 64 ports of 800 GbE (Spectrum-X).
    sn5600: {
      model: "NVIDIA Spectrum-4 SN5600",
      technology: "ethernet",
      ports: 64,
      portGbps: 800,
      watts: 1800,
    },
    // SN2201: 48 × 1 GbE management switch.
    sn2201: { model: "NVIDIA SN2201", technology: "ethernet", ports: 48, portGbps: 1, watts: 100 },
  },
  racks: {
    // Four DGX H100 per rack as in the DGX SuperPOD H100 reference architecture. Two 3-phase
    // 415 V 60 A rack PDUs per side (43 kW each, 34.5 kW continuous at 80%), so either side alone
    // carries the 40.8 kW nameplate of four DGX H100.
    "dgx-h100-4": {
      nodes: [{ name: "dgx{1..4}", type: "dgx-h100" }],
      power: [
        { name: "pdu-a{1..2}", kind: "rackPdu", side: "A", rating: { volts: 415, amps: 60, phases: 3 } },
        { name: "pdu-b{1..2}", kind: "rackPdu", side: "B", rating: { volts: 415, amps: 60, phases: 3 } },
      ],
      nvlink: "node",
      managementSwitch: "sn2201",
    },
    // GB200 NVL72: 18 compute trays and 9 NVLink switch trays; 8 power shelves of 33 kW
    // (6 × 5.5 kW PSUs), four on each side, so either side alone carries the rack.
    "gb200-nvl72": {
      nodes: [
        { name: "ct{01..18}", type: "gb200-compute-tray" },
        { name: "nvs{1..9}", type: "nvlink-switch-tray" },
      ],
      power: [
        { name: "ps-a{1..4}", kind: "powerShelf", side: "A", rating: { kw: 33 }, derating: 1 },
        { name: "ps-b{1..4}", kind: "powerShelf", side: "B", rating: { kw: 33 }, derating: 1 },
      ],
      nvlink: "rack",
      managementSwitch: "sn2201",
    },
  },
};

/** Continuous rating in watts of a `Rating`: kW, or volts × amps (× √3 for three-phase, line-to-line). */
export function ratingWatts(rating: Rating): number {
  if ("kw" in rating) return rating.kw * 1000;
  return rating.volts * rating.amps * (rating.phases === 3 ? Math.sqrt(3) : 1);
}
