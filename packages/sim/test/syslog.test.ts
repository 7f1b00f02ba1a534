import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { describe, it } from "node:test";
import { createState, type FactoryState, injectFault, pciBusId, tick } from "../src/index.ts";
import { frameMessage } from "../src/syslog/transport.ts";
import {
  createSyslogSender,
  formatXidLine,
  nvrmPciAddress,
  parseSyslogTarget,
  type SyslogSenderOptions,
  SyslogTargetError,
  UDP_MAX_BYTES,
} from "../src/syslog.ts";
import { example, sharedData } from "./factories.ts";

const lab = example("lab");
/** 2025-01-21T02:21:33.498Z, the first Xid of fixtures/xid/gpud-dmesg-decode-iso-xid13-and-more.log. */
const EPOCH_MS = Date.UTC(2025, 0, 21, 2, 21, 33, 498);

// ---- What real kernels print (fixtures/xid/) ------------------------------------------------

const FIXTURE_FILES = [
  "gpud-readme-dmesg-xid79-sxid20034-nvswitch.log",
  "gpud-readme-dmesg-ctime-xid13-31-109.log",
  "gpud-dmesg-decode-iso-xid13-and-more.log",
];
const fixtureLines = FIXTURE_FILES.flatMap((f) =>
  readFileSync(sharedData(`fixtures/xid/${f}`), "utf8").split("\n"),
).filter((l) => l.includes("NVRM: Xid"));
/** The NVRM text of each fixture line, without dmesg's time and level columns. */
const fixtureXids = fixtureLines.map((l) => l.slice(l.indexOf("NVRM: Xid")));

/**
 * An Xid line as every fixture line has it: `PCI:` domain (4 hex), bus and device (2 hex each,
 * lower case), the Xid, then `pid=` a number or `'<unknown>'`, `name=` a word or `<unknown>`.
 */
const XID_LINE =
  /^NVRM: Xid \(PCI:([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\): (\d+), pid=('<unknown>'|\d+), name=(<unknown>|[^\s,]+), (.*)$/;
/** printk's time prefix, as in fixtures/xid/gpud-readme-dmesg-xid79-sxid20034-nvswitch.log. */
const DMESG_PREFIX = /^\[ *\d+\.\d{6}\] /;

/**
 * The detail text per Xid. 79 is from the fixtures; the rest are not in them, so each regex is
 * checked against a real line too: Xid 48 from a public dmesg paste of a DBE, 94/95 from the
 * format strings of `_gpuGenerateErrorLog` (open-gpu-kernel-modules, kern_gpu_error_cont_ga100.c),
 * 74 from NVIDIA's Xid 74 workflow (NVSentinel docs).
 */
const DETAILS: Record<number, { detail: RegExp; real: string; pid: "unknown" | "number" }> = {
  79: {
    detail: /^GPU has fallen off the bus\.$/,
    real: fixtureXids.find((l) => / 79, /.test(l))!,
    pid: "unknown",
  },
  48: {
    detail:
      /^An uncorrectable double bit error \(DBE\) has been detected on GPU in the framebuffer at physAddr 0x[0-9a-f]+ partition \d+, subpartition \d+\.$/,
    real: "NVRM: Xid (PCI:0000:52:00): 48, pid='<unknown>', name=<unknown>, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at physAddr 0x18f31d80 partition 16, subpartition 3.",
    pid: "unknown",
  },
  94: {
    detail: /^Contained: FB DED \(0x[0-9a-f]+, 0x[0-9a-f]+\)\. physAddr: 0x[0-9a-f]{8,} RST: No, D-RST: No$/,
    real: "NVRM: Xid (PCI:0000:01:00): 94, pid=7062, name=python, Contained: FB DED (0x3, 0x1). physAddr: 0x18f31d80 RST: No, D-RST: No",
    pid: "number",
  },
  95: {
    detail:
      /^Uncontained: FB DED \(0x[0-9a-f]+, 0x[0-9a-f]+\)\. physAddr: 0x[0-9a-f]{8,} RST: Yes, D-RST: No$/,
    real: "NVRM: Xid (PCI:0000:01:00): 95, pid=7062, name=python, Uncontained: FB DED (0x3, 0x1). physAddr: 0x18f31d80 RST: Yes, D-RST: No",
    pid: "number",
  },
  74: {
    detail: /^NVLink: fatal error detected on link \d+\((0x[0-9a-f]+, ){6}0x[0-9a-f]+\)$/,
    real: "NVRM: Xid (PCI:0003:00:00): 74, pid='<unknown>', name=<unknown>, NVLink: fatal error detected on link 14(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)",
    pid: "unknown",
  },
};

// ---- Strict parsers --------------------------------------------------------------------------

interface Rfc5424 {
  pri: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: string;
  msg: string;
}

const PRINTUSASCII = /^[\x21-\x7e]+$/;

/** RFC 5424 §6: every header field checked for its grammar and length. */
function parse5424(text: string): Rfc5424 {
  const m = /^<(0|[1-9]\d{0,2})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*\])+) ([\s\S]*)$/.exec(text);
  assert.ok(m, `not RFC 5424: ${JSON.stringify(text)}`);
  const [, pri, timestamp, hostname, appName, procId, msgId, structuredData, msg] = m;
  assert.ok(Number(pri) <= 191, `PRI ${pri} out of range`);
  assert.match(
    timestamp!,
    /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/,
  );
  for (const [field, max] of [
    [hostname!, 255],
    [appName!, 48],
    [procId!, 128],
    [msgId!, 32],
  ] as const) {
    assert.match(field, PRINTUSASCII);
    assert.ok(field.length <= max, `${field} longer than ${max}`);
  }
  return {
    pri: Number(pri),
    timestamp: timestamp!,
    hostname: hostname!,
    appName: appName!,
    procId: procId!,
    msgId: msgId!,
    structuredData: structuredData!,
    msg: msg!,
  };
}

