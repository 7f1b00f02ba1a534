/**
 * Power equipment in the shapes of the DMTF mockups public-pdu (PowerEquipment/RackPDUs/1 with
 * Mains, Branches and Metrics; FloorPDUs; Facilities/…/PowerDomains) and public-power-shelf
 * (PowerEquipment/PowerShelves/1 with a DC bus branch):
 *
 *   /pdu/NAME/redfish/v1/PowerEquipment/{RackPDUs|PowerShelves|FloorPDUs|Switchgear|ElectricalBuses}/1
 *       the device's own controller, one per power device
 *   /facility/redfish/v1/PowerEquipment/{FloorPDUs|Switchgear|ElectricalBuses}/NAME
 *       the site's DCIM view of the devices outside racks
 *   /facility/redfish/v1/Facilities/SITE/PowerDomains/FEED
 *       one domain per device at the top of the chain, linking every device below it
 *
 * Circuits: mains `AC1…` one per feeding device; branches one per node or device fed, lettered
 * `A, B, …` in feed order and named after what they feed. A power shelf has a single `DC` bus
 * branch instead (its trays share the rack's busbar), carrying its input × PSU efficiency: the
 * shelf's rectifiers are the nodes' power supplies (power-tree.ts). Breakers are never tripped
 * by the twin: a device without input reads 0 V and 0 W with PowerState Off and BreakerState
 * Normal, as a circuit whose upstream feed is lost does.
 */
import { PSU_EFFICIENCY } from "../power-tree.ts";
import { branchesOf, edgeWatts, lowerName, mainsOf, type PowerIndex, upperOf } from "./power-index.ts";
import { collection, kWhReading, link, type Resource, round2, STATUS_OK } from "./resource.ts";

/** Redfish collection and EquipmentType of each power device kind of the factory model. */
const EQUIPMENT: Record<string, { collection: string; equipmentType: string }> = {
  rackPdu: { collection: "RackPDUs", equipmentType: "RackPDU" },
  powerShelf: { collection: "PowerShelves", equipmentType: "PowerShelf" },
  floorPdu: { collection: "FloorPDUs", equipmentType: "FloorPDU" },
  rpp: { collection: "FloorPDUs", equipmentType: "FloorPDU" },
  busway: { collection: "ElectricalBuses", equipmentType: "Bus" },
};
/** Feeds, generators, UPSes, transformers and switchboards show as switchgear. */
const SWITCHGEAR = { collection: "Switchgear", equipmentType: "Switchgear" };
const COLLECTIONS = ["FloorPDUs", "Switchgear", "ElectricalBuses", "RackPDUs", "PowerShelves"] as const;

/**
 * Nominal line-to-line volts a device delivers. Assumptions: US-style 480 V distribution down to
 * the switchboards, 415 V from floor PDUs and busways to the racks (the catalog's rack PDUs are
 * 415 V three-phase); rack PDU branches are single-phase line-to-neutral, 415 ÷ √3 ≈ 240 V.
 */
const OUTPUT_VOLTS: Record<string, number> = {
  feed: 480,
  generator: 480,
  ups: 480,
  transformer: 480,
  switchboard: 480,
};
const RACK_VOLTS = 415;
/** GB200 NVL72 busbar: 48–54 V DC; the mockup's shelf DC branch reads ~48 V. */
const BUSBAR_VOLTS = 50;
/** Active-PFC server supplies run near unity at load (the mockup circuits read 0.99). */
const POWER_FACTOR = 0.99;

const equipmentOf = (type: string | null): { collection: string; equipmentType: string } =>
  EQUIPMENT[type ?? ""] ?? SWITCHGEAR;
const outputVolts = (type: string | null): number => OUTPUT_VOLTS[type ?? ""] ?? RACK_VOLTS;

/** Base of the facility service. */
export const FACILITY_BASE = "/facility/redfish/v1";

function entityOf(index: PowerIndex, d: number) {
  const { topo } = index.state;
  return topo.graph.at(topo.powerEntity[d]!);
}

