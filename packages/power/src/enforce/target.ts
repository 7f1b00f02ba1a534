/**
 * Cap targets are model ids: a GPU `gpu:NODE/ORDINAL` (its own power limit) or a node
 * `node:NODE` (the node's total GPU power control). Both live on the node's BMC.
 */
import { EnforceError } from "./errors.ts";

/** A parsed cap target. */
export type CapTarget =
  | { kind: "gpu"; id: string; node: string; ordinal: number }
  | { kind: "node"; id: string; node: string };

const GPU_ID = /^gpu:([^/]+)\/(0|[1-9]\d*)$/;
const NODE_ID = /^node:([^/]+)$/;

/** `id` parsed; throws EnforceError `bad-target` for anything else. */
export function parseCapTarget(id: string): CapTarget {
  const gpu = GPU_ID.exec(id);
  if (gpu) return { kind: "gpu", id, node: gpu[1]!, ordinal: Number(gpu[2]) };
  const node = NODE_ID.exec(id);
  if (node) return { kind: "node", id, node: node[1]! };
  throw new EnforceError("bad-target", id, "not a GPU (gpu:NODE/ORDINAL) or node (node:NODE) id");
}
