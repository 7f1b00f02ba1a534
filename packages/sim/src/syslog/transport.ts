/**
 * Getting syslog messages to a collector without ever blocking the tick: UDP, one datagram per
 * message (RFC 5426), or TCP with RFC 6587 framing, connected lazily and reconnected with backoff.
 * Messages wait in a bounded queue; when it is full the oldest are dropped and counted.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, isIP, type Socket } from "node:net";
import type { SyslogFormat } from "./format.ts";

/** Where messages go. */
export interface SyslogTarget {
  protocol: "udp" | "tcp";
  host: string;
  port: number;
}

/** A target string that cannot be used; `part` names what is wrong. */
export class SyslogTargetError extends Error {
  readonly part: "scheme" | "host" | "port" | "path";
  constructor(target: string, part: SyslogTargetError["part"], problem: string) {
    super(`syslog target ${JSON.stringify(target)}: ${part}: ${problem}`);
    this.name = "SyslogTargetError";
    this.part = part;
  }
}

/**
 * Parses `udp://HOST:PORT` or `tcp://HOST:PORT` (HOST an IPv4 address, `[IPv6]` or a DNS name).
 * The port is required: RFC 6587 assigns none to TCP, and naming it keeps the two alike.
 */
export function parseSyslogTarget(target: string): SyslogTarget {
  const m = /^(?:([^:/]*):\/\/)?(\[[^\]]*\]|[^:/]*)(?::([^/]*))?(\/.*)?$/.exec(target);
  const scheme = m?.[1];
  if (!m || scheme === undefined)
    throw new SyslogTargetError(target, "scheme", "missing; write udp://HOST:PORT or tcp://HOST:PORT");
  if (scheme !== "udp" && scheme !== "tcp")
    throw new SyslogTargetError(target, "scheme", `must be udp or tcp, got ${JSON.stringify(scheme)}`);
  const rawHost = m[2]!;
  const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
  const hostOk = rawHost.startsWith("[") ? isIP(host) === 6 : isIP(host) === 4 || isHostName(host);
  if (!hostOk)
    throw new SyslogTargetError(
      target,
      "host",
      host === ""
        ? "missing"
        : `${JSON.stringify(rawHost)} is not an IPv4 address, [IPv6] address or host name`,
    );
  const rawPort = m[3];
  if (rawPort === undefined || rawPort === "")
    throw new SyslogTargetError(target, "port", `missing (e.g. ${scheme}://${rawHost}:514)`);
  const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : Number.NaN;
  if (!(port >= 1 && port <= 65_535))
    throw new SyslogTargetError(
      target,
      "port",
      `must be an integer from 1 to 65535, got ${JSON.stringify(rawPort)}`,
    );
  if (m[4] !== undefined && m[4] !== "/")
    throw new SyslogTargetError(target, "path", `a syslog target has none, got ${JSON.stringify(m[4])}`);
  return { protocol: scheme, host, port };
}

/** A DNS name (RFC 1123 labels), but not an all-numeric one that failed as an address (`256.1.1.1`). */
function isHostName(host: string): boolean {
  const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  return host.length <= 253 && !/^[\d.]+$/.test(host) && new RegExp(`^${label}(?:\\.${label})*$`).test(host);
}

/**
 * Largest UDP payload sent; longer messages are cut. RFC 3164 §4.1 caps a packet at 1024 bytes,
 * RFC 5426 §3.2 asks receivers to take 2048; 1024 also stays under an Ethernet MTU, so no
 * fragments. Xid lines are ~250 bytes.
 */
export const UDP_MAX_BYTES = 1024;

/** Turns a message into what goes on the wire for a transport and format. */
export function frameMessage(text: string, protocol: "udp" | "tcp", format: SyslogFormat): Buffer {
  const bytes = Buffer.from(text, "utf8");
  if (protocol === "udp") return truncateUtf8(bytes, UDP_MAX_BYTES);
  // RFC 6587 §3.4.1 octet counting (`MSG-LEN SP SYSLOG-MSG`) for RFC 5424, as rsyslog's
  // octet-counted framing sends it; §3.4.2 non-transparent framing with an LF trailer for the
  // traditional format, which is what legacy TCP receivers expect.
  if (format === "rfc5424") return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]);
  return Buffer.concat([bytes, Buffer.from("\n")]);
}

