/**
 * The syslog receiver: UDP (one message per datagram, RFC 5426) and TCP (RFC 6587, both framings)
 * listeners that parse each message, read NVIDIA Xid / SXid lines out of kernel messages, attach
 * them to a GPU or NVSwitch through the caller's resolver and hand them to a listener.
 *
 * Everything is bounded: a message past `maxMessageBytes` is dropped, connections past
 * `maxConnections` are closed, and messages past the rate are dropped before they are decoded.
 * Work happens in the socket callbacks, so nothing queues in memory: a flood fills the kernel's
 * socket buffer (UDP, lost there) or pushes back on the sender (TCP). Every message lost here is
 * counted by reason in `stats()`.
 */
import type { Socket as UdpSocket } from "node:dgram";
import type { AddressInfo, Server, Socket } from "node:net";
import { type SyslogErrorCode, SyslogParseError } from "./errors.ts";
import { bindUdp, listenTcp, type SyslogListen, type SyslogPeer, serveConnection } from "./listeners.ts";
import { parseSyslog, type SyslogMessage } from "./message.ts";
import { createTokenBucket } from "./rate.ts";
import { parseXidLine, type XidLine } from "./xid.ts";
import { type XidCatalogEntry, xidCatalogEntry } from "./xid-catalog.ts";

/** A GPU (Xid) or NVSwitch (SXid) fault read from a kernel line, attached to its device. */
export interface XidEvent extends XidLine {
  /** When the receiver got the message, ms since the Unix epoch. */
  receivedAtMs: number;
  /** The time in the syslog header, or `receivedAtMs` when it has none. */
  timestampMs: number;
  /** HOSTNAME from the header, or the sender's address when the line has none (as rsyslog does). */
  hostname: string;
  /** The GPU entity (`gpu:r01-dgx1/3`) from `resolveGpu`; absent when unresolved or for SXid. */
  gpuId?: string;
  /** The NVSwitch entity from `resolveNvSwitch`, for SXid lines. */
  nvswitchId?: string;
  /** The Xid catalog's meaning and usual action (xid-catalog.ts), for GPU Xids it lists. */
  catalog?: XidCatalogEntry;
  /** Syslog severity (0-7) and facility (0 is kern). */
  severity: number;
  facility: number;
  /** The whole syslog line as received. */
  raw: string;
  peer: SyslogPeer;
}

export type { SyslogListen, SyslogPeer };

/** Why a message was lost after it arrived. */
export type SyslogDropReason =
  | "oversize"
  | "truncated"
  | "rate-limited"
  | "not-kernel"
  | "listener-error"
  /** A bug of ours met by some line: the line is lost, the receiver goes on. */
  | "internal-error";

/** Counters since start. `received` = `parsed` + syslog-malformed + dropped before parsing. */
export interface SyslogReceiverStats {
  /** Messages that arrived: datagrams, and TCP frames (including oversize and cut-off ones). */
  received: number;
  /** Messages whose syslog header parsed. */
  parsed: number;
  /** GPU Xid and NVSwitch SXid events handed to `onEvent`. */
  xidEvents: number;
  sxidEvents: number;
  /** Events handed on without an entity id (the resolver did not know the device). */
  unresolved: number;
  /** Lines that could not be read (syslog, or an Xid line's text), by error code. */
  malformed: number;
  malformedBy: Record<SyslogErrorCode, number>;
  /** Messages or events thrown away, by reason. */
  dropped: number;
  droppedBy: Record<SyslogDropReason, number>;
  /** TCP connections open now, and those closed at once because `maxConnections` were open. */
  connections: number;
  connectionsRejected: number;
}

/** The bound addresses. */
export interface SyslogAddresses {
  udp?: AddressInfo;
  tcp?: AddressInfo;
}

/** What the receiver needs; collaborators are functions. */
export interface SyslogReceiverOptions {
  /** Listen on UDP; at least one of `udp` and `tcp` is required. */
  udp?: SyslogListen;
  tcp?: SyslogListen;
  /** The GPU entity id for a host and an NVML bus id (`00000000:3B:00.0`), or undefined. */
  resolveGpu(hostname: string, pciBusId: string): string | undefined;
  /** The NVSwitch entity id for a host and bus id, for SXid lines (default: none). */
  resolveNvSwitch?(hostname: string, pciBusId: string): string | undefined;
  /** Receives each Xid / SXid event, synchronously; a throw is counted and swallowed. */
  onEvent(event: XidEvent): void;
  /** Receives every parsed message (for log mining); optional. */
  onMessage?(message: SyslogMessage, raw: string, peer: SyslogPeer): void;
  /** Hears about each line that could not be read, to log a sample; optional. */
  onMalformed?(error: SyslogParseError, raw: string, peer: SyslogPeer): void;
  /** Largest message kept, in bytes (default 65,536). */
  maxMessageBytes?: number;
  /** Open TCP connections at most (default 1,024). */
  maxConnections?: number;
  /**
   * Sustained messages per second taken, and the burst above it (defaults 20,000 and the rate).
   * Lines that mention an Xid have a bucket of their own, so other chatter never crowds them out.
   */
  messagesPerSecond?: number;
  burstMessages?: number;
  /**
   * Take Xid lines from any facility. Off by default: the kernel logs with facility kern, which
   * syslog(3) does not let a user process use, so a user-space line imitating an Xid is ignored.
   */
  xidFromAnyFacility?: boolean;
  /** Offset of the senders' clocks from UTC for BSD (RFC 3164) times (default 0). */
  rfc3164UtcOffsetMinutes?: number;
  /** Clock, ms since the epoch (default Date.now). */
  now?(): number;
}