interface Rfc3164 {
  pri: number;
  timestamp: string;
  hostname: string;
  tag: string;
  msg: string;
}

/** RFC 3164 §4.1: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`, the day space-padded. */
function parse3164(text: string): Rfc3164 {
  const m =
    /^<(0|[1-9]\d{0,2})>((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: [1-9]|[12]\d|3[01]) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d) ([\x21-\x7e]+) ([A-Za-z0-9_.-]{1,32}): (.*)$/.exec(
      text,
    );
  assert.ok(m, `not RFC 3164: ${JSON.stringify(text)}`);
  assert.ok(Number(m[1]) <= 191);
  return { pri: Number(m[1]), timestamp: m[2]!, hostname: m[3]!, tag: m[4]!, msg: m[5]! };
}

/** `Mmm dd hh:mm:ss` of a time, UTC. */
function bsdTime(ms: number): string {
  const d = new Date(ms);
  const month = d.toUTCString().slice(8, 11);
  return `${month} ${String(d.getUTCDate()).padStart(2, " ")} ${d.toISOString().slice(11, 19)}`;
}

/**
 * RFC 6587 §3.4.1 octet-counted frames in a byte stream, with the offset each starts at; stops at
 * an incomplete frame and says where.
 */
function decodeOctetCounted(stream: Buffer): { frames: string[]; starts: number[]; rest: number } {
  const frames: string[] = [];
  const starts: number[] = [];
  let i = 0;
  while (i < stream.length) {
    const sp = stream.indexOf(0x20, i);
    if (sp < 0) break;
    const len = stream.subarray(i, sp).toString("latin1");
    assert.match(len, /^[1-9]\d{0,8}$/, `bad MSG-LEN at ${i}`);
    const end = sp + 1 + Number(len);
    if (end > stream.length) break;
    starts.push(i);
    frames.push(stream.subarray(sp + 1, end).toString("utf8"));
    i = end;
  }
  return { frames, starts, rest: stream.length - i };
}

// ---- Collectors on real sockets --------------------------------------------------------------

