/**
 * The syslog receiver over real sockets on 127.0.0.1: UDP and TCP with both RFC 6587 framings,
 * every kernel line of fixtures/xid/ sent through each, limits, floods and bad lines.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createSyslogReceiver,
  type SyslogAddresses,
  type SyslogParseError,
  type SyslogReceiver,
  type SyslogReceiverOptions,
  type XidEvent,
} from "../src/syslog/index.ts";

const HOST = "127.0.0.1";
const XID79 = "NVRM: Xid (PCI:0000:91:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.";
const rfc5424 = (msg: string, host = "r01-dgx1", pri = 4) =>
  `<${pri}>1 2025-01-21T02:21:33.498559Z ${host} kernel - - - ${msg}`;
const rfc3164 = (msg: string, host = "r01-dgx1", pri = 4) => `<${pri}>Jan 21 02:21:33 ${host} kernel: ${msg}`;
const octets = (text: string) => `${Buffer.byteLength(text)} ${text}`;

interface Running {
  receiver: SyslogReceiver;
  addresses: SyslogAddresses;
  events: XidEvent[];
  malformed: SyslogParseError[];
  stop(): Promise<void>;
}

const running: Running[] = [];
after(async () => {
  for (const r of running) await r.stop();
});

async function start(options: Partial<SyslogReceiverOptions> = {}): Promise<Running> {
  const events: XidEvent[] = [];
  const malformed: SyslogParseError[] = [];
  const receiver = createSyslogReceiver({
    udp: { port: 0 },
    tcp: { port: 0 },
    resolveGpu: (host, bus) =>
      host === "r01-dgx1" && bus === "00000000:91:00.0" ? "gpu:r01-dgx1/3" : undefined,
    onEvent: (e) => events.push(e),
    onMalformed: (e) => malformed.push(e),
    ...options,
  });
  const controller = new AbortController();
  const done = receiver.start(controller.signal);
  const addresses = await receiver.ready;
  let stopped = false;
  const r: Running = {
    receiver,
    addresses,
    events,
    malformed,
    async stop() {
      if (stopped) return;
      stopped = true;
      controller.abort();
      await done;
    },
  };
  running.push(r);
  return r;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

/** Sends datagrams, waiting every `batch` for the receiver to have them (loopback drops otherwise). */
async function sendUdp(r: Running, messages: (string | Buffer)[], batch = 100): Promise<void> {
  const client = createSocket("udp4");
  const base = r.receiver.stats().received;
  for (let i = 0; i < messages.length; i += batch) {
    const slice = messages.slice(i, i + batch);
    await Promise.all(
      slice.map((m) => new Promise((res) => client.send(m, r.addresses.udp!.port, HOST, res))),
    );
    await waitFor("datagrams", () => r.receiver.stats().received >= base + i + slice.length);
  }
  client.close();
}

async function openTcp(r: Running): Promise<Socket> {
  const socket = connect(r.addresses.tcp!.port, HOST);
  socket.setNoDelay(true);
  await new Promise((res) => socket.once("connect", res));
  return socket;
}

async function sendTcp(r: Running, chunks: (string | Buffer)[], pauseMs = 0): Promise<void> {
  const socket = await openTcp(r);
  for (const c of chunks) {
    socket.write(c);
    if (pauseMs > 0) await new Promise((res) => setTimeout(res, pauseMs));
  }
  await new Promise<void>((res) => socket.end(res));
}

// ---- every kernel line of fixtures/xid, through every transport ----------------------------

const XID_DIR = fileURLToPath(new URL("../../../../shared/data/fixtures/xid/", import.meta.url));
/** Kernel messages of the fixtures, without dmesg's `--decode` / kmsg decoration (see syslog.test.ts). */
const FIXTURE_MSGS = readdirSync(XID_DIR)
  .filter((f) => f.endsWith(".log") && !f.includes("fabricmanager"))
  .flatMap((f) => readFileSync(XID_DIR + f, "utf8").split("\n"))
  .filter((l) => l.trim() !== "")
  .map((l) => l.replace(/^\w+ *:\w+ *: \S+ /, "").replace(/^\d+,\d+,\d+,[^;]*;/, ""));