function inRack(index: PowerIndex, d: number): boolean {
  const e = entityOf(index, d);
  return e.parent >= 0 && index.state.topo.graph.at(e.parent).kind === "rack";
}

/** Where a device's PowerDistribution resource lives: its own controller for rack devices, the facility otherwise. */
export function deviceUrl(index: PowerIndex, d: number): string {
  const e = entityOf(index, d);
  const coll = equipmentOf(e.type).collection;
  return inRack(index, d)
    ? `/pdu/${encodeURIComponent(e.name)}/redfish/v1/PowerEquipment/${coll}/1`
    : `${FACILITY_BASE}/PowerEquipment/${coll}/${encodeURIComponent(e.name)}`;
}

/** Resolves `segments` (after `/redfish/v1`) of device `d`'s own controller at `base`. */
export function pduResource(
  index: PowerIndex,
  d: number,
  base: string,
  segments: readonly string[],
): Resource | undefined {
  const e = entityOf(index, d);
  const coll = equipmentOf(e.type).collection;
  const [top, name, id, ...rest] = segments;
  if (top === undefined) return serviceRoot(base, false);
  if (top !== "PowerEquipment") return undefined;
  if (name === undefined) return powerEquipment(`${base}/PowerEquipment`, [coll]);
  if (name !== coll) return undefined;
  if (id === undefined)
    return collection(`${base}/PowerEquipment/${coll}`, "PowerDistributionCollection", `${coll} Collection`, [
      `${base}/PowerEquipment/${coll}/1`,
    ]);
  return id === "1" ? deviceResource(index, d, `${base}/PowerEquipment/${coll}/1`, "1", rest) : undefined;
}

/** Resolves `segments` (after `/redfish/v1`) of the facility service. */
export function facilityResource(index: PowerIndex, segments: readonly string[]): Resource | undefined {
  const { topo } = index.state;
  const base = FACILITY_BASE;
  const [top, a, b, c, ...rest] = segments;
  if (top === undefined) return serviceRoot(base, true);
  if (top === "PowerEquipment") {
    const site = siteDevices(index);
    if (a === undefined)
      return powerEquipment(
        `${base}/PowerEquipment`,
        COLLECTIONS.filter((k) => site.has(k)),
      );
    const members = site.get(a);
    if (members === undefined) return undefined;
    if (b === undefined)
      return collection(
        `${base}/PowerEquipment/${a}`,
        "PowerDistributionCollection",
        `${a} Collection`,
        members.map((d) => deviceUrl(index, d)),
      );
    const d = index.slotByName.get(b);
    if (d === undefined || !members.includes(d)) return undefined;
    return deviceResource(index, d, deviceUrl(index, d), b, c === undefined ? [] : [c, ...rest]);
  }
  if (top !== "Facilities") return undefined;
  const siteId = topo.siteName;
  if (a === undefined)
    return collection(`${base}/Facilities`, "FacilityCollection", "Facility Collection", [
      `${base}/Facilities/${encodeURIComponent(siteId)}`,
    ]);
  if (a !== siteId) return undefined;
  const facilityUrl = `${base}/Facilities/${encodeURIComponent(siteId)}`;
  if (b === undefined) return facility(facilityUrl, siteId);
  if (b !== "PowerDomains" || rest.length > 0) return undefined;
  const roots = rootDevices(index);
  if (c === undefined)
    return collection(
      `${facilityUrl}/PowerDomains`,
      "PowerDomainCollection",
      "Power Domains Collection",
      roots.map((d) => `${facilityUrl}/PowerDomains/${encodeURIComponent(entityOf(index, d).name)}`),
    );
  const d = index.slotByName.get(c);
  return d !== undefined && roots.includes(d)
    ? powerDomain(index, d, `${facilityUrl}/PowerDomains/${encodeURIComponent(c)}`)
    : undefined;
}