/** A syslog receiver; see createSyslogReceiver. */
export interface SyslogReceiver {
  /**
   * Binds the listeners and serves until `signal` aborts, then closes them and every connection;
   * resolves once closed. Rejects if a listener cannot bind. Call once.
   */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves with the bound addresses once `start` has bound them; rejects if it could not. */
  readonly ready: Promise<SyslogAddresses>;
  /** A copy of the counters. */
  stats(): SyslogReceiverStats;
}

const DEFAULTS = { maxMessageBytes: 65_536, maxConnections: 1_024, messagesPerSecond: 20_000 };
const XID_MARK = Buffer.from("Xid (");

/**
 * A receiver (not yet listening). Throws Error naming the option for a bad one.
 *
 * @example
 *   const receiver = createSyslogReceiver({
 *     udp: { port: 5514 }, tcp: { port: 5514 },
 *     resolveGpu: (host, bus) => inventory.gpuAt(host, bus),
 *     onEvent: (e) => console.log(e.gpuId, e.xid, e.catalog?.action),
 *   });
 *   const stop = new AbortController();
 *   const done = receiver.start(stop.signal);
 *   await receiver.ready; // { udp: { port: 5514, … }, tcp: { … } }
 */
export function createSyslogReceiver(options: SyslogReceiverOptions): SyslogReceiver {
  if (!options.udp && !options.tcp) throw new Error("udp, tcp: at least one listener is required");
  for (const key of ["udp", "tcp"] as const) {
    const port = options[key]?.port;
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535))
      throw new Error(`${key}.port: must be an integer from 0 to 65535, got ${port}`);
  }
  const maxMessageBytes = positive(options, "maxMessageBytes");
  const maxConnections = positive(options, "maxConnections");
  const rate = positive(options, "messagesPerSecond");
  const burst = options.burstMessages ?? rate;
  if (!(burst >= 1)) throw new Error(`burstMessages: must be at least 1, got ${burst}`);
  const now = options.now ?? Date.now;
  const buckets = { xid: createTokenBucket(rate, burst, now), other: createTokenBucket(rate, burst, now) };
  const stats = emptyStats();
  const parseOptions = { rfc3164UtcOffsetMinutes: options.rfc3164UtcOffsetMinutes ?? 0 };

  const drop = (reason: SyslogDropReason) => {
    stats.dropped++;
    stats.droppedBy[reason]++;
  };
  const malformed = (error: SyslogParseError, raw: string, peer: SyslogPeer) => {
    stats.malformed++;
    stats.malformedBy[error.code]++;
    guard(() => options.onMalformed?.(error, raw, peer));
  };
  /** Runs a caller's function; a throw loses only what it was given. */
  const guard = (fn: () => void): boolean => {
    try {
      fn();
      return true;
    } catch {
      drop("listener-error");
      return false;
    }
  };

  /** One whole message, already counted as received. */
  function handle(bytes: Buffer, peer: SyslogPeer): void {
    const bucket = bytes.includes(XID_MARK) ? buckets.xid : buckets.other;
    if (!bucket.take()) {
      drop("rate-limited");
      return;
    }
    const receivedAtMs = now();
    const raw = trimTrailer(bytes).toString("utf8");
    let message: SyslogMessage;
    try {
      message = parseSyslog(raw, { ...parseOptions, receivedAtMs });
    } catch (err) {
      if (!(err instanceof SyslogParseError)) {
        drop("internal-error");
        return;
      }
      malformed(err, raw, peer);
      return;
    }
    stats.parsed++;
    if (options.onMessage) guard(() => options.onMessage?.(message, raw, peer));
    let line: XidLine | undefined;
    try {
      line = parseXidLine(message.msg);
    } catch (err) {
      if (!(err instanceof SyslogParseError)) {
        drop("internal-error");
        return;
      }
      // Columns of the Xid text are counted from the start of MSG, which ends the line.
      const column = raw.length - message.msg.length + err.column;
      malformed(new SyslogParseError("xid", column, err.reason), raw, peer);
      return;
    }
    if (!line) return;
    if (message.facility !== 0 && !options.xidFromAnyFacility) {
      drop("not-kernel");
      return;
    }
    const hostname = message.hostname ?? peer.address;
    const event: XidEvent = {
      ...line,
      receivedAtMs,
      timestampMs: message.timestampMs ?? receivedAtMs,
      hostname,
      severity: message.severity,
      facility: message.facility,
      raw,
      peer,
    };
    const resolve = line.kind === "xid" ? options.resolveGpu : options.resolveNvSwitch;
    let id: string | undefined;
    try {
      id = resolve?.call(options, hostname, line.pciBusId);
    } catch {
      id = undefined; // an inventory that fails is an inventory that does not know the device
    }
    if (id === undefined) stats.unresolved++;
    else if (line.kind === "xid") event.gpuId = id;
    else event.nvswitchId = id;
    if (line.kind === "xid") {
      const entry = xidCatalogEntry(line.xid);
      if (entry) event.catalog = entry;
    }
    if (guard(() => options.onEvent(event))) {
      if (line.kind === "xid") stats.xidEvents++;
      else stats.sxidEvents++;
    }
  }

  let started = false;
  let resolveReady!: (a: SyslogAddresses) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<SyslogAddresses>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {}); // start() rejects too; a caller that awaits only that is not left unhandled

  async function start(signal: AbortSignal): Promise<void> {
    if (started) throw new Error("start: the receiver was already started");
    started = true;
    const sockets = new Set<Socket>();
    let udp: UdpSocket | undefined;
    let tcp: Server | undefined;
    let closing = false;
    const close = async () => {
      closing = true;
      for (const s of sockets) s.destroy();
      await Promise.all([
        udp && new Promise<void>((res) => udp!.close(() => res())),
        tcp && new Promise<void>((res) => tcp!.close(() => res())),
      ]);
    };
    try {
      if (signal.aborted) throw new Error("start: aborted before listening");
      const addresses: SyslogAddresses = {};
      if (options.udp) {
        udp = await bindUdp(options.udp, (bytes, peer) => {
          stats.received++;
          if (bytes.length > maxMessageBytes) {
            drop("oversize");
            return;
          }
          handle(bytes, peer);
        });
        addresses.udp = udp.address();
      }
      if (options.tcp) {
        tcp = await listenTcp(options.tcp, (socket) => {
          if (closing) {
            socket.destroy();
            return;
          }
          if (sockets.size >= maxConnections) {
            stats.connectionsRejected++;
            socket.destroy();
            return;
          }
          sockets.add(socket);
          stats.connections = sockets.size;
          serveConnection(socket, maxMessageBytes, {
            frame(bytes, peer) {
              stats.received++;
              handle(bytes, peer);
            },
            drop(reason) {
              stats.received++;
              drop(reason);
            },
            closed() {
              sockets.delete(socket);
              stats.connections = sockets.size;
            },
          });
        });
        addresses.tcp = tcp.address() as AddressInfo;
      }
      resolveReady(addresses);
    } catch (err) {
      await close();
      rejectReady(err as Error);
      throw err;
    }
    if (!signal.aborted) await new Promise((res) => signal.addEventListener("abort", res, { once: true }));
    await close();
  }

  return {
    start,
    ready,
    stats: () => ({
      ...stats,
      malformedBy: { ...stats.malformedBy },
      droppedBy: { ...stats.droppedBy },
    }),
  };
}

function positive(
  options: SyslogReceiverOptions,
  key: "maxMessageBytes" | "maxConnections" | "messagesPerSecond",
): number {
  const value = options[key] ?? DEFAULTS[key];
  if (!(Number.isInteger(value) && value >= 1))
    throw new Error(`${key}: must be a positive integer, got ${value}`);
  return value;
}

/** A trailing LF, CR or NUL some senders put after a datagram or line (rsyslog drops it too). */
function trimTrailer(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0)) end--;
  return bytes.subarray(0, end);
}

function emptyStats(): SyslogReceiverStats {
  return {
    received: 0,
    parsed: 0,
    xidEvents: 0,
    sxidEvents: 0,
    unresolved: 0,
    malformed: 0,
    malformedBy: {
      empty: 0,
      pri: 0,
      version: 0,
      timestamp: 0,
      hostname: 0,
      "app-name": 0,
      procid: 0,
      msgid: 0,
      "structured-data": 0,
      header: 0,
      xid: 0,
    },
    dropped: 0,
    droppedBy: {
      oversize: 0,
      truncated: 0,
      "rate-limited": 0,
      "not-kernel": 0,
      "listener-error": 0,
      "internal-error": 0,
    },
    connections: 0,
    connectionsRejected: 0,
  };
}
