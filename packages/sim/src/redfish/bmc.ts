/**
 * A GPU node's BMC, in the NVIDIA HGX layout (FACTS.md, "How power is controlled"):
 *
 *   Systems/HGX_Baseboard_0/Processors/GPU_SXM_{i}[/EnvironmentMetrics]   H100, H200
 *   Systems/HGX_Baseboard_0/Processors/GPU_{i}[/EnvironmentMetrics]       B200, other models
 *   Systems/HGX_Baseboard_0/Processors/GPU_{i}, Chassis/HGX_ProcessorModule_{i}/EnvironmentMetrics   GB200
 *   Chassis/HGX_Chassis_0/Controls/TotalGPU_Power_0                        all the node's GPUs
 *   Chassis/Chassis_0[/EnvironmentMetrics | /Sensors/…]                    the node's chassis
 *
 * `i` is the GPU's ordinal in the node (for GB200 real BMCs number processor modules, which hold
 * two GPUs; the twin keeps one module per GPU so that the FACTS.md path addresses one GPU). Shapes
 * and schema versions follow the DMTF mockup public-rackmount1 (Chassis/1U, its Sensors, Controls/
 * PowerLimit and Processors/CPU1/EnvironmentMetrics).
 */
import { gpuUuid } from "../devices.ts";
import { PSU_EFFICIENCY } from "../power-tree.ts";
import { type FactoryState, scheduleGpuCap } from "../state.ts";
import { collection, link, type Resource, round2, STATUS_OK } from "./resource.ts";

const BASEBOARD = "HGX_Baseboard_0";
const NODE_CHASSIS = "Chassis_0";
const GPU_CHASSIS = "HGX_Chassis_0";
const TOTAL_GPU_CONTROL = "TotalGPU_Power_0";
const MODULE_PREFIX = "HGX_ProcessorModule_";

/** What a node's BMC shows of one node: its slot, its URL base and how its GPUs are named. */
interface BmcNode {
  state: FactoryState;
  node: number;
  /** `/bmc/NODE/redfish/v1`. */
  base: string;
  /** `GPU_SXM_` or `GPU_`. */
  gpuPrefix: string;
  /** GB200: per-GPU metrics live on a processor module chassis. */
  modules: boolean;
}