/** Cuts at `max` bytes without splitting a UTF-8 sequence. */
function truncateUtf8(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Timing and sizes of a link. */
export interface LinkOptions {
  /** Frames held for the collector before the oldest are dropped. */
  queueCapacity: number;
  /** First and longest wait between TCP connection attempts; the wait doubles after each failure. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Give up on a TCP connection attempt after this long. */
  connectTimeoutMs: number;
}

/** A transport with its queue. */
export interface Link {
  /** Queues frames (dropping the oldest past capacity) and starts sending. Never blocks. */
  send(frames: Buffer[]): void;
  /** Sends what it can of the queue, then closes; frames left unsent are dropped. */
  close(): Promise<void>;
  readonly sent: number;
  readonly dropped: number;
  readonly queued: number;
}

/** A link for the target. */
export function createLink(target: SyslogTarget, options: LinkOptions): Link {
  return target.protocol === "udp" ? udpLink(target, options) : tcpLink(target, options);
}

/** Frames waiting to go, oldest first, bounded; counts what it drops. */
class FrameQueue {
  private items: Buffer[] = [];
  private head = 0;
  dropped = 0;
  constructor(private readonly capacity: number) {}
  get length(): number {
    return this.items.length - this.head;
  }
  push(frame: Buffer): void {
    this.items.push(frame);
    if (this.length > this.capacity) {
      this.head++;
      this.dropped++;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  shift(): Buffer | undefined {
    if (this.length === 0) return undefined;
    const frame = this.items[this.head]!;
    this.items[this.head++] = EMPTY;
    return frame;
  }
  peek(): Buffer | undefined {
    return this.length > 0 ? this.items[this.head] : undefined;
  }
  /** Empties the queue, counting its frames as dropped. */
  discard(): void {
    this.dropped += this.length;
    this.items = [];
    this.head = 0;
  }
}

const EMPTY = Buffer.alloc(0);
/** Datagrams handed to the socket and not yet confirmed; the rest wait in the queue. */
const UDP_IN_FLIGHT = 64;

function udpLink(target: SyslogTarget, options: LinkOptions): Link {
  const queue = new FrameQueue(options.queueCapacity);
  let socket: UdpSocket | undefined;
  let inFlight = 0;
  let sent = 0;
  let failed = 0;
  let closing: (() => void) | undefined;
  const pump = () => {
    if (!socket && queue.length === 0) {
      closing?.();
      return;
    }
    socket ??= createSocket(isIP(target.host) === 6 ? "udp6" : "udp4").on("error", () => {
      // A send error also reaches its callback, where it is counted.
    });
    while (inFlight < UDP_IN_FLIGHT) {
      const frame = queue.shift();
      if (!frame) break;
      inFlight++;
      socket.send(frame, target.port, target.host, (err) => {
        inFlight--;
        if (err) failed++;
        else sent++;
        pump();
      });
    }
    if (closing && inFlight === 0 && queue.length === 0) closing();
  };
  return {
    send(frames) {
      if (closing) {
        failed += frames.length;
        return;
      }
      for (const f of frames) queue.push(f);
      pump();
    },
    close() {
      if (closing) return Promise.resolve();
      return new Promise<void>((resolve) => {
        closing = () => {
          closing = () => {};
          if (!socket) return resolve();
          socket.close(() => resolve());
        };
        pump();
      });
    },
    get sent() {
      return sent;
    },
    get dropped() {
      return queue.dropped + failed;
    },
    get queued() {
      return queue.length;
    },
  };
}

/** Bytes per TCP write: several frames go in one write, and so usually in one segment. */
const TCP_BATCH_BYTES = 64 * 1024;

function tcpLink(target: SyslogTarget, options: LinkOptions): Link {
  const queue = new FrameQueue(options.queueCapacity);
  let socket: Socket | undefined;
  let connected = false;
  let timer: NodeJS.Timeout | undefined;
  let backoffMs = options.reconnectMinMs;
  let sent = 0;
  let failed = 0;
  let closed = false;

  const open = () => {
    timer = undefined;
    const s = connect({ host: target.host, port: target.port });
    socket = s;
    s.setTimeout(options.connectTimeoutMs, () => s.destroy());
    s.on("connect", () => {
      connected = true;
      backoffMs = options.reconnectMinMs;
      s.setTimeout(0);
      s.setNoDelay(true);
      pump();
    });
    s.on("drain", () => pump());
    // A collector has nothing to say; read and discard so its bytes never pile up.
    s.resume();
    s.on("error", () => {
      // Followed by "close", which schedules the retry.
    });
    s.on("close", () => {
      if (socket !== s) return;
      socket = undefined;
      connected = false;
      if (!closed && queue.length > 0) retry();
    });
  };
  const retry = () => {
    if (timer || closed) return;
    timer = setTimeout(open, backoffMs);
    timer.unref();
    backoffMs = Math.min(options.reconnectMaxMs, backoffMs * 2);
  };
  const pump = () => {
    if (!socket) {
      if (!timer && !closed && queue.length > 0) open();
      return;
    }
    if (!connected) return;
    const s = socket;
    while (queue.length > 0 && !s.writableNeedDrain) {
      const batch: Buffer[] = [];
      let bytes = 0;
      let next = queue.peek();
      while (next && (batch.length === 0 || bytes + next.length <= TCP_BATCH_BYTES)) {
        batch.push(queue.shift()!);
        bytes += next.length;
        next = queue.peek();
      }
      // "sent" is handed to the kernel: without RELP neither side knows more.
      s.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, bytes), (err) => {
        if (err) failed += batch.length;
        else sent += batch.length;
      });
    }
  };
  return {
    send(frames) {
      if (closed) {
        failed += frames.length;
        return;
      }
      for (const f of frames) queue.push(f);
      pump();
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      const s = socket;
      if (!s || !connected) {
        queue.discard();
        s?.destroy();
        return Promise.resolve();
      }
      // Past the drain limit too: this is the last chance to hand them over.
      while (queue.length > 0) {
        const frame = queue.shift()!;
        s.write(frame, (err) => {
          if (err) failed++;
          else sent++;
        });
      }
      return new Promise<void>((resolve) => {
        s.once("close", () => resolve());
        s.end(() => s.destroy());
      });
    },
    get sent() {
      return sent;
    },
    get dropped() {
      return queue.dropped + failed;
    },
    get queued() {
      return queue.length;
    },
  };
}