function serviceRoot(base: string, facility: boolean): Resource {
  return {
    body: () => ({
      "@odata.id": `${base}/`,
      "@odata.type": "#ServiceRoot.v1_20_0.ServiceRoot",
      Id: "RootService",
      Name: "Root Service",
      RedfishVersion: "1.15.0",
      PowerEquipment: link(`${base}/PowerEquipment`),
      ...(facility ? { Facilities: link(`${base}/Facilities`) } : {}),
    }),
  };
}

function powerEquipment(url: string, collections: readonly string[]): Resource {
  return {
    body: () => ({
      "@odata.id": url,
      "@odata.type": "#PowerEquipment.v1_2_3.PowerEquipment",
      Id: "PowerEquipment",
      Name: "Power Equipment",
      Status: { State: "Enabled", HealthRollup: "OK" },
      ...Object.fromEntries(collections.map((k) => [k, link(`${url}/${k}`)])),
    }),
  };
}

function facility(url: string, siteId: string): Resource {
  return {
    body: () => ({
      "@odata.id": url,
      "@odata.type": "#Facility.v1_4_2.Facility",
      Id: siteId,
      Name: siteId,
      FacilityType: "Site",
      Status: STATUS_OK,
      PowerDomains: link(`${url}/PowerDomains`),
    }),
  };
}

/** Devices outside racks by collection name (built per request: a few thousand at most). */
function siteDevices(index: PowerIndex): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (let d = 0; d < index.state.topo.powerCount; d++) {
    if (inRack(index, d)) continue;
    const coll = equipmentOf(entityOf(index, d).type).collection;
    const list = out.get(coll);
    if (list) list.push(d);
    else out.set(coll, [d]);
  }
  return out;
}

function rootDevices(index: PowerIndex): number[] {
  const { topo } = index.state;
  const out: number[] = [];
  for (let d = 0; d < topo.powerCount; d++)
    if (topo.powerUpStart[d + 1] === topo.powerUpStart[d]) out.push(d);
  return out;
}

/** A domain per top device: it and every device below it, by collection (PowerDomain.Links). */
function powerDomain(index: PowerIndex, root: number, url: string): Resource {
  return {
    body: () => {
      const seen = new Set<number>([root]);
      const queue = [root];
      for (let i = 0; i < queue.length; i++)
        for (const e of branchesOf(index, queue[i]!)) {
          if (e < index.nodeEdges) continue;
          const lower = index.edgeLower[e]!;
          if (!seen.has(lower)) {
            seen.add(lower);
            queue.push(lower);
          }
        }
      const links: Record<string, { "@odata.id": string }[]> = {};
      for (const d of queue) {
        const key = equipmentOf(entityOf(index, d).type).collection;
        const list = links[key] ?? [];
        list.push(link(deviceUrl(index, d)));
        links[key] = list;
      }
      return {
        "@odata.id": url,
        "@odata.type": "#PowerDomain.v1_2_2.PowerDomain",
        Id: entityOf(index, root).name,
        Name: `${entityOf(index, root).name} Domain`,
        Status: STATUS_OK,
        Links: links,
      };
    },
  };
}

