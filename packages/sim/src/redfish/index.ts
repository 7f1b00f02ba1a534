/**
 * The twin's Redfish services, on its one HTTP listener: a BMC per node, a controller per power
 * device and the site's DCIM view, each a Redfish service under its own prefix.
 *
 *   /bmc/NODE/redfish/v1/…        node BMC (bmc.ts): HGX GPUs, power limits, chassis sensors
 *   /pdu/NAME/redfish/v1/…        power device NAME (power.ts): rack PDU, power shelf, …
 *   /facility/redfish/v1/…        floor PDUs, switchgear, busways and power domains (power.ts)
 *
 * `@odata.id`s carry the prefix, so a client that follows links from a root stays on its service.
 * GET and HEAD read the state at request time. PATCH writes the one number a resource exposes
 * (a GPU's `PowerLimitWatts/SetPoint`, a Control's `SetPoint`): a value inside the allowable range
 * is ordered through `scheduleGpuCap` and acts after the BMC's control delay; the answer is
 * 204 No Content, as OpenBMC bmcweb answers a successful property PATCH (power.hpp PowerLimit,
 * dbus_utility setDbusProperty). Errors carry the DMTF Base registry messages (messages.ts).
 *
 * Faults: the BMC of a node with `bmcUnreachable` or without power closes the connection without
 * answering, which is how an unreachable BMC looks to a client.
 *
 * @example
 *   const server = createSimServer({ state, dcgm, handlers: [createRedfishService(state)] });
 *   // PATCH /bmc/r01-dgx1/redfish/v1/Systems/HGX_Baseboard_0/Processors/GPU_SXM_0/EnvironmentMetrics
 *   //   {"PowerLimitWatts": {"SetPoint": 500}}   → 204; the GPU caps at 500 W two sim seconds later
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimHandler } from "../server.ts";
import type { FactoryState } from "../state.ts";
import { bmcResource } from "./bmc.ts";
import { baseMessage, sendError, sendJson } from "./messages.ts";
import { checkPatch, readBody } from "./patch.ts";
import { facilityResource, pduResource } from "./power.ts";
import { buildPowerIndex, type PowerIndex } from "./power-index.ts";
import type { Resource } from "./resource.ts";

export { BASE_REGISTRY, type RedfishMessage } from "./messages.ts";
export { MAX_PATCH_BYTES } from "./patch.ts";

/**
 * The Redfish services of `state`, as one handler for `createSimServer`'s `handlers`. Creation
 * does no per-node or per-GPU work; the power tree's circuit index is built on the first power
 * request (O(feed edges)).
 */
export function createRedfishService(state: FactoryState): SimHandler {
  let power: PowerIndex | undefined;
  const powerIndex = (): PowerIndex => {
    power ??= buildPowerIndex(state);
    return power;
  };
  return (req, res, path) => {
    const raw = path.split("/");
    const service = raw[1];
    if (service !== "bmc" && service !== "pdu" && service !== "facility") return false;
    const parts = decodeAll(raw);
    if (parts === undefined) return notFound(res, path);
    if (parts.length > 2 && parts[parts.length - 1] === "") parts.pop();
    if (service === "facility") {
      const rest = redfishPath(res, parts, 2, "/facility");
      if (rest !== undefined) serve(req, res, path, facilityResource(powerIndex(), rest));
      return true;
    }
    const name = parts[2];
    if (name === undefined) return notFound(res, path);
    const base = `/${service}/${encodeURIComponent(name)}`;
    if (service === "bmc") {
      const node = state.topo.nodeSlotByName.get(name);
      if (node === undefined) return notFound(res, path);
      if (state.faults.bmcUnreachable[node]! > 0 || state.faults.nodeUnpowered[node] === 1) {
        req.socket.destroy();
        return true;
      }
      const rest = redfishPath(res, parts, 3, base);
      if (rest !== undefined) serve(req, res, path, bmcResource(state, node, `${base}/redfish/v1`, rest));
      return true;
    }
    const index = powerIndex();
    const d = index.slotByName.get(name);
    if (d === undefined) return notFound(res, path);
    const rest = redfishPath(res, parts, 3, base);
    if (rest !== undefined) serve(req, res, path, pduResource(index, d, `${base}/redfish/v1`, rest));
    return true;
  };
}

/**
 * The segments after `redfish/v1` starting at `parts[at]`; answers `/redfish` itself (the version
 * document DSP0266 requires) and anything else that is not under `redfish/v1`, returning undefined.
 */
function redfishPath(res: ServerResponse, parts: string[], at: number, base: string): string[] | undefined {
  if (parts[at] === "redfish" && parts.length === at + 1) {
    sendJson(res, 200, { v1: `${base}/redfish/v1/` });
    return undefined;
  }
  if (parts[at] !== "redfish" || parts[at + 1] !== "v1") {
    notFound(res, parts.join("/"));
    return undefined;
  }
  const rest = parts.slice(at + 2);
  if (rest.includes("")) {
    notFound(res, parts.join("/"));
    return undefined;
  }
  return rest;
}

function serve(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  resource: Resource | undefined,
): void {
  if (resource === undefined) {
    notFound(res, path);
    return;
  }
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") {
    sendJson(res, 200, resource.body());
    return;
  }
  const writable = resource.writable;
  if (method !== "PATCH" || writable === undefined) {
    res.setHeader("Allow", writable ? "GET, HEAD, PATCH" : "GET, HEAD");
    sendError(res, 405, baseMessage("OperationNotAllowed"));
    return;
  }
  readBody(req, (text) => {
    try {
      if (text === undefined) {
        sendError(res, 413, baseMessage("PayloadTooLarge"));
        return;
      }
      const check = checkPatch(text, resource.body(), writable);
      if (!check.ok) {
        sendError(res, 400, ...check.errors);
        return;
      }
      if (check.value !== undefined) writable.apply(check.value);
      res.statusCode = 204;
      res.setHeader("OData-Version", "4.0");
      res.end();
    } catch (err) {
      sendError(res, 500, { ...baseMessage("GeneralError"), Resolution: (err as Error).message });
    }
  });
}

function notFound(res: ServerResponse, path: string): true {
  sendError(res, 404, baseMessage("InvalidURI", [path]));
  return true;
}

function decodeAll(segments: string[]): string[] | undefined {
  try {
    return segments.map(decodeURIComponent);
  } catch {
    return undefined;
  }
}
