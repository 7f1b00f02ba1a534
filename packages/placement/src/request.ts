/** Checking a request's fields before anything is decided: every refusal names the field. */
import type { WorkloadKind } from "@flightdeck/power";
import { PlacementError } from "./errors.ts";
import type { OrgNodes, Topology } from "./topology.ts";
import { SHAPES, type Shape } from "./types.ts";

/** A request's fields, checked and with defaults. */
export interface Checked {
  readonly id: string;
  readonly org: string;
  readonly orgNodes: OrgNodes;
  readonly gpus: number;
  readonly shape: Shape;
  readonly profile: string;
  readonly kind: WorkloadKind;
  readonly priority: number;
}

interface Fields {
  id?: unknown;
  org?: unknown;
  gpus?: unknown;
  shape?: unknown;
  profile?: unknown;
  kind?: unknown;
  priority?: unknown;
}

/** Checks the fields common to jobs and reservations; throws `PlacementError`. */
export function checkFields(topo: Topology, r: Fields): Checked {
  if (typeof r.id !== "string" || r.id === "") throw bad("id", "id must be a non-empty string");
  if (typeof r.org !== "string" || r.org === "") throw bad("org", "org must be a non-empty string");
  const orgNodes = topo.orgs.get(r.org);
  if (!orgNodes) {
    const known = [...topo.orgs.keys()].sort().join(", ");
    throw new PlacementError(
      "unknown-org",
      "org",
      `org "${r.org}" owns no racks in this factory (orgs with racks: ${known || "none"})`,
    );
  }
  if (typeof r.gpus !== "number" || !Number.isInteger(r.gpus) || r.gpus <= 0)
    throw bad("gpus", `gpus must be a positive whole number (got ${JSON.stringify(r.gpus)})`);
  const shape = r.shape ?? "any";
  if (!SHAPES.includes(shape as Shape))
    throw bad("shape", `shape must be one of ${SHAPES.join(", ")} (got ${JSON.stringify(r.shape)})`);
  const profile = r.profile ?? "max-p";
  if (typeof profile !== "string" || profile === "")
    throw bad("profile", "profile must be a profile name such as max-p or max-q");
  const kind = r.kind ?? "training";
  if (kind !== "training" && kind !== "inference")
    throw bad("kind", `kind must be training or inference (got ${JSON.stringify(r.kind)})`);
  const priority = r.priority ?? 0;
  if (typeof priority !== "number" || !Number.isFinite(priority))
    throw bad("priority", `priority must be a number (got ${JSON.stringify(r.priority)})`);
  return { id: r.id, org: r.org, orgNodes, gpus: r.gpus, shape: shape as Shape, profile, kind, priority };
}

/** A window in ms since the epoch: finite start, end after it (Infinity allowed). */
export function checkWindow(startMs: unknown, endMs: unknown, nowMs: number, what: string): void {
  if (typeof startMs !== "number" || !Number.isFinite(startMs))
    throw bad("startMs", `${what} startMs must be a time in ms since the epoch`);
  if (typeof endMs !== "number" || Number.isNaN(endMs) || endMs <= startMs)
    throw bad("endMs", `${what} must end after it starts`);
  if (endMs <= nowMs) throw bad("endMs", `${what} ends in the past (${new Date(endMs).toISOString()})`);
}

export function bad(field: string, message: string): PlacementError {
  return new PlacementError("bad-request", field, message);
}