/** Resolves `segments` (after `/redfish/v1`) of node `node`'s BMC; undefined when there is no such resource. */
export function bmcResource(
  state: FactoryState,
  node: number,
  base: string,
  segments: readonly string[],
): Resource | undefined {
  const { topo } = state;
  const first = topo.nodeGpuStart[node]!;
  const hasGpus = topo.nodeGpuStart[node + 1]! > first;
  const key = hasGpus ? topo.models[topo.gpuModel[first]!]!.key : "";
  const b: BmcNode = {
    state,
    node,
    base,
    gpuPrefix: key === "h100-sxm" || key === "h200-sxm" ? "GPU_SXM_" : "GPU_",
    modules: key === "gb200",
  };
  const [top, id, sub, leaf, extra] = segments;
  if (top === undefined) return serviceRoot(b);
  if (top === "Systems") {
    if (id === undefined)
      return collection(
        `${base}/Systems`,
        "ComputerSystemCollection",
        "Computer System Collection",
        hasGpus ? [`${base}/Systems/${BASEBOARD}`] : [],
      );
    if (id !== BASEBOARD || !hasGpus) return undefined;
    if (sub === undefined) return system(b);
    if (sub !== "Processors") return undefined;
    if (leaf === undefined)
      return collection(
        `${base}/Systems/${BASEBOARD}/Processors`,
        "ProcessorCollection",
        "Processors Collection",
        gpuSlots(b).map((g) => processorUrl(b, g)),
      );
    const g = gpuByName(b, leaf, b.gpuPrefix);
    if (g === undefined || segments.length > 5) return undefined;
    if (extra === undefined) return processor(b, g);
    return extra === "EnvironmentMetrics" && !b.modules
      ? gpuMetrics(b, g, `${processorUrl(b, g)}/EnvironmentMetrics`)
      : undefined;
  }
  if (top !== "Chassis") return undefined;
  if (id === undefined) {
    const members = [`${base}/Chassis/${NODE_CHASSIS}`];
    if (hasGpus) members.push(`${base}/Chassis/${GPU_CHASSIS}`);
    if (b.modules) for (const g of gpuSlots(b)) members.push(moduleUrl(b, g));
    return collection(`${base}/Chassis`, "ChassisCollection", "Chassis Collection", members);
  }
  if (id === NODE_CHASSIS) {
    if (sub === undefined) return nodeChassis(b);
    if (sub === "EnvironmentMetrics" && leaf === undefined) return nodeMetrics(b);
    if (sub !== "Sensors" || extra !== undefined) return undefined;
    if (leaf === undefined)
      return collection(
        `${base}/Chassis/${NODE_CHASSIS}/Sensors`,
        "SensorCollection",
        "Chassis sensors",
        sensorIds(b).map((s) => sensorUrl(b, s)),
      );
    return sensor(b, leaf);
  }
  if (id === GPU_CHASSIS && hasGpus) {
    if (sub === undefined) return gpuChassis(b);
    if (sub !== "Controls" || extra !== undefined) return undefined;
    if (leaf === undefined)
      return collection(`${base}/Chassis/${GPU_CHASSIS}/Controls`, "ControlCollection", "Chassis controls", [
        totalControlUrl(b),
      ]);
    return leaf === TOTAL_GPU_CONTROL ? totalGpuControl(b) : undefined;
  }
  if (b.modules && id.startsWith(MODULE_PREFIX)) {
    const g = gpuByName(b, id, MODULE_PREFIX);
    if (g === undefined || leaf !== undefined) return undefined;
    if (sub === undefined) return moduleChassis(b, g);
    return sub === "EnvironmentMetrics"
      ? gpuMetrics(b, g, `${moduleUrl(b, g)}/EnvironmentMetrics`)
      : undefined;
  }
  return undefined;
}

function gpuSlots({ state, node }: BmcNode): number[] {
  const out: number[] = [];
  for (let g = state.topo.nodeGpuStart[node]!; g < state.topo.nodeGpuStart[node + 1]!; g++) out.push(g);
  return out;
}

/** The GPU slot named `PREFIX{ordinal}`, scanning only this node's GPUs. */
function gpuByName({ state, node }: BmcNode, name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const digits = name.slice(prefix.length);
  if (!/^(0|[1-9]\d*)$/.test(digits)) return undefined;
  const ordinal = Number(digits);
  for (let g = state.topo.nodeGpuStart[node]!; g < state.topo.nodeGpuStart[node + 1]!; g++)
    if (state.topo.gpuOrdinal[g] === ordinal) return g;
  return undefined;
}

const gpuName = (b: BmcNode, g: number): string => `${b.gpuPrefix}${b.state.topo.gpuOrdinal[g]}`;
const processorUrl = (b: BmcNode, g: number): string =>
  `${b.base}/Systems/${BASEBOARD}/Processors/${gpuName(b, g)}`;
const moduleUrl = (b: BmcNode, g: number): string =>
  `${b.base}/Chassis/${MODULE_PREFIX}${b.state.topo.gpuOrdinal[g]}`;
const metricsUrl = (b: BmcNode, g: number): string =>
  b.modules ? `${moduleUrl(b, g)}/EnvironmentMetrics` : `${processorUrl(b, g)}/EnvironmentMetrics`;
const sensorUrl = (b: BmcNode, sensorId: string): string =>
  `${b.base}/Chassis/${NODE_CHASSIS}/Sensors/${sensorId}`;
const totalControlUrl = (b: BmcNode): string =>
  `${b.base}/Chassis/${GPU_CHASSIS}/Controls/${TOTAL_GPU_CONTROL}`;

/** The cap a GPU was last ordered to: a pending Redfish order if one waits, else the cap in force. */
function requestedCapWatts(state: FactoryState, g: number): number {
  const pending = state.pendingCaps;
  for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.gpuSlot === g) return pending[i]!.capWatts;
  return state.gpu.capWatts[g]!;
}

