/**
 * The NVRM Xid line a fault makes the kernel print, as the NVIDIA driver prints it. The prefix is
 * `krcReportXid`'s (open-gpu-kernel-modules, kernel_rc.c):
 * `NVRM: Xid (PCI:%04x:%02x:%02x): %d, pid=%s, name=%s, %s`, with `pid='<unknown>'` and
 * `name=<unknown>` when no process is attributed (fixtures/xid/gpud-readme-dmesg-xid79-sxid20034-nvswitch.log),
 * a number and a process name when one is (fixtures/xid/gpud-readme-dmesg-ctime-xid13-31-109.log).
 * Details a real line carries that the twin does not model (addresses, partitions, link numbers)
 * are drawn from a hash of the fault id: the same fault always prints the same line.
 */
import { pciBusId } from "../devices.ts";
import type { KernelLogEvent } from "../faults.ts";
import type { FactoryState } from "../state.ts";

/** The process name a GPU job's channel carries in the fixtures (PyTorch's main thread). */
export const XID_PROCESS_NAME = "pt_main_thread";

/** `00000000:3B:00.0` (NVML) → `PCI:0000:3b:00` (NVRM prints domain, bus, device with %04x:%02x:%02x). */
export function nvrmPciAddress(busId: string): string {
  const m = /^([0-9A-Fa-f]{1,8}):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})\.[0-7]$/.exec(busId);
  if (!m) throw new Error(`not a PCI bus id: ${JSON.stringify(busId)}`);
  const domain = Number.parseInt(m[1]!, 16).toString(16).padStart(4, "0");
  return `PCI:${domain}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}`;
}

/** The kernel message text (no dmesg timestamp) for a kernel log event. */
export function formatXidLine(state: FactoryState, event: KernelLogEvent): string {
  const { topo } = state;
  const node = event.nodeSlot;
  const gpus = topo.nodeGpuStart[node + 1]! - topo.nodeGpuStart[node]!;
  const address = nvrmPciAddress(pciBusId(topo.gpuOrdinal[event.gpuSlot]!, gpus));
  const fbBytes = topo.models[topo.gpuModel[event.gpuSlot]!]!.info.fbTotalMiB * 2 ** 20;
  const draw = (salt: string) => hash32(`${event.faultId}/${salt}`);
  const unknown = "pid='<unknown>', name=<unknown>";
  // Linux pids run up to PID_MAX_LIMIT (4,194,304); the fixtures show pids in the millions.
  const process = `pid=${1000 + (draw("pid") % (4_194_304 - 1000))}, name=${XID_PROCESS_NAME}`;
  // A 32-byte aligned address inside the GPU's framebuffer, as in real DBE lines.
  const physAddr = Math.floor(((draw("addr") + draw("addr2") / 2 ** 32) / 2 ** 32) * (fbBytes / 32)) * 32;
  const partition = draw("partition") % 20;
  const subpartition = draw("subpartition") % 4;
  let who = unknown;
  let detail: string;
  switch (event.xid) {
    case 79:
      // Verbatim from fixtures/xid/gpud-readme-dmesg-xid79-sxid20034-nvswitch.log.
      detail = "GPU has fallen off the bus.";
      break;
    case 48:
      // Field dmesg of a DBE (newer drivers add physAddr): no process is attributed.
      detail =
        "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at " +
        `physAddr 0x${physAddr.toString(16)} partition ${partition}, subpartition ${subpartition}.`;
      break;
    case 94:
    case 95: {
      // Error containment, DRAM location: `_gpuGenerateErrorLog` (open-gpu-kernel-modules,
      // kern_gpu_error_cont_ga100.c) prints "%s: %s (0x%x, 0x%x). physAddr: 0x%08llx RST: %s, D-RST: %s";
      // "FB DED" is the framebuffer double-error-detect id. Contained errors name the process.
      const contained = event.xid === 94;
      who = process;
      detail =
        `${contained ? "Contained" : "Uncontained"}: FB DED (0x${partition.toString(16)}, ` +
        `0x${subpartition.toString(16)}). physAddr: 0x${physAddr.toString(16).padStart(8, "0")} ` +
        `RST: ${contained ? "No" : "Yes"}, D-RST: No`;
      break;
    }
    case 74:
      // Seven NVLink error registers (NVIDIA's Xid 74 workflow); bit 16 of the first is a link
      // hardware fault (re-seat), which is what a twin link climbing CRC errors looks like.
      // H100 has 18 NVLinks.
      detail = `NVLink: fatal error detected on link ${draw("link") % 18}(0x10000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0)`;
      break;
    // Cheap ones with their fixture text, for callers that log more Xids than the twin injects.
    case 13:
      detail = "Graphics SM Warp Exception on (GPC 7, TPC 7, SM 0): Illegal Instruction Parameter";
      break;
    case 43:
      who = process;
      detail = "Ch 00000008";
      break;
    case 109:
      who = process;
      detail = "Ch 00000008, errorString CTX SWITCH TIMEOUT, Info 0x58005";
      break;
    default:
      // The driver prints an empty message when it has none.
      detail = "";
  }
  return `NVRM: Xid (${address}): ${event.xid}, ${who}, ${detail}`;
}

/**
 * The dmesg timestamp printk puts before a line (`[%5lu.%06lu] `): seconds since boot. The twin's
 * nodes boot at sim time 0.
 */
export function kernelTimestampPrefix(atSeconds: number): string {
  const micros = Math.round(atSeconds * 1e6);
  const seconds = Math.floor(micros / 1e6);
  return `[${String(seconds).padStart(5, " ")}.${String(micros - seconds * 1e6).padStart(6, "0")}] `;
}

/** FNV-1a over the text, then murmur3's finalizer so that close ids spread. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
