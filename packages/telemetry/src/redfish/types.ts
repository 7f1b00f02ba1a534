/**
 * What discovery finds (an inventory of leaf resources to re-read) and what a poll reads from them
 * (a snapshot). Both are plain frozen values. Every `uri` is the resource's `@odata.id` path on
 * its service: the same string a PATCH goes to and the twin or a real BMC links to.
 */
import type { RedfishErrorCode } from "./errors.ts";

/** A resource that could not be read or understood, and why; the rest of the read goes on. */
export interface RedfishReadError {
  uri: string;
  reason: string;
  code: RedfishErrorCode;
  /** HTTP status when the service answered one. */
  status?: number;
  /** Whether it happened while discovering (the resource's subtree is unknown) or while polling. */
  phase: "discovery" | "poll";
}

/** A GPU's EnvironmentMetrics (HGX: `Processors/GPU_SXM_0/EnvironmentMetrics`, GB200: `Chassis/HGX_ProcessorModule_0/EnvironmentMetrics`). */
export interface GpuTarget {
  /** The EnvironmentMetrics resource: what is polled and what a power limit is PATCHed to. */
  uri: string;
  /** Processor Id (`GPU_SXM_0`), or the module chassis Id where only the chassis shows it. */
  id: string;
  name: string;
  /** The Processor resource (ProcessorType GPU), when the GPU was found under Systems. */
  processorUri: string | undefined;
}

/** Where a chassis's input power is read, in order of preference. */
export type ChassisPowerSource =
  /** EnvironmentMetrics `PowerWatts.Reading`. */
  | { kind: "metrics"; uri: string }
  /** A Sensor with ReadingType Power and PhysicalContext Chassis (DMTF mockup public-rackmount1 `Sensors/TotalPower`). */
  | { kind: "sensor"; uri: string }
  /** Deprecated `Power` resource: `PowerControl[].PowerConsumedWatts`. */
  | { kind: "legacy"; uri: string }
  /** The sum of `InputPowerWatts` over the PowerSubsystem's supplies' `Metrics`. */
  | { kind: "supplies"; uris: string[] };

/** Where a chassis's energy counter is read. */
export type ChassisEnergySource = { kind: "metrics"; uri: string } | { kind: "sensor"; uri: string };

export interface ChassisTarget {
  /** The Chassis resource. */
  uri: string;
  id: string;
  name: string;
  /** `Links.ContainedBy`: a chassis inside another one is already counted in its parent's power. */
  containedBy: string | undefined;
  power: ChassisPowerSource;
  energy: ChassisEnergySource | undefined;
  /** EnvironmentMetrics, read for `TemperatureCelsius` when present. */
  metricsUri: string | undefined;
}

/** A Control with ControlType Power (DMTF mockup public-rackmount1 `Controls/PowerLimit`; HGX `TotalGPU_Power_0`). */
export interface ControlTarget {
  uri: string;
  id: string;
  name: string;
  /** The chassis whose Controls list it. */
  chassisUri: string;
}

/** The collection a circuit was listed in, in lower case: `Mains` → mains, `Branches` → branch, … */
export type CircuitKind = "mains" | "branch" | "feeder" | "subfeed";

/** A Circuit of a power distribution device (DMTF mockup public-pdu `RackPDUs/1/Branches/A`). */
export interface CircuitTarget {
  uri: string;
  kind: CircuitKind;
  /** The PowerDistribution resource (`/redfish/v1/PowerEquipment/RackPDUs/1`). */
  device: string;
  deviceName: string;
  /** EquipmentType of the device: RackPDU, FloorPDU, PowerShelf, Switchgear, Bus, … */
  equipmentType: string | undefined;
}

/** A device's summary `Metrics` (PowerDistributionMetrics). */
export interface PowerDeviceTarget {
  /** The Metrics resource. */
  uri: string;
  device: string;
  deviceName: string;
  equipmentType: string | undefined;
}

/** Everything discovery found on one service. */
export interface RedfishInventory {
  rootUri: string;
  /** When discovery finished, ms since the epoch. */
  discoveredAtMs: number;
  gpus: readonly GpuTarget[];
  chassis: readonly ChassisTarget[];
  controls: readonly ControlTarget[];
  circuits: readonly CircuitTarget[];
  powerDevices: readonly PowerDeviceTarget[];
  /** Links that could not be followed: what lies below them is unknown. */
  errors: readonly RedfishReadError[];
}

/** A power limit as the service shows it; each bound undefined where the service omits it. */
export interface PowerLimit {
  setPointWatts: number | undefined;
  minWatts: number | undefined;
  maxWatts: number | undefined;
}

export interface GpuReading {
  uri: string;
  id: string;
  name: string;
  powerWatts: number;
  temperatureC: number | undefined;
  energyJoules: number | undefined;
  /** `PowerLimitWatts`, undefined when the GPU shows none. */
  powerLimit: PowerLimit | undefined;
}

export interface ChassisReading {
  uri: string;
  id: string;
  name: string;
  containedBy: string | undefined;
  source: ChassisPowerSource["kind"];
  powerWatts: number;
  energyJoules: number | undefined;
  temperatureC: number | undefined;
}

export interface ControlReading {
  uri: string;
  id: string;
  name: string;
  chassisUri: string;
  setPointWatts: number;
  minWatts: number | undefined;
  maxWatts: number | undefined;
  /** `Sensor.Reading`: the power the control acts on. */
  readingWatts: number | undefined;
  /** ControlMode: Automatic, Override, Manual, Disabled. */
  mode: string | undefined;
  physicalContext: string | undefined;
}

export interface CircuitReading {
  uri: string;
  id: string;
  name: string;
  kind: CircuitKind;
  /** CircuitType as the service says it: Mains, Branch, Feeder, Bus, … */
  circuitType: string | undefined;
  device: string;
  deviceName: string;
  equipmentType: string | undefined;
  powerWatts: number | undefined;
  /** `CurrentAmps`, or the most loaded line of `PolyPhaseCurrentAmps`: the one that trips the breaker. */
  currentAmps: number | undefined;
  volts: number | undefined;
  energyJoules: number | undefined;
  ratedAmps: number | undefined;
  /** BreakerState: Normal, Tripped, Off. */
  breakerState: string | undefined;
  /** PowerState: On, Off, … */
  powerState: string | undefined;
}

export interface PowerDeviceReading {
  uri: string;
  device: string;
  deviceName: string;
  equipmentType: string | undefined;
  powerWatts: number;
  energyJoules: number | undefined;
  temperatureC: number | undefined;
}

/** One poll of one service: what could be read, and what could not (discovery's errors included). */
export interface RedfishSnapshot {
  /** When the poll began, ms since the epoch. */
  timeMs: number;
  gpus: GpuReading[];
  chassis: ChassisReading[];
  controls: ControlReading[];
  circuits: CircuitReading[];
  powerDevices: PowerDeviceReading[];
  errors: RedfishReadError[];
}
