/**
 * What an Xid means and what is usually done about it: NVIDIA's Xid catalog as summarized in
 * Flightdeck's FACTS.md ("GPU faults (NVIDIA Xid catalog; DCGM)"), from NVIDIA's "Xid Errors"
 * documentation (docs.nvidia.com/deploy/xid-errors). Codes not listed there have no entry.
 */

/** The catalog's word on one Xid code. */
export interface XidCatalogEntry {
  meaning: string;
  action: string;
}

const NVLINK: XidCatalogEntry = { meaning: "NVLink5 error", action: "NVLink workflow" };

const ENTRIES: Record<number, XidCatalogEntry> = {
  13: { meaning: "graphics engine exception", action: "restart the application" },
  31: { meaning: "MMU page fault", action: "restart the application" },
  43: { meaning: "GPU stopped processing", action: "usually the application" },
  45: { meaning: "preemptive cleanup", action: "follows another Xid" },
  46: { meaning: "GPU timeout", action: "reset GPU" },
  48: { meaning: "double-bit ECC error", action: "drain, reset GPU, service if repeated" },
  62: { meaning: "PMU halt", action: "reset GPU" },
  63: { meaning: "row remap event", action: "ignore" },
  64: { meaning: "row remap failure", action: "reset GPU, contact support" },
  74: { meaning: "NVLink error", action: "NVLink workflow (check peer, link)" },
  79: { meaning: "GPU has fallen off the bus", action: "drain, reboot node, hardware inspection" },
  92: { meaning: "high single-bit ECC rate", action: "watch" },
  94: { meaning: "contained ECC error", action: "restart the application" },
  95: { meaning: "uncontained ECC error", action: "reset GPU" },
  109: { meaning: "context-switch timeout", action: "reset GPU" },
  119: { meaning: "GSP RPC timeout", action: "reset GPU" },
  120: { meaning: "GSP error", action: "reset GPU" },
  144: NVLINK,
  145: NVLINK,
  146: NVLINK,
  147: NVLINK,
  148: NVLINK,
  149: NVLINK,
  150: NVLINK,
};

/** The catalog entry for an Xid code, or undefined when the catalog has none. */
export function xidCatalogEntry(xid: number): XidCatalogEntry | undefined {
  return Object.hasOwn(ENTRIES, xid) ? ENTRIES[xid] : undefined;
}
