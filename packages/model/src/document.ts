/**
 * The factory description as written in YAML (after schema validation), before expansion.
 * `factory.schema.json` beside this package is the published contract; these types mirror it.
 */

import type { GpuSpec, NodeSpec, RackSpec, Rating, SwitchSpec } from "./catalog.ts";
import type { EndpointsDoc } from "./endpoints.ts";

/** A device of the site's power chain: a utility feed, switchboard, floor PDU, busway… */
export interface PowerDeviceDoc {
  name: string;
  kind: PowerKind;
  side?: string;
  rating: Rating;
  derating?: number;
  children?: PowerDeviceDoc[];
}

/** Site-level power device kinds, from the utility down to the row. */
export type PowerKind =
  | "feed"
  | "generator"
  | "ups"
  | "transformer"
  | "switchboard"
  | "floorPdu"
  | "busway"
  | "rpp";

/** One line of racks: a name pattern, a rack type, an owner and the upstream power per side. */
export interface RackGroupDoc {
  name: string;
  type: string;
  org?: string;
  power: Record<string, string | string[]>;
}

export interface RowDoc {
  name: string;
  org?: string;
  racks: RackGroupDoc[];
}

export interface HallDoc {
  name: string;
  org?: string;
  rows: RowDoc[];
}

/** A generated fat-tree fabric over the racks it names. */
export interface FabricDoc {
  name: string;
  technology: "infiniband" | "ethernet";
  purpose?: "compute" | "storage" | "north-south";
  switch: string;
  endpoint?: "nic" | "dpu";
  racks?: string[];
  railOptimized?: boolean;
  unitRacks?: number;
  podUnits?: number;
}

export interface OrgDoc {
  name: string;
  displayName?: string;
}

/** The whole document. */
export interface FactoryDoc {
  apiVersion: "flightdeck/v1";
  kind: "Factory";
  metadata: { name: string; description?: string; reference?: string };
  defaults?: { derating?: number; redundancy?: "N+N" | "none" };
  catalog?: {
    gpus?: Record<string, GpuSpec>;
    nodes?: Record<string, NodeSpec>;
    switches?: Record<string, SwitchSpec>;
    racks?: Record<string, RackSpec>;
  };
  orgs?: OrgDoc[];
  power: PowerDeviceDoc[];
  halls: HallDoc[];
  fabrics?: FabricDoc[];
  endpoints?: EndpointsDoc;
}

/** A place in the document: keys and array indexes from the root. */
export type DocPath = ReadonlyArray<string | number>;
