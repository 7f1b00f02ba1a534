/**
 * The twin's kernel log over syslog: every NVRM Xid line a fault causes (`state.faults.kernelLog`)
 * is sent to a collector as the node's rsyslog would forward it — facility kern, severity warning,
 * HOSTNAME the node, APP-NAME `kernel`, MSG the NVRM line — over UDP or TCP.
 *
 * The MSG has no `[  123.456789]` dmesg prefix by default: on a systemd host journald reads
 * /dev/kmsg, whose records carry the time apart from the text, and rsyslog (imjournal) forwards the
 * bare line. rsyslog's imklog on /proc/kmsg keeps the prefix in the text unless
 * `ParseKernelTimestamp` is on (it is off by default): set `kernelTimestamp` for that host.
 *
 * @example
 *   const syslog = createSyslogSender(state, { target: "udp://127.0.0.1:5514" });
 *   injectFault(state, { kind: "xid79", target: "gpu:r01-dgx1/3" });
 *   tick(state, 1);
 *   syslog.flush(); // <4>1 …Z r01-dgx1 kernel - - - NVRM: Xid (PCI:0000:5d:00): 79, pid='<unknown>', …
 *   await syslog.close();
 */
import { KERNEL_LOG_CAPACITY, type KernelLogEvent } from "./faults.ts";
import type { FactoryState } from "./state.ts";
import {
  FACILITY_KERN,
  formatSyslog,
  SEVERITY_WARNING,
  SYSLOG_FORMATS,
  type SyslogFormat,
  type SyslogMessage,
} from "./syslog/format.ts";
import { createLink, frameMessage, parseSyslogTarget } from "./syslog/transport.ts";
import { formatXidLine, kernelTimestampPrefix } from "./syslog/xid.ts";

export {
  FACILITY_KERN,
  formatRfc3164,
  formatRfc5424,
  formatSyslog,
  SEVERITY_WARNING,
  type SyslogFormat,
  type SyslogMessage,
} from "./syslog/format.ts";
export {
  parseSyslogTarget,
  type SyslogTarget,
  SyslogTargetError,
  UDP_MAX_BYTES,
} from "./syslog/transport.ts";
export { formatXidLine, nvrmPciAddress, XID_PROCESS_NAME } from "./syslog/xid.ts";

/** How to send the kernel log. */
export interface SyslogSenderOptions {
  /** `udp://HOST:PORT` or `tcp://HOST:PORT`. */
  target: string;
  /** Message format (default `rfc5424`). */
  format?: SyslogFormat;
  /**
   * Wall-clock time of sim time 0, ms since the Unix epoch: an event at `atSeconds` is stamped
   * `epochMs + atSeconds * 1000`. Default: now, less the sim time already run.
   */
  epochMs?: number;
  /** Keep the dmesg `[seconds.micros]` prefix in MSG, as rsyslog's imklog does (default false). */
  kernelTimestamp?: boolean;
  /** Messages held while the collector is unreachable before the oldest are dropped (default 10,000). */
  queueCapacity?: number;
  /** TCP reconnect backoff: first wait, doubling up to the longest (defaults 100 ms, 10 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** TCP connection attempt timeout (default 5 s). */
  connectTimeoutMs?: number;
}

/** Sends the kernel log; one per twin. */
export interface SyslogSender {
  /**
   * Drains `state.faults.kernelLog` and starts sending each event; call after every tick. Returns
   * at once: nothing waits on the network. After `close` the drained events count as dropped.
   */
  flush(): void;
  /** Sends what is queued if the collector is connected, then closes; the rest is dropped. */
  close(): Promise<void>;
  /** Messages handed to the network (datagrams sent, bytes accepted by the TCP stack). */
  readonly sent: number;
  /**
   * Messages lost here: the queue was full (oldest first), a send failed, or the sender closed.
   * Events the log itself dropped before a flush are `state.faults.kernelLogDropped`.
   */
  readonly dropped: number;
  /** Messages waiting for the collector. */
  readonly queued: number;
}

/** The syslog message for a kernel log event. */
export function kernelLogMessage(
  state: FactoryState,
  event: KernelLogEvent,
  epochMs: number,
  kernelTimestamp = false,
): SyslogMessage {
  const line = formatXidLine(state, event);
  return {
    facility: FACILITY_KERN,
    severity: SEVERITY_WARNING,
    timeMs: epochMs + event.atSeconds * 1000,
    hostname: state.topo.nodeNames[event.nodeSlot]!,
    appName: "kernel",
    msg: kernelTimestamp ? kernelTimestampPrefix(event.atSeconds) + line : line,
  };
}

/**
 * A sender for the twin's kernel log. Throws SyslogTargetError for a bad target and Error for a
 * bad format or size, before opening anything; connects on the first message.
 */
export function createSyslogSender(state: FactoryState, options: SyslogSenderOptions): SyslogSender {
  const target = parseSyslogTarget(options.target);
  const format = options.format ?? "rfc5424";
  if (!SYSLOG_FORMATS.includes(format))
    throw new Error(`format: must be one of ${SYSLOG_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
  const queueCapacity = options.queueCapacity ?? KERNEL_LOG_CAPACITY;
  if (!Number.isInteger(queueCapacity) || queueCapacity < 1)
    throw new Error(`queueCapacity: must be a positive integer, got ${queueCapacity}`);
  const epochMs = options.epochMs ?? Date.now() - state.timeSeconds * 1000;
  const link = createLink(target, {
    queueCapacity,
    reconnectMinMs: options.reconnectMinMs ?? 100,
    reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
  });
  const kernelTimestamp = options.kernelTimestamp ?? false;
  return {
    flush() {
      const log = state.faults.kernelLog;
      if (log.length === 0) return;
      const frames = log.splice(0).map((event) => {
        const text = formatSyslog(kernelLogMessage(state, event, epochMs, kernelTimestamp), format);
        return frameMessage(text, target.protocol, format);
      });
      link.send(frames);
    },
    close: () => link.close(),
    get sent() {
      return link.sent;
    },
    get dropped() {
      return link.dropped;
    },
    get queued() {
      return link.queued;
    },
  };
}