/** Per code, from a plain substring search independent of the parser. */
function grepCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of FIXTURE_MSGS) {
    const x = m.indexOf("NVRM: Xid (PCI:");
    const s = m.indexOf(": SXid (PCI:");
    const at = x >= 0 ? x : s;
    if (at < 0) continue;
    const code = m.slice(m.indexOf("): ", at) + 3).split(",")[0]!;
    const key = `${x >= 0 ? "xid" : "sxid"} ${code}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function eventCounts(events: XidEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) out[`${e.kind} ${e.xid}`] = (out[`${e.kind} ${e.xid}`] ?? 0) + 1;
  return out;
}

describe("syslog receiver: fixtures/xid over sockets", () => {
  const want = grepCounts();

  it("the fixtures hold 643 Xid and 8 SXid lines", () => {
    assert.deepEqual(want, {
      "xid 13": 632,
      "xid 43": 7,
      "xid 31": 1,
      "xid 109": 2,
      "xid 79": 1,
      "sxid 20034": 8,
    });
  });

  for (const transport of [
    "tcp octet-counted RFC 5424",
    "tcp LF-framed RFC 3164",
    "udp RFC 5424",
    "udp RFC 3164",
  ])
    it(`every Xid line arrives as its event over ${transport}`, async () => {
      const r = await start();
      const lines = FIXTURE_MSGS.map((m) => (transport.includes("5424") ? rfc5424(m) : rfc3164(m)));
      if (transport.startsWith("udp")) await sendUdp(r, lines);
      // Many messages to a segment: the whole log in 64 KiB writes, cut wherever they fall.
      else {
        const stream = Buffer.from(
          transport.includes("octet") ? lines.map(octets).join("") : `${lines.join("\n")}\n`,
        );
        const chunks: Buffer[] = [];
        for (let i = 0; i < stream.length; i += 65_536) chunks.push(stream.subarray(i, i + 65_536));
        await sendTcp(r, chunks);
      }
      await waitFor("all lines", () => r.receiver.stats().received === lines.length);
      const s = r.receiver.stats();
      assert.equal(s.parsed, lines.length);
      assert.equal(s.malformed, 0, r.malformed.map(String).join("\n"));
      assert.deepEqual(eventCounts(r.events), want);
      assert.equal(s.xidEvents, 643);
      assert.equal(s.sxidEvents, 8);
      // Only the Xid 79 GPU is in the inventory; SXid has no resolver here.
      assert.equal(s.unresolved, 643 + 8 - 1);
      const x79 = r.events.find((e) => e.xid === 79)!;
      assert.equal(x79.gpuId, "gpu:r01-dgx1/3");
      assert.equal(x79.hostname, "r01-dgx1");
      assert.equal(x79.pciBusId, "00000000:91:00.0");
      assert.equal(x79.catalog?.action, "drain, reboot node, hardware inspection");
      assert.equal(x79.severity, 4);
      assert.equal(x79.facility, 0);
      assert.equal(x79.peer.transport, transport.slice(0, 3));
      assert.ok(x79.raw.includes(XID79));
      for (const e of r.events) {
        if (e.kind === "xid") assert.equal(e.gpuId === undefined, e.xid !== 79);
        assert.ok(e.receivedAtMs >= e.timestampMs);
      }
      await r.stop();
    });
});

// ---- framing, bad lines, limits -----------------------------------------------------------------

describe("syslog receiver: TCP and UDP behaviour", () => {
  it("takes both framings on one connection, a message split across segments, and skips bad lines", async () => {
    const r = await start();
    const good5424 = rfc5424(XID79);
    const good3164 = rfc3164(XID79);
    const split = octets(good5424);
    await sendTcp(
      r,
      [
        `${octets(good5424)}${good3164}\n<999>bad pri\n${octets("<4>1 2025-13-01T00:00:00Z h k - - - x")}`,
        split.slice(0, 7),
        split.slice(7, 60),
        split.slice(60),
        `${good3164.slice(0, 30)}`,
        `${good3164.slice(30)}\n`,
        "<4>Jan 21 02:21:33 r01-dgx1 kernel: NVRM: Xid (PCI:zz): 79, x\n",
        `${good3164}\n`,
      ],
      20,
    );
    await waitFor("8 messages", () => r.receiver.stats().received === 8);
    const s = r.receiver.stats();
    assert.equal(r.events.length, 5);
    assert.ok(
      r.events.every((e) => e.xid === 79 && e.gpuId === "gpu:r01-dgx1/3" && e.message.endsWith("bus.")),
    );
    assert.equal(s.malformed, 3);
    assert.deepEqual(
      r.malformed.map((e) => [e.code, e.column]),
      [
        ["pri", 2],
        ["timestamp", 11],
        ["xid", "<4>Jan 21 02:21:33 r01-dgx1 kernel: NVRM: Xid (".length + 1],
      ],
    );
    assert.equal(s.malformedBy.pri, 1);
    assert.equal(s.malformedBy.xid, 1);
    await r.stop();
  });

  it("reads a datagram per message, drops a trailing LF, and names a host that sent none by its address", async () => {
    const r = await start();
    await sendUdp(r, [
      `${rfc5424(XID79)}\n`,
      "not syslog",
      `<4>Jan 21 02:21:33 kernel: ${XID79}`,
      rfc3164(XID79, "r01-dgx1", 12), // facility user: not the kernel
    ]);
    const s = r.receiver.stats();
    assert.equal(r.events.length, 2);
    assert.equal(r.events[0]!.message, "GPU has fallen off the bus.");
    assert.equal(r.events[1]!.hostname, HOST);
    assert.equal(r.events[1]!.gpuId, undefined);
    assert.equal(s.malformedBy.pri, 1);
    assert.equal(s.droppedBy["not-kernel"], 1);
    await r.stop();
  });

  it("takes Xid lines from other facilities when told to", async () => {
    const r = await start({ xidFromAnyFacility: true });
    await sendUdp(r, [rfc3164(XID79, "r01-dgx1", 12)]);
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]!.facility, 1);
    await r.stop();
  });

  it("drops messages over maxMessageBytes on both transports and goes on", async () => {
    const r = await start({ maxMessageBytes: 1_024 });
    const big = rfc5424(`${XID79} ${"x".repeat(2_000)}`);
    await sendUdp(r, [big, rfc5424(XID79)]);
    await sendTcp(r, [octets(big), `${big}\n`, octets(rfc5424(XID79)), `${rfc3164(XID79)}\n`]);
    await waitFor("6 messages", () => r.receiver.stats().received === 6);
    const s = r.receiver.stats();
    assert.equal(s.droppedBy.oversize, 3);
    assert.equal(r.events.length, 3);
    await r.stop();
  });

  it("counts a message cut off by the end of the connection", async () => {
    const r = await start();
    await sendTcp(r, [octets(rfc5424(XID79)).slice(0, 50)]);
    await waitFor("the cut message", () => r.receiver.stats().received === 1);
    assert.equal(r.receiver.stats().droppedBy.truncated, 1);
    await r.stop();
  });

  it("closes connections past maxConnections and counts them", async () => {
    const r = await start({ maxConnections: 2 });
    const a = await openTcp(r);
    const b = await openTcp(r);
    await waitFor("2 connections", () => r.receiver.stats().connections === 2);
    const c = await openTcp(r);
    await new Promise((res) => c.once("close", res));
    assert.equal(r.receiver.stats().connectionsRejected, 1);
    a.destroy();
    await waitFor("a slot", () => r.receiver.stats().connections === 1);
    await sendTcp(r, [`${rfc3164(XID79)}\n`]);
    await waitFor("the event", () => r.events.length === 1);
    b.destroy();
    await r.stop();
  });

  it("counts a throwing listener and goes on; a throwing resolver leaves the event unresolved", async () => {
    let calls = 0;
    const r = await start({
      onEvent: () => {
        calls++;
        if (calls === 1) throw new Error("listener bug");
      },
      resolveGpu: () => {
        throw new Error("inventory down");
      },
    });
    await sendUdp(r, [rfc5424(XID79), rfc5424(XID79)]);
    const s = r.receiver.stats();
    assert.equal(calls, 2);
    assert.equal(s.droppedBy["listener-error"], 1);
    assert.equal(s.xidEvents, 1);
    assert.equal(s.unresolved, 2);
    await r.stop();
  });

  it("closes open connections on stop, and rejects start when the port is taken", async () => {
    const r = await start();
    const socket = await openTcp(r);
    const closed = new Promise((res) => socket.once("close", res));
    await r.stop();
    await closed;

    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, HOST, res));
    const port = (blocker.address() as { port: number }).port;
    const receiver = createSyslogReceiver({
      tcp: { port },
      resolveGpu: () => undefined,
      onEvent: () => {},
    });
    await assert.rejects(receiver.start(new AbortController().signal), /EADDRINUSE/);
    await assert.rejects(receiver.ready, /EADDRINUSE/);
    await new Promise((res) => blocker.close(res));
  });

  it("rejects bad options by name", () => {
    const base = { resolveGpu: () => undefined, onEvent: () => {} };
    assert.throws(() => createSyslogReceiver(base), /udp, tcp: at least one/);
    assert.throws(() => createSyslogReceiver({ ...base, udp: { port: 70_000 } }), /udp.port/);
    assert.throws(
      () => createSyslogReceiver({ ...base, udp: { port: 0 }, maxMessageBytes: 0 }),
      /maxMessageBytes/,
    );
  });
});

// ---- floods -------------------------------------------------------------------------------------

/** Sends 100k copies of argv[2] to 127.0.0.1:argv[1], a thousand per turn of the event loop. */
const FLOOD_SENDER = `
const socket = require("node:dgram").createSocket("udp4");
const port = Number(process.argv[1]);
const message = Buffer.from(process.argv[2]);
let sent = 0;
function burst() {
  for (let i = 0; i < 1000; i++) {
    sent++;
    socket.send(message, port, "127.0.0.1", sent === 100000 ? () => socket.close() : undefined);
  }
  if (sent < 100000) setImmediate(burst);
}
burst();
`;

describe("syslog receiver: floods stay bounded", () => {
  const RATE = 2_000;

  it("100k datagrams from another process: the excess is dropped and counted, Xid lines keep their bucket", async () => {
    const r = await start({ messagesPerSecond: RATE });
    const heapBefore = process.memoryUsage().heapUsed;
    const startedMs = Date.now();
    // A separate sender, as a flooding host is: in this process its sends would starve our reads.
    const sender = spawn(process.execPath, [
      "-e",
      FLOOD_SENDER,
      String(r.addresses.udp!.port),
      rfc3164("eth0: link flap"),
    ]);
    const [code] = await once(sender, "exit");
    assert.equal(code, 0);
    let last = -1;
    await waitFor("the flood to settle", () => {
      const now = r.receiver.stats().received;
      const settled = now === last;
      last = now;
      return settled;
    });
    const elapsedSeconds = (Date.now() - startedMs) / 1000;
    const s = r.receiver.stats();
    // The kernel may lose datagrams before the socket reads them; what was read is accounted for.
    assert.ok(s.received <= 100_000 && s.received > 1_000, `received ${s.received}`);
    assert.equal(s.received, s.parsed + s.droppedBy["rate-limited"]);
    assert.ok(s.droppedBy["rate-limited"] > 0);
    assert.ok(s.parsed <= RATE + RATE * elapsedSeconds + 5, `parsed ${s.parsed} in ${elapsedSeconds} s`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 2 ** 20, "heap grew past 64 MiB");
    // Right after the flood the other bucket is empty; an Xid line is still taken.
    await sendUdp(r, [rfc5424(XID79)]);
    assert.equal(r.events.length, 1);
    await r.stop();
  });

  it("a TCP flood of Xid lines is cut to the rate, with the rest counted", async () => {
    const r = await start({ messagesPerSecond: RATE });
    const line = `${rfc3164(XID79)}\n`;
    const socket = await openTcp(r);
    const startedMs = Date.now();
    const chunk = line.repeat(1_000);
    for (let i = 0; i < 100; i++)
      if (!socket.write(chunk)) await new Promise((res) => socket.once("drain", res));
    await new Promise<void>((res) => socket.end(res));
    await waitFor("100k lines", () => r.receiver.stats().received === 100_000, 20_000);
    const elapsedSeconds = (Date.now() - startedMs) / 1000;
    const s = r.receiver.stats();
    assert.equal(s.parsed + s.droppedBy["rate-limited"], 100_000);
    assert.equal(r.events.length, s.parsed);
    assert.ok(s.parsed <= RATE + RATE * elapsedSeconds + 5, `parsed ${s.parsed} in ${elapsedSeconds} s`);
    await r.stop();
  });
});