/** Branch ids A…Z, AA, AB… */
function letters(i: number): string {
  let s = "";
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** Device `d`'s PowerDistribution at `url` (Id `id`) and what lies under it. */
function deviceResource(
  index: PowerIndex,
  d: number,
  url: string,
  id: string,
  segments: readonly string[],
): Resource | undefined {
  const [sub, circuitId, ...rest] = segments;
  if (rest.length > 0) return undefined;
  if (sub === undefined) return device(index, d, url, id);
  if (sub === "Metrics" && circuitId === undefined) return metrics(index, d, `${url}/Metrics`);
  const circuits =
    sub === "Mains"
      ? mainsCircuits(index, d, `${url}/Mains`)
      : sub === "Branches"
        ? branchCircuits(index, d, `${url}/Branches`)
        : undefined;
  if (circuits === undefined) return undefined;
  if (circuitId === undefined)
    return collection(
      `${url}/${sub}`,
      "CircuitCollection",
      sub === "Mains" ? "Mains Circuit Collection" : "Branch Circuit Collection",
      circuits.map((c) => c.url),
    );
  const circuit = circuits.find((c) => c.id === circuitId);
  return circuit && { body: () => circuitBody(index, circuit) };
}

function device(index: PowerIndex, d: number, url: string, id: string): Resource {
  const e = entityOf(index, d);
  const { topo } = index.state;
  return {
    body: () => ({
      "@odata.id": url,
      "@odata.type": "#PowerDistribution.v1_6_0.PowerDistribution",
      Id: id,
      EquipmentType: equipmentOf(e.type).equipmentType,
      Name: e.name,
      Model: e.type,
      Status: index.state.faults.powerDead[d] === 1 ? { State: "Enabled", Health: "Critical" } : STATUS_OK,
      PowerCapacityVA: Math.round(e.ratingWatts ?? 0),
      ...(inRack(index, d) ? { Location: { Placement: { Rack: topo.graph.at(e.parent).name } } } : {}),
      Mains: link(`${url}/Mains`),
      Branches: link(`${url}/Branches`),
      Metrics: link(`${url}/Metrics`),
      Links: { Facility: link(`${FACILITY_BASE}/Facilities/${encodeURIComponent(topo.siteName)}`) },
    }),
  };
}

/** One circuit: which edges it sums, at what voltage and rating. */
interface Circuit {
  url: string;
  id: string;
  name: string;
  type: "Mains" | "Branch" | "Feeder" | "Bus";
  /** Edges summed (one for every circuit but a shelf's DC bus); empty for the root mains of a top device. */
  edges: readonly number[];
  /** Device whose own input this is (root mains), or -1. */
  root: number;
  /** Multiplier on the edges' watts: PSU efficiency for a shelf's DC output, else 1. */
  scale: number;
  volts: number;
  phases: 1 | 3 | "DC";
  ratedAmps: number;
}

function mainsCircuits(index: PowerIndex, d: number, url: string): Circuit[] {
  const e = entityOf(index, d);
  const rating = e.ratingWatts ?? 0;
  const ups = mainsOf(index, d);
  const volts = (up: number) => outputVolts(up < 0 ? e.type : entityOf(index, up).type);
  const mains = (i: number, edges: number[], up: number): Circuit => ({
    url: `${url}/AC${i + 1}`,
    id: `AC${i + 1}`,
    name: up < 0 ? "Mains AC Input" : `Mains AC Input from ${entityOf(index, up).name}`,
    type: "Mains",
    edges,
    root: up < 0 ? d : -1,
    scale: 1,
    volts: volts(up),
    phases: 3,
    ratedAmps: rating / (Math.sqrt(3) * volts(up)),
  });
  if (ups.length === 0) return [mains(0, [], -1)];
  return ups.map((edge, i) => mains(i, [edge], upperOf(index, edge)));
}

function branchCircuits(index: PowerIndex, d: number, url: string): Circuit[] {
  const e = entityOf(index, d);
  const rating = e.ratingWatts ?? 0;
  const edges = Array.from(branchesOf(index, d));
  if (e.type === "powerShelf")
    return [
      {
        url: `${url}/DC`,
        id: "DC",
        name: "DC Output Circuit to Busbar",
        type: "Bus",
        edges,
        root: -1,
        scale: PSU_EFFICIENCY,
        volts: BUSBAR_VOLTS,
        phases: "DC",
        ratedAmps: rating / BUSBAR_VOLTS,
      },
    ];
  const volts = outputVolts(e.type);
  return edges.map((edge, i) => {
    const toNode = edge < index.nodeEdges;
    const singlePhase = toNode && e.type === "rackPdu";
    const lower = index.edgeLower[edge]!;
    const v = singlePhase ? volts / Math.sqrt(3) : volts;
    // A device-fed circuit is sized for what it feeds; node circuits share the device's rating.
    const ratedWatts = toNode ? rating / edges.length : (entityOf(index, lower).ratingWatts ?? 0);
    return {
      url: `${url}/${letters(i)}`,
      id: letters(i),
      name: `Branch Circuit ${letters(i)}, ${lowerName(index, edge)}`,
      type: toNode ? "Branch" : "Feeder",
      edges: [edge],
      root: -1,
      scale: 1,
      volts: v,
      phases: singlePhase ? 1 : 3,
      ratedAmps: ratedWatts / (singlePhase ? v : Math.sqrt(3) * v),
    };
  });
}

function circuitWatts(index: PowerIndex, c: Circuit): number {
  if (c.root >= 0) return index.state.powerWatts[c.root]!;
  let watts = 0;
  for (const e of c.edges) watts += edgeWatts(index, e);
  return watts * c.scale;
}

function circuitJoules(index: PowerIndex, c: Circuit): number {
  if (c.root >= 0) return index.state.powerEnergyJoules[c.root]!;
  let joules = 0;
  for (const e of c.edges) joules += index.state.circuitEnergyJoules[e]!;
  return joules * c.scale;
}

/** Whether a circuit has voltage: its source device is alive. */
function energized(index: PowerIndex, c: Circuit): boolean {
  const dead = index.state.faults.powerDead;
  if (c.root >= 0) return dead[c.root] === 0;
  return c.edges.length === 0 || dead[upperOf(index, c.edges[0]!)] === 0;
}

const NOMINAL: [number, string][] = [
  [60, "DC48V"],
  [250, "AC200To240V"],
  [440, "AC400V"],
  [Number.POSITIVE_INFINITY, "AC480V"],
];

function circuitBody(index: PowerIndex, c: Circuit): object {
  const live = energized(index, c);
  const watts = live ? circuitWatts(index, c) : 0;
  const volts = live ? c.volts : 0;
  const pf = c.phases === "DC" ? 1 : POWER_FACTOR;
  const perLine = c.phases === 3 ? Math.sqrt(3) : 1;
  const amps = volts > 0 ? watts / (perLine * volts * pf) : 0;
  const out: Record<string, unknown> = {
    "@odata.id": c.url,
    "@odata.type": "#Circuit.v1_9_0.Circuit",
    Id: c.id,
    Name: c.name,
    Status: live ? STATUS_OK : { State: "UnavailableOffline", Health: "Critical" },
    CircuitType: c.type,
    VoltageType: c.phases === "DC" ? "DC" : "AC",
    NominalVoltage: NOMINAL.find(([max]) => c.volts < max)![1],
    RatedCurrentAmps: round2(c.ratedAmps),
    BreakerState: "Normal",
    PowerState: live ? "On" : "Off",
    Voltage: { Reading: round2(volts) },
    CurrentAmps: { Reading: round2(amps) },
    PowerWatts:
      c.phases === "DC"
        ? { Reading: round2(watts) }
        : { Reading: round2(watts), ApparentVA: round2(watts / pf), PowerFactor: pf },
    EnergykWh: { Reading: kWhReading(circuitJoules(index, c)) },
  };
  if (c.phases !== "DC") out.PhaseWiringType = c.phases === 3 ? "ThreePhase5Wire" : "OnePhase3Wire";
  if (c.phases === 3) {
    const v = { Reading: round2(volts) };
    const a = { Reading: round2(amps) };
    out.PolyPhaseVoltage = { Line1ToLine2: v, Line2ToLine3: v, Line3ToLine1: v };
    out.PolyPhaseCurrentAmps = { Line1: a, Line2: a, Line3: a };
  }
  return out;
}

function metrics(index: PowerIndex, d: number, url: string): Resource {
  return {
    body: () => {
      const joules = mainsCircuits(index, d, "").reduce((sum, c) => sum + circuitJoules(index, c), 0);
      return {
        "@odata.id": url,
        "@odata.type": "#PowerDistributionMetrics.v1_4_0.PowerDistributionMetrics",
        Id: "Metrics",
        Name: "Summary Metrics",
        PowerWatts: { Reading: round2(index.state.powerWatts[d]!) },
        EnergykWh: { Reading: kWhReading(joules) },
      };
    },
  };
}