function specOf(state: FactoryState, g: number) {
  return state.topo.models[state.topo.gpuModel[g]!]!.spec;
}

function serviceRoot(b: BmcNode): Resource {
  const { topo } = b.state;
  const name = topo.nodeNames[b.node]!;
  return {
    body: () => ({
      "@odata.id": `${b.base}/`,
      "@odata.type": "#ServiceRoot.v1_20_0.ServiceRoot",
      Id: "RootService",
      Name: "Root Service",
      RedfishVersion: "1.15.0",
      UUID: gpuUuid(topo.siteName, `bmc:${name}`).slice(4),
      Systems: link(`${b.base}/Systems`),
      Chassis: link(`${b.base}/Chassis`),
    }),
  };
}

function system(b: BmcNode): Resource {
  const slots = gpuSlots(b);
  const spec = specOf(b.state, slots[0]!);
  return {
    body: () => ({
      "@odata.id": `${b.base}/Systems/${BASEBOARD}`,
      "@odata.type": "#ComputerSystem.v1_27_0.ComputerSystem",
      Id: BASEBOARD,
      Name: "HGX Baseboard",
      SystemType: "Physical",
      PowerState: "On",
      Status: STATUS_OK,
      ProcessorSummary: { Count: slots.length, Model: spec.model },
      Processors: link(`${b.base}/Systems/${BASEBOARD}/Processors`),
      Links: { Chassis: [link(`${b.base}/Chassis/${GPU_CHASSIS}`)] },
    }),
  };
}

function processor(b: BmcNode, g: number): Resource {
  const { state } = b;
  return {
    body: () => ({
      "@odata.id": processorUrl(b, g),
      "@odata.type": "#Processor.v1_22_0.Processor",
      Id: gpuName(b, g),
      Name: `GPU ${state.topo.gpuOrdinal[g]}`,
      ProcessorType: "GPU",
      Manufacturer: "NVIDIA",
      Model: specOf(state, g).model,
      UUID: gpuUuid(state.topo.siteName, state.topo.graph.at(state.topo.gpuEntity[g]!).id).slice(4),
      Status: state.faults.offBus[g]! > 0 ? { State: "UnavailableOffline", Health: "Critical" } : STATUS_OK,
      EnvironmentMetrics: link(metricsUrl(b, g)),
    }),
  };
}

/**
 * A GPU's EnvironmentMetrics: readings from the state, and PowerLimitWatts whose SetPoint is the
 * last cap ordered. A PATCH of `PowerLimitWatts/SetPoint` orders the cap through the BMC, so the
 * GPU's draw follows only after the control delay (state.ts, BMC_CAP_DELAY_SECONDS).
 */
function gpuMetrics(b: BmcNode, g: number, url: string): Resource {
  const { state } = b;
  const spec = specOf(state, g);
  const name = gpuName(b, g);
  return {
    body: () => ({
      "@odata.id": url,
      "@odata.type": "#EnvironmentMetrics.v1_5_0.EnvironmentMetrics",
      Id: "EnvironmentMetrics",
      Name: `${name} Environment Metrics`,
      TemperatureCelsius: {
        Reading: round2(state.gpu.gpuTempC[g]!),
        DataSourceUri: sensorUrl(b, `${name}_Temp_0`),
      },
      PowerWatts: {
        Reading: round2(state.gpu.powerWatts[g]!),
        DataSourceUri: sensorUrl(b, `${name}_Power_0`),
      },
      EnergyJoules: {
        Reading: Math.round(state.gpu.energyMillijoules[g]!) / 1000,
        DataSourceUri: sensorUrl(b, `${name}_Energy_0`),
      },
      PowerLimitWatts: {
        SetPoint: requestedCapWatts(state, g),
        AllowableMin: spec.minWatts,
        AllowableMax: spec.maxWatts,
        ControlMode: "Automatic",
      },
    }),
    writable: {
      path: ["PowerLimitWatts", "SetPoint"],
      min: spec.minWatts,
      max: spec.maxWatts,
      apply: (watts) => scheduleGpuCap(state, g, watts),
    },
  };
}

