/**
 * The sockets: a UDP socket (one message per datagram, RFC 5426) and a TCP server whose
 * connections are split into messages by the RFC 6587 frame decoder.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, isIPv6, type Server, type Socket } from "node:net";
import { createFrameDecoder, type FrameDropReason } from "./framing.ts";

/** Where a listener binds; port 0 picks a free one. */
export interface SyslogListen {
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  port: number;
}

/** Where a message came from. */
export interface SyslogPeer {
  transport: "udp" | "tcp";
  address: string;
  port: number;
}

/** A bound UDP socket that hands each datagram on. */
export function bindUdp(
  listen: SyslogListen,
  onMessage: (bytes: Buffer, peer: SyslogPeer) => void,
): Promise<UdpSocket> {
  const host = listen.host ?? "127.0.0.1";
  const socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4" });
  socket.on("message", (bytes, info) => {
    onMessage(bytes, { transport: "udp", address: info.address, port: info.port });
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(listen.port, host, () => {
      socket.off("error", reject);
      // A socket error after binding (ICMP noise) must not crash the process.
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

/** A listening TCP server. */
export function listenTcp(listen: SyslogListen, onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      server.on("error", () => {});
      resolve(server);
    });
  });
}

/** What a connection hands on. */
export interface ConnectionSink {
  frame(bytes: Buffer, peer: SyslogPeer): void;
  drop(reason: FrameDropReason): void;
  closed(): void;
}

/** Reads a connection through a frame decoder until it closes. */
export function serveConnection(socket: Socket, maxMessageBytes: number, sink: ConnectionSink): void {
  const peer: SyslogPeer = {
    transport: "tcp",
    address: socket.remoteAddress ?? "",
    port: socket.remotePort ?? 0,
  };
  // Senders keep one connection for days; keepalive finds the ones whose host died.
  socket.setKeepAlive(true, 60_000);
  const decoder = createFrameDecoder(maxMessageBytes, {
    frame: (bytes) => sink.frame(bytes, peer),
    drop: (reason) => sink.drop(reason),
  });
  socket.on("data", (chunk: Buffer) => decoder.push(chunk));
  socket.on("end", () => decoder.end());
  socket.on("error", () => {}); // a reset connection ends like a closed one
  socket.on("close", () => sink.closed());
}