async function udpCollector() {
  const socket = createSocket("udp4");
  const messages: string[] = [];
  socket.on("message", (b) => messages.push(b.toString("utf8")));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    messages,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function tcpCollector(port = 0) {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("data", (d) => chunks.push(d));
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    chunks,
    stream: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `cond` holds, polling every 10 ms; fails after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- The twin's side -------------------------------------------------------------------------

/** Each GPU fault kind once, one tick apart, on GPUs of two nodes. */
const INJECTED = [
  { kind: "xid79", target: "gpu:r01-dgx1/3", xid: 79 },
  { kind: "xid48", target: "gpu:r01-dgx2/0", xid: 48 },
  { kind: "xid94", target: "gpu:r01-dgx2/7", xid: 94 },
  { kind: "xid95", target: "gpu:r01-dgx1/5", xid: 95 },
  { kind: "xid74", target: "gpu:r01-dgx1/1", xid: 74 },
];

/** The NVRM address of a `gpu:NODE/ORDINAL` in an 8-GPU node. */
const addressOf = (target: string) => nvrmPciAddress(pciBusId(Number(target.split("/")[1]), 8));
const nodeOf = (target: string) => target.slice("gpu:".length).split("/")[0]!;

/** Injects INJECTED into a fresh state, ticking and flushing after each; fault i is at sim time i. */
function runFaults(sender?: { flush(): void }): FactoryState {
  const state = createState(lab.graph, lab.catalog, { seed: 1 });
  return runFaultsOn(state, sender);
}

function runFaultsOn(state: FactoryState, sender?: { flush(): void }): FactoryState {
  for (const f of INJECTED) {
    injectFault(state, { kind: f.kind, target: f.target });
    tick(state, 1);
    sender?.flush();
  }
  return state;
}

/** Checks an NVRM line against the fixtures' regex and the injected fault it must come from. */
function checkXidLine(line: string, fault: (typeof INJECTED)[number]): void {
  const m = XID_LINE.exec(line);
  assert.ok(m, `does not read like a real Xid line: ${line}`);
  assert.equal(`PCI:${m[1]}:${m[2]}:${m[3]}`, addressOf(fault.target));
  assert.equal(Number(m[4]), fault.xid);
  const spec = DETAILS[fault.xid]!;
  assert.match(m[7]!, spec.detail);
  assert.equal(m[5] === "'<unknown>'" ? "unknown" : "number", spec.pid);
}

describe("Xid lines", () => {
  it("the fixtures' regex matches every real Xid line in them", () => {
    assert.ok(fixtureXids.length > 600, `only ${fixtureXids.length} fixture lines`);
    for (const line of fixtureXids) assert.match(line, XID_LINE);
    for (const [xid, spec] of Object.entries(DETAILS)) {
      const m = XID_LINE.exec(spec.real);
      assert.ok(m, `real ${xid} line`);
      assert.match(m[7]!, spec.detail, `real ${xid} line detail`);
    }
  });

  it("the fixtures' kernel level is warning for every NVRM Xid line", () => {
    const decoded = fixtureLines.filter((l) => /^\w+ *:\w+ *: /.test(l));
    assert.ok(decoded.length > 600);
    for (const l of decoded) assert.match(l, /^kern {2}:warn {2}: /);
  });

  it("each fault kind prints its Xid line for the GPU's PCI address", () => {
    const state = runFaults();
    const events = state.faults.kernelLog;
    assert.equal(events.length, INJECTED.length);
    events.forEach((event, i) => {
      checkXidLine(formatXidLine(state, event), INJECTED[i]!);
    });
  });

  it("Xid 79 is the fixture line, word for word, at this GPU's address", () => {
    const state = runFaults();
    const real = DETAILS[79]!.real.replace(/PCI:[0-9a-f:]+/, addressOf("gpu:r01-dgx1/3"));
    assert.equal(formatXidLine(state, state.faults.kernelLog[0]!), real);
  });

  it("NVRM prints NVML's bus id as domain:bus:device in lower case", () => {
    assert.equal(nvrmPciAddress("00000000:3B:00.0"), "PCI:0000:3b:00");
    assert.equal(nvrmPciAddress("00000009:01:00.0"), "PCI:0009:01:00");
    assert.equal(addressOf("gpu:r01-dgx1/3"), "PCI:0000:5d:00");
  });

  it("is deterministic: the same faults print the same lines; pids come from the fault id", () => {
    const a = runFaults();
    const b = runFaults();
    const lines = (s: FactoryState) => s.faults.kernelLog.map((e) => formatXidLine(s, e));
    assert.deepEqual(lines(a), lines(b));
    const pids = new Set(
      Array.from(
        { length: 20 },
        (_, i) =>
          formatXidLine(a, { ...a.faults.kernelLog[2]!, faultId: `fault-${i + 1}` }).match(/pid=(\d+)/)?.[1],
      ),
    );
    assert.equal(pids.size, 20);
  });
});

describe("syslog over UDP", () => {
  it("sends each Xid once as RFC 5424: kern.warning, the node, the event's time", async () => {
    const collector = await udpCollector();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    const sender = createSyslogSender(state, {
      target: `udp://127.0.0.1:${collector.port}`,
      epochMs: EPOCH_MS,
    });
    try {
      runFaultsOn(state, sender);
      assert.equal(state.faults.kernelLog.length, 0, "flush drains the kernel log");
      await until(() => collector.messages.length >= INJECTED.length, 2000, "five datagrams");
      sender.flush();
      await sleep(50);
      assert.equal(collector.messages.length, INJECTED.length, "exactly one message per Xid");
      // UDP may reorder: match by time, which is unique per fault.
      const byTime = new Map(
        collector.messages.map((t) => [Date.parse(parse5424(t).timestamp), parse5424(t)]),
      );
      INJECTED.forEach((fault, i) => {
        const msg = byTime.get(EPOCH_MS + i * 1000);
        assert.ok(msg, `no message at sim time ${i}`);
        // Facility kern (0) × 8 + warning (4), the level of every NVRM line in the fixtures.
        assert.equal(msg.pri, 4);
        assert.equal(msg.timestamp, new Date(EPOCH_MS + i * 1000).toISOString().replace("Z", "000Z"));
        assert.equal(msg.hostname, nodeOf(fault.target));
        assert.deepEqual([msg.appName, msg.procId, msg.msgId, msg.structuredData], ["kernel", "-", "-", "-"]);
        checkXidLine(msg.msg, fault);
      });
      assert.equal(sender.sent, INJECTED.length);
      assert.equal(sender.dropped, 0);
    } finally {
      await sender.close();
      await collector.close();
    }
  });

  it("sends RFC 3164 with the tag kernel and the time in UTC", async () => {
    const collector = await udpCollector();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    const sender = createSyslogSender(state, {
      target: `udp://127.0.0.1:${collector.port}`,
      format: "rfc3164",
      epochMs: EPOCH_MS,
    });
    try {
      runFaultsOn(state, sender);
      await until(() => collector.messages.length >= INJECTED.length, 2000, "five datagrams");
      const parsed = collector.messages.map(parse3164);
      INJECTED.forEach((fault, i) => {
        const time = bsdTime(EPOCH_MS + i * 1000);
        const msg = parsed.find((p) => p.timestamp === time && p.msg.includes(`: ${fault.xid}, `));
        assert.ok(msg, `no message for ${fault.kind} at ${time}`);
        assert.equal(msg.pri, 4);
        assert.equal(msg.hostname, nodeOf(fault.target));
        assert.equal(msg.tag, "kernel");
        checkXidLine(msg.msg, fault);
      });
    } finally {
      await sender.close();
      await collector.close();
    }
  });

  it("stamps sim time 0 at creation, less the sim time already run, when no epoch is given", async () => {
    const collector = await udpCollector();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    for (let i = 0; i < 100; i++) tick(state, 1);
    const before = Date.now();
    const sender = createSyslogSender(state, { target: `udp://127.0.0.1:${collector.port}` });
    try {
      injectFault(state, { kind: "xid48", target: "gpu:r01-dgx1/0" });
      sender.flush();
      await until(() => collector.messages.length === 1, 2000, "one datagram");
      const at = Date.parse(parse5424(collector.messages[0]!).timestamp);
      assert.ok(at >= before - 1 && at <= Date.now() + 1, `${at} not now`);
    } finally {
      await sender.close();
      await collector.close();
    }
  });

  it("cuts datagrams at UDP_MAX_BYTES, never inside a UTF-8 character", () => {
    const long = `${"x".repeat(UDP_MAX_BYTES - 1)}é and more`;
    const frame = frameMessage(long, "udp", "rfc5424");
    assert.equal(frame.length, UDP_MAX_BYTES - 1);
    assert.equal(frame.toString("utf8"), "x".repeat(UDP_MAX_BYTES - 1));
    assert.equal(frameMessage("short", "udp", "rfc3164").toString(), "short");
  });

  it("counts events flushed after close as dropped", async () => {
    const collector = await udpCollector();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    const sender = createSyslogSender(state, { target: `udp://127.0.0.1:${collector.port}` });
    await sender.close();
    injectFault(state, { kind: "xid48", target: "gpu:r01-dgx1/0" });
    sender.flush();
    assert.deepEqual([sender.sent, sender.dropped, state.faults.kernelLog.length], [0, 1, 0]);
    await collector.close();
  });
});

describe("syslog over TCP", () => {
  it("frames RFC 5424 by octet counting, several messages to a segment", async () => {
    const collector = await tcpCollector();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    const sender = createSyslogSender(state, {
      target: `tcp://127.0.0.1:${collector.port}`,
      epochMs: EPOCH_MS,
    });
    try {
      // All five in one flush: one write, so the collector reads them together.
      runFaultsOn(state);
      sender.flush();
      await until(
        () => decodeOctetCounted(collector.stream()).frames.length === INJECTED.length,
        2000,
        "five frames",
      );
      const { frames, starts, rest } = decodeOctetCounted(collector.stream());
      assert.equal(rest, 0, "no bytes after the last frame");
      frames.forEach((text, i) => {
        const msg = parse5424(text);
        assert.equal(msg.pri, 4);
        assert.equal(Date.parse(msg.timestamp), EPOCH_MS + i * 1000);
        assert.equal(msg.hostname, nodeOf(INJECTED[i]!.target));
        checkXidLine(msg.msg, INJECTED[i]!);
      });
      let offset = 0;
      const perChunk = collector.chunks.map((c) => {
        const n = starts.filter((s) => s >= offset && s < offset + c.length).length;
        offset += c.length;
        return n;
      });
      assert.ok(Math.max(...perChunk) > 1, `one frame per read: ${perChunk}`);
      assert.equal(sender.sent, INJECTED.length);
    } finally {
      await sender.close();
      await collector.close();
    }
  });

  it("frames RFC 3164 with LF, keeping the dmesg prefix when asked", async () => {
    const collector = await tcpCollector();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    const sender = createSyslogSender(state, {
      target: `tcp://127.0.0.1:${collector.port}`,
      format: "rfc3164",
      epochMs: EPOCH_MS,
      kernelTimestamp: true,
    });
    try {
      runFaultsOn(state, sender);
      const lines = () => collector.stream().toString("utf8").split("\n");
      await until(() => lines().length === INJECTED.length + 1, 2000, "five lines");
      assert.equal(lines().at(-1), "", "every message ends in LF");
      lines()
        .slice(0, -1)
        .forEach((text, i) => {
          const msg = parse3164(text);
          assert.equal(msg.timestamp, bsdTime(EPOCH_MS + i * 1000));
          const prefix = DMESG_PREFIX.exec(msg.msg);
          assert.ok(prefix, `no dmesg prefix: ${msg.msg}`);
          assert.equal(prefix[0], `[${String(i).padStart(5, " ")}.000000] `);
          checkXidLine(msg.msg.slice(prefix[0].length), INJECTED[i]!);
        });
      // The same prefix shape as the real lines.
      const raw = fixtureLines.filter((l) => l.startsWith("["));
      assert.ok(raw.some((l) => DMESG_PREFIX.test(l)));
    } finally {
      await sender.close();
      await collector.close();
    }
  });

  it("holds a bounded queue while the collector is down and delivers once it is up", async () => {
    // A port nobody listens on, until the collector takes it.
    const probe = await tcpCollector();
    const port = probe.port;
    await probe.close();
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    const options: SyslogSenderOptions = {
      target: `tcp://127.0.0.1:${port}`,
      epochMs: EPOCH_MS,
      queueCapacity: 5,
      reconnectMinMs: 10,
      reconnectMaxMs: 40,
    };
    const sender = createSyslogSender(state, options);
    let collector: Awaited<ReturnType<typeof tcpCollector>> | undefined;
    try {
      for (let i = 0; i < 8; i++) {
        injectFault(state, { kind: "xid94", target: "gpu:r01-dgx1/1" });
        tick(state, 1);
        sender.flush();
      }
      assert.deepEqual([sender.queued, sender.dropped, sender.sent], [5, 3, 0]);
      await sleep(150); // several refused connection attempts
      assert.deepEqual([sender.queued, sender.dropped, sender.sent], [5, 3, 0]);

      collector = await tcpCollector(port);
      const frames = () => decodeOctetCounted(collector!.stream()).frames;
      await until(() => frames().length === 5, 3000, "the queued five");
      // The oldest three were dropped: what arrives is faults 4 to 8, at sim times 3 to 7.
      assert.deepEqual(
        frames().map((t) => (Date.parse(parse5424(t).timestamp) - EPOCH_MS) / 1000),
        [3, 4, 5, 6, 7],
      );
      injectFault(state, { kind: "xid74", target: "gpu:r01-dgx1/2" });
      sender.flush();
      await until(() => frames().length === 6, 2000, "a later message");
      checkXidLine(parse5424(frames()[5]!).msg, { kind: "xid74", target: "gpu:r01-dgx1/2", xid: 74 });
      assert.deepEqual([sender.queued, sender.dropped, sender.sent], [0, 3, 6]);
    } finally {
      await sender.close();
      await collector?.close();
    }
  });
});

describe("targets", () => {
  const bad: [string, SyslogTargetError["part"]][] = [
    ["127.0.0.1:514", "scheme"],
    ["http://127.0.0.1:514", "scheme"],
    ["udp://:514", "host"],
    ["udp://bad_host:514", "host"],
    ["udp://256.1.1.1:514", "host"],
    ["tcp://[::zz]:6514", "host"],
    ["tcp://127.0.0.1", "port"],
    ["tcp://127.0.0.1:0", "port"],
    ["tcp://127.0.0.1:65536", "port"],
    ["udp://127.0.0.1:51a", "port"],
    ["udp://127.0.0.1:514/logs", "path"],
  ];
  for (const [target, part] of bad)
    it(`refuses ${target} naming the ${part}`, () => {
      const state = createState(lab.graph, lab.catalog, { seed: 1 });
      assert.throws(
        () => createSyslogSender(state, { target }),
        (err: unknown) =>
          err instanceof SyslogTargetError && err.part === part && err.message.includes(`${part}:`),
      );
    });

  it("reads good targets", () => {
    assert.deepEqual(parseSyslogTarget("udp://127.0.0.1:5514"), {
      protocol: "udp",
      host: "127.0.0.1",
      port: 5514,
    });
    assert.deepEqual(parseSyslogTarget("tcp://[::1]:6514"), { protocol: "tcp", host: "::1", port: 6514 });
    assert.deepEqual(parseSyslogTarget("tcp://logs.example.org:601/"), {
      protocol: "tcp",
      host: "logs.example.org",
      port: 601,
    });
  });

  it("refuses an unknown format", () => {
    const state = createState(lab.graph, lab.catalog, { seed: 1 });
    assert.throws(
      () => createSyslogSender(state, { target: "udp://127.0.0.1:514", format: "rfc9999" as "rfc5424" }),
      /format: must be one of rfc5424, rfc3164/,
    );
  });
});