function nodeChassis(b: BmcNode): Resource {
  const { topo } = b.state;
  const rack = topo.nodeRack[b.node]!;
  const hasGpus = topo.nodeGpuStart[b.node + 1]! > topo.nodeGpuStart[b.node]!;
  return {
    body: () => ({
      "@odata.id": `${b.base}/Chassis/${NODE_CHASSIS}`,
      "@odata.type": "#Chassis.v1_28_0.Chassis",
      Id: NODE_CHASSIS,
      Name: topo.nodeNames[b.node],
      ChassisType: "RackMount",
      PowerState: "On",
      Status: STATUS_OK,
      ...(rack >= 0 ? { Location: { Placement: { Rack: topo.rackNames[rack] } } } : {}),
      EnvironmentMetrics: link(`${b.base}/Chassis/${NODE_CHASSIS}/EnvironmentMetrics`),
      Sensors: link(`${b.base}/Chassis/${NODE_CHASSIS}/Sensors`),
      Links: hasGpus
        ? {
            ComputerSystems: [link(`${b.base}/Systems/${BASEBOARD}`)],
            Contains: [link(`${b.base}/Chassis/${GPU_CHASSIS}`)],
          }
        : {},
    }),
  };
}

/** Chassis input: the node's draw ÷ PSU efficiency (power-tree.ts), what its PDUs deliver. */
const nodeInputWatts = (b: BmcNode): number => b.state.nodePowerWatts[b.node]! / PSU_EFFICIENCY;

function inletC(b: BmcNode): number {
  const rack = b.state.topo.nodeRack[b.node]!;
  return rack >= 0 ? b.state.rackInletC[rack]! : 25;
}

function nodeMetrics(b: BmcNode): Resource {
  return {
    body: () => ({
      "@odata.id": `${b.base}/Chassis/${NODE_CHASSIS}/EnvironmentMetrics`,
      "@odata.type": "#EnvironmentMetrics.v1_5_0.EnvironmentMetrics",
      Id: "EnvironmentMetrics",
      Name: "Chassis Environment Metrics",
      TemperatureCelsius: { Reading: round2(inletC(b)), DataSourceUri: sensorUrl(b, "InletTemp") },
      PowerWatts: { Reading: round2(nodeInputWatts(b)), DataSourceUri: sensorUrl(b, "TotalPower") },
    }),
  };
}

function gpuChassis(b: BmcNode): Resource {
  return {
    body: () => ({
      "@odata.id": `${b.base}/Chassis/${GPU_CHASSIS}`,
      "@odata.type": "#Chassis.v1_28_0.Chassis",
      Id: GPU_CHASSIS,
      Name: "HGX Chassis",
      ChassisType: "Module",
      Status: STATUS_OK,
      Controls: link(`${b.base}/Chassis/${GPU_CHASSIS}/Controls`),
      Links: { ContainedBy: link(`${b.base}/Chassis/${NODE_CHASSIS}`) },
    }),
  };
}

function moduleChassis(b: BmcNode, g: number): Resource {
  return {
    body: () => ({
      "@odata.id": moduleUrl(b, g),
      "@odata.type": "#Chassis.v1_28_0.Chassis",
      Id: `${MODULE_PREFIX}${b.state.topo.gpuOrdinal[g]}`,
      Name: `Processor Module ${b.state.topo.gpuOrdinal[g]}`,
      ChassisType: "Module",
      Status: STATUS_OK,
      EnvironmentMetrics: link(`${moduleUrl(b, g)}/EnvironmentMetrics`),
      Links: { ContainedBy: link(`${b.base}/Chassis/${NODE_CHASSIS}`) },
    }),
  };
}

/**
 * The node's total GPU power limit (FACTS.md: HGX_Chassis_0/Controls/TotalGPU_Power_0), in the
 * shape of the DMTF mockup public-rackmount1 Chassis/1U/Controls/PowerLimit. A SetPoint splits
 * evenly over the node's GPUs, each ordered like a per-GPU PATCH; bounds are the GPUs' summed
 * minimum and maximum limits. It reads back as the sum of the caps last ordered.
 */
