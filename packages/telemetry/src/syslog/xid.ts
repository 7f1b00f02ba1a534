/**
 * Reading the kernel's NVIDIA fault lines out of a syslog MSG:
 *
 *   NVRM: Xid (PCI:0000:91:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.
 *   nvidia-nvswitch1: SXid (PCI:0000:06:00.0): 20034, Fatal, Link 48 LTSSM Fault Up
 *
 * (fixtures/xid/gpud-readme-dmesg-xid79-sxid20034-nvswitch.log). The Xid format is `krcReportXid`'s
 * in open-gpu-kernel-modules: `NVRM: Xid (PCI:%04x:%02x:%02x): %d, pid=%s, name=%s, %s`; older
 * drivers print no `name=` or no `pid=`, so both are optional. The line may keep printk's
 * `[ 1234.567890]` prefix (rsyslog imklog) or a `dmesg --ctime` `[Fri Aug 30 11:43:09 2024]` one
 * (fixtures/xid/gpud-readme-dmesg-ctime-xid13-31-109.log).
 */
import { fail } from "./errors.ts";

/** One NVIDIA fault line. */
export interface XidLine {
  /** `xid` for a GPU (NVRM), `sxid` for an NVSwitch (nvidia-nvswitchN). */
  kind: "xid" | "sxid";
  /** The Xid or SXid code. */
  xid: number;
  /** NVML form, as dcgm-exporter's `pci_bus_id` label: `00000000:3B:00.0`. */
  pciBusId: string;
  /** The switch device for SXid lines, e.g. `nvidia-nvswitch1`. */
  device?: string;
  /** The process on the faulting channel; absent when the driver printed `'<unknown>'`. */
  pid?: number;
  processName?: string;
  /** The driver's text after the code (and pid and name), e.g. `GPU has fallen off the bus.`. */
  message: string;
}

// Anything printk or dmesg puts in brackets before the text, then an optional `kernel: ` left by a
// forwarder that did not split the TAG off.
const PREFIX = /^(?:\[[^\]]{0,40}\] ?)?(?:kernel: )?/;
const XID_HEAD = "NVRM: Xid (";
const SXID_HEAD = /^(nvidia-nvswitch\d+): SXid \(/;
const ADDRESS =
  /PCI:([0-9A-Fa-f]{4,8}):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})(?:\.([0-7]))?\): (\d{1,6})(?:, ?|$)/y;
const PID = /pid=('<unknown>'|<unknown>|\d{1,10})(?:, ?|$)/y;
const NAME = /name=([^,]*)(?:, ?|$)/y;

/**
 * Reads an Xid or SXid line. Returns undefined when the text is not one; throws SyslogParseError
 * (code `xid`) when it starts like one but the address or code cannot be read.
 */
export function parseXidLine(text: string): XidLine | undefined {
  const prefix = PREFIX.exec(text)![0].length;
  let kind: XidLine["kind"];
  let device: string | undefined;
  let p: number;
  if (text.startsWith(XID_HEAD, prefix)) {
    kind = "xid";
    p = prefix + XID_HEAD.length;
  } else {
    const sxid = SXID_HEAD.exec(text.slice(prefix, prefix + 40));
    if (!sxid) return undefined;
    kind = "sxid";
    device = sxid[1];
    p = prefix + sxid[0].length;
  }
  ADDRESS.lastIndex = p;
  const address = ADDRESS.exec(text);
  if (!address) fail("xid", p, "expected 'PCI:dddd:bb:dd): CODE' after the Xid head");
  const [, domain, bus, dev, fn, code] = address as unknown as [
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  p = ADDRESS.lastIndex;
  const line: XidLine = {
    kind,
    xid: Number(code),
    pciBusId: `${domain.padStart(8, "0")}:${bus}:${dev}.${fn ?? "0"}`.toUpperCase(),
    message: "",
  };
  if (device !== undefined) line.device = device;
  if (kind === "xid") {
    PID.lastIndex = p;
    const pid = PID.exec(text);
    if (pid) {
      if (/^\d/.test(pid[1]!)) line.pid = Number(pid[1]);
      p = PID.lastIndex;
      NAME.lastIndex = p;
      const name = NAME.exec(text);
      if (name) {
        if (name[1] !== "<unknown>" && name[1] !== "") line.processName = name[1];
        p = NAME.lastIndex;
      }
    }
  }
  line.message = text.slice(p).trimEnd();
  return line;
}

/**
 * NVML's bus id (`00000000:3B:00.0`) for a PCI address as NVRM or lspci print it
 * (`0000:3b:00`, `0000:3b:00.1`, `3b:00.0`); undefined when it is not one.
 */
export function normalizePciBusId(address: string): string | undefined {
  const m = /^(?:PCI:)?(?:([0-9A-Fa-f]{1,8}):)?([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})(?:\.([0-7]))?$/.exec(
    address,
  );
  if (!m) return undefined;
  return `${(m[1] ?? "0").padStart(8, "0")}:${m[2]}:${m[3]}.${m[4] ?? "0"}`.toUpperCase();
}