function totalGpuControl(b: BmcNode): Resource {
  const { state } = b;
  const slots = gpuSlots(b);
  let minWatts = 0;
  let maxWatts = 0;
  for (const g of slots) {
    minWatts += specOf(state, g).minWatts;
    maxWatts += specOf(state, g).maxWatts;
  }
  return {
    body: () => {
      let setPoint = 0;
      let reading = 0;
      for (const g of slots) {
        setPoint += requestedCapWatts(state, g);
        reading += state.gpu.powerWatts[g]!;
      }
      return {
        "@odata.id": totalControlUrl(b),
        "@odata.type": "#Control.v1_7_0.Control",
        Id: TOTAL_GPU_CONTROL,
        Name: "Total GPU Power Limit",
        PhysicalContext: "GPU",
        ControlType: "Power",
        ControlMode: "Automatic",
        SetPoint: round2(setPoint),
        SetPointUnits: "W",
        AllowableMin: minWatts,
        AllowableMax: maxWatts,
        Sensor: { Reading: round2(reading), DataSourceUri: sensorUrl(b, "TotalGPU_Power") },
        Status: STATUS_OK,
      };
    },
    writable: {
      path: ["SetPoint"],
      min: minWatts,
      max: maxWatts,
      apply: (watts) => {
        for (const g of slots) scheduleGpuCap(state, g, watts / slots.length);
      },
    },
  };
}

const GPU_SENSORS = ["Power", "Temp", "Energy"] as const;

function sensorIds(b: BmcNode): string[] {
  const ids = ["TotalPower", "InletTemp"];
  const slots = gpuSlots(b);
  if (slots.length > 0) ids.push("TotalGPU_Power");
  for (const g of slots) for (const kind of GPU_SENSORS) ids.push(`${gpuName(b, g)}_${kind}_0`);
  return ids;
}

interface SensorReading {
  name: string;
  type: string;
  units: string;
  context: string;
  reading: () => number;
}

function sensor(b: BmcNode, sensorId: string): Resource | undefined {
  const s = sensorOf(b, sensorId);
  if (s === undefined) return undefined;
  return {
    body: () => ({
      "@odata.id": sensorUrl(b, sensorId),
      "@odata.type": "#Sensor.v1_12_0.Sensor",
      Id: sensorId,
      Name: s.name,
      ReadingType: s.type,
      Reading: s.reading(),
      ReadingUnits: s.units,
      PhysicalContext: s.context,
      Status: STATUS_OK,
    }),
  };
}

function sensorOf(b: BmcNode, sensorId: string): SensorReading | undefined {
  const { state } = b;
  if (sensorId === "TotalPower")
    return {
      name: "Chassis input power",
      type: "Power",
      units: "W",
      context: "Chassis",
      reading: () => round2(nodeInputWatts(b)),
    };
  if (sensorId === "InletTemp")
    return {
      name: "Inlet temperature",
      type: "Temperature",
      units: "Cel",
      context: "Intake",
      reading: () => round2(inletC(b)),
    };
  const slots = gpuSlots(b);
  if (sensorId === "TotalGPU_Power" && slots.length > 0) {
    const reading = () => round2(slots.reduce((sum, g) => sum + state.gpu.powerWatts[g]!, 0));
    return { name: "Total GPU power", type: "Power", units: "W", context: "GPU", reading };
  }
  const m = /^(.+)_(Power|Temp|Energy)_0$/.exec(sensorId);
  const g = m ? gpuByName(b, m[1]!, b.gpuPrefix) : undefined;
  if (m === null || g === undefined) return undefined;
  const label = gpuName(b, g);
  if (m[2] === "Power")
    return {
      name: `${label} power`,
      type: "Power",
      units: "W",
      context: "GPU",
      reading: () => round2(state.gpu.powerWatts[g]!),
    };
  if (m[2] === "Temp")
    return {
      name: `${label} temperature`,
      type: "Temperature",
      units: "Cel",
      context: "GPU",
      reading: () => round2(state.gpu.gpuTempC[g]!),
    };
  const joules = () => Math.round(state.gpu.energyMillijoules[g]!) / 1000;
  return { name: `${label} energy`, type: "EnergyJoules", units: "J", context: "GPU", reading: joules };
}
