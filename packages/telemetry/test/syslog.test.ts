/**
 * The syslog parsers (RFC 5424, RFC 3164), Xid / SXid extraction over every real kernel line in
 * fixtures/xid/, and TCP framing. Sockets are in syslog-sockets.test.ts.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  createFrameDecoder,
  normalizePciBusId,
  parseSyslog,
  parseXidLine,
  type SyslogMessage,
  SyslogParseError,
  xidCatalogEntry,
} from "../src/syslog/index.ts";

// ---- fixtures/xid: what real kernels print --------------------------------------------------

const XID_DIR = fileURLToPath(new URL("../../../../shared/data/fixtures/xid/", import.meta.url));
const FILES = readdirSync(XID_DIR).filter((f) => f.endsWith(".log"));

/** `dmesg --decode` level names → syslog severity (RFC 5424 §6.2.1). */
const LEVELS: Record<string, number> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warn: 4,
  notice: 5,
  info: 6,
  debug: 7,
};
const FACILITIES: Record<string, number> = { kern: 0, user: 1, daemon: 3, syslog: 5 };

/** A fixture line as the kernel message a host's rsyslog would forward. */
interface KernelLine {
  file: string;
  facility: number;
  severity: number;
  /** RFC 3339 time where the fixture has one. */
  iso?: string;
  msg: string;
}

/**
 * `dmesg --decode --time-format=iso` lines lose their `kern  :warn  : TIME ` decoration (syslog
 * carries level and time in its header); `/dev/kmsg` records lose `prio,seq,usec,-;`; printk and
 * ctime `[…]` prefixes stay, as rsyslog's imklog leaves them in MSG.
 */
function kernelLines(file: string): KernelLine[] {
  const out: KernelLine[] = [];
  for (const line of readFileSync(XID_DIR + file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const decoded = /^(\w+) *:(\w+) *: (\S+) (.*)$/.exec(line);
    const kmsg = /^(\d+),\d+,\d+,[^;]*;(.*)$/.exec(line);
    if (decoded)
      out.push({
        file,
        facility: FACILITIES[decoded[1]!]!,
        severity: LEVELS[decoded[2]!]!,
        iso: decoded[3]!.replace(",", "."),
        msg: decoded[4]!,
      });
    else if (kmsg) out.push({ file, facility: 0, severity: Number(kmsg[1]) & 7, msg: kmsg[2]! });
    else out.push({ file, facility: file.includes("fabricmanager") ? 3 : 0, severity: 4, msg: line });
  }
  return out;
}

const ALL = FILES.flatMap(kernelLines);

/** Independent of the parser: what a `grep 'NVRM: Xid (PCI:'` and a cut would say. */
function grepXid(msg: string): { xid: number; busId: string } | undefined {
  const head = "NVRM: Xid (PCI:";
  const at = msg.indexOf(head);
  if (at < 0) return undefined;
  const close = msg.indexOf("): ", at);
  const address = msg.slice(at + head.length, close); // dddd:bb:dd
  return { xid: Number(msg.slice(close + 3).split(",")[0]), busId: `0000${address.toUpperCase()}.0` };
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

const pri = (k: KernelLine) => k.facility * 8 + k.severity;
const FALLBACK_ISO = "2024-08-30T11:43:09.000000Z";

/** The fixture line as rsyslog forwards it in RFC 5424 and RFC 3164 form. */
function asSyslog(k: KernelLine): { rfc5424: string; rfc3164: string } {
  const iso = k.iso ?? FALLBACK_ISO;
  return {
    rfc5424: `<${pri(k)}>1 ${iso} r01-dgx1 kernel - - - ${k.msg}`,
    rfc3164: `<${pri(k)}>${iso} r01-dgx1 kernel: ${k.msg}`,
  };
}

describe("Xid lines of fixtures/xid", () => {
  const xidLines = ALL.filter((k) => grepXid(k.msg));

  it("holds the Xid lines SOURCE.md lists", () => {
    const byFileCode = countBy(xidLines, (k) => `${k.file} ${grepXid(k.msg)!.xid}`);
    assert.deepEqual(byFileCode, {
      "gpud-dmesg-decode-iso-xid13-and-more.log 13": 629,
      "gpud-dmesg-decode-iso-xid13-and-more.log 43": 7,
      "gpud-readme-dmesg-ctime-xid13-31-109.log 13": 3,
      "gpud-readme-dmesg-ctime-xid13-31-109.log 31": 1,
      "gpud-readme-dmesg-ctime-xid13-31-109.log 109": 2,
      "gpud-readme-dmesg-xid79-sxid20034-nvswitch.log 79": 1,
    });
  });

  it("every NVRM Xid line parses with the code and NVML bus id a grep finds", () => {
    for (const k of xidLines) {
      const want = grepXid(k.msg)!;
      const got = parseXidLine(k.msg);
      assert.ok(got, `not read: ${k.msg}`);
      assert.equal(got.kind, "xid");
      assert.equal(got.xid, want.xid, k.msg);
      assert.equal(got.pciBusId, want.busId, k.msg);
    }
  });

  it("counts per Xid code match the grep, per file and through both syslog formats", () => {
    const want = countBy(xidLines, (k) => `${k.file} ${grepXid(k.msg)!.xid}`);
    for (const format of ["rfc5424", "rfc3164"] as const) {
      const got: Record<string, number> = {};
      for (const k of ALL) {
        const m = parseSyslog(asSyslog(k)[format], { receivedAtMs: Date.UTC(2025, 0, 22) });
        const x = parseXidLine(m.msg);
        if (x?.kind === "xid") got[`${k.file} ${x.xid}`] = (got[`${k.file} ${x.xid}`] ?? 0) + 1;
      }
      assert.deepEqual(got, want, format);
    }
  });

  it("reads pid, process name and the driver's text; '<unknown>' leaves them out", () => {
    const x43 = parseXidLine(xidLines.find((k) => grepXid(k.msg)!.xid === 43)!.msg)!;
    assert.deepEqual(x43, {
      kind: "xid",
      xid: 43,
      pciBusId: "00000000:38:00.0",
      pid: 2815167,
      processName: "pt_main_thread",
      message: "Ch 00000008",
    });
    const x79 = parseXidLine(xidLines.find((k) => grepXid(k.msg)!.xid === 79)!.msg)!;
    assert.deepEqual(x79, {
      kind: "xid",
      xid: 79,
      pciBusId: "00000000:91:00.0",
      message: "GPU has fallen off the bus.",
    });
    const x31 = parseXidLine(xidLines.find((k) => grepXid(k.msg)!.xid === 31)!.msg)!;
    assert.equal(x31.pid, 626486);
    assert.match(x31.message, /^Ch 00000008, intr 00000000\. MMU Fault: .* FAULT_PDE ACCESS_TYPE_VIRT_READ$/);
  });

  it("the SXid lines of the NVSwitch incident parse with switch, bus id and code", () => {
    const sxid = ALL.filter((k) => k.msg.includes(": SXid (PCI:"));
    assert.equal(sxid.length, 8);
    for (const k of sxid) {
      const x = parseXidLine(k.msg)!;
      const device = /(nvidia-nvswitch\d): SXid \(PCI:0000:(\w\w):00\.0\)/.exec(k.msg)!;
      assert.equal(x.kind, "sxid");
      assert.equal(x.xid, 20034);
      assert.equal(x.device, device[1]);
      assert.equal(x.pciBusId, `00000000:${device[2]}:00.0`);
      assert.equal(x.pid, undefined);
    }
    assert.equal(parseXidLine(sxid[0]!.msg)!.message, "Fatal, Link 48 LTSSM Fault Up");
  });

  it("no other fixture line reads as an Xid, and every line parses as syslog", () => {
    for (const k of ALL) {
      for (const line of Object.values(asSyslog(k)))
        parseSyslog(line, { receivedAtMs: Date.UTC(2025, 0, 22) });
      if (!k.msg.includes("Xid (")) assert.equal(parseXidLine(k.msg), undefined, k.msg);
    }
    assert.ok(ALL.length > 3000, `only ${ALL.length} lines`);
  });
});

// ---- Xid text variations -----------------------------------------------------------------------

describe("parseXidLine", () => {
  const cases: { name: string; text: string; want: Record<string, unknown> | undefined }[] = [
    {
      name: "bare line, as imjournal forwards it",
      text: "NVRM: Xid (PCI:0000:3b:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
      want: { xid: 79, pciBusId: "00000000:3B:00.0", message: "GPU has fallen off the bus." },
    },
    {
      name: "printk prefix kept by imklog",
      text: "[ 1234.567890] NVRM: Xid (PCI:0000:5d:00): 48, pid='<unknown>', name=<unknown>, An uncorrectable double bit error",
      want: { xid: 48, pciBusId: "00000000:5D:00.0", message: "An uncorrectable double bit error" },
    },
    {
      name: "older driver: pid only",
      text: "NVRM: Xid (PCI:0000:00:1e): 31, pid=12345, Ch 00000003, intr 10000000",
      want: { xid: 31, pciBusId: "00000000:00:1E.0", pid: 12345, message: "Ch 00000003, intr 10000000" },
    },
    {
      name: "oldest driver: neither pid nor name",
      text: "NVRM: Xid (PCI:0000:03:00): 13, 0008 00000000 0000a097 00001980 00000000 00000080",
      want: {
        xid: 13,
        pciBusId: "00000000:03:00.0",
        message: "0008 00000000 0000a097 00001980 00000000 00000080",
      },
    },
    {
      name: "empty driver text, non-zero domain and function",
      text: "kernel: NVRM: Xid (PCI:0001:c1:00.1): 62, pid=7, name=python3, ",
      want: { xid: 62, pciBusId: "00000001:C1:00.1", pid: 7, processName: "python3", message: "" },
    },
    { name: "other NVRM line", text: "NVRM: GPU 0000:91:00.0: GPU has fallen off the bus.", want: undefined },
    {
      name: "Xid mentioned mid-line",
      text: "sshd: user typed NVRM: Xid (PCI:0000:3b:00): 79,",
      want: undefined,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const got = parseXidLine(c.text);
      if (c.want === undefined) return assert.equal(got, undefined);
      assert.deepEqual(got, { kind: "xid", ...c.want });
    });

  it("an Xid head with an unreadable address is an error at its column", () => {
    const text = "[ 1.0] NVRM: Xid (PCI:zz:3b:00): 79, GPU has fallen off the bus.";
    assert.throws(
      () => parseXidLine(text),
      (e: unknown) =>
        e instanceof SyslogParseError && e.code === "xid" && e.column === text.indexOf("PCI:") + 1,
    );
  });

  it("normalizes bus ids to NVML's form", () => {
    assert.equal(normalizePciBusId("0000:3b:00"), "00000000:3B:00.0");
    assert.equal(normalizePciBusId("PCI:0000:3b:00"), "00000000:3B:00.0");
    assert.equal(normalizePciBusId("3b:00.1"), "00000000:3B:00.1");
    assert.equal(normalizePciBusId("00000000:3B:00.0"), "00000000:3B:00.0");
    assert.equal(normalizePciBusId("3b:00.8"), undefined);
  });

  it("the catalog gives meaning and usual action (FACTS.md)", () => {
    assert.deepEqual(xidCatalogEntry(79), {
      meaning: "GPU has fallen off the bus",
      action: "drain, reboot node, hardware inspection",
    });
    assert.equal(xidCatalogEntry(64)?.action, "reset GPU, contact support");
    assert.equal(xidCatalogEntry(147)?.action, "NVLink workflow");
    assert.equal(xidCatalogEntry(999), undefined);
    assert.equal(xidCatalogEntry(Number("toString" as unknown as number)), undefined);
  });
});

// ---- RFC 5424 --------------------------------------------------------------------------------

type Want = Partial<SyslogMessage>;
interface Bad {
  line: string;
  code: SyslogParseError["code"];
  /** The text the error points at (its first occurrence gives the column); "" for the end. */
  at: string;
  reason: RegExp;
  receivedAtMs?: number;
}

function checkBad(c: Bad): void {
  const column = c.at === "" ? c.line.length + 1 : c.line.indexOf(c.at) + 1;
  assert.throws(
    () => parseSyslog(c.line, { receivedAtMs: c.receivedAtMs ?? Date.UTC(2025, 5, 1) }),
    (e: unknown) => {
      assert.ok(e instanceof SyslogParseError, String(e));
      assert.equal(e.code, c.code, e.message);
      assert.equal(e.column, column, e.message);
      assert.match(e.reason, c.reason);
      assert.ok(e.message.endsWith(`at column ${column}`));
      return true;
    },
  );
}

describe("RFC 5424", () => {
  const good: { line: string; want: Want }[] = [
    {
      // RFC 5424 §6.5 example 1, with the BOM it shows.
      line: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
      want: {
        facility: 4,
        severity: 2,
        timestampMs: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
        hostname: "mymachine.example.com",
        appName: "su",
        procId: undefined,
        msgId: "ID47",
        structuredData: [],
        msg: "'su root' failed for lonvick on /dev/pts/8",
      },
    },
    {
      // §6.5 example 2: microseconds and a zone offset.
      line: "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
      want: {
        facility: 20,
        severity: 5,
        timestampMs: Date.UTC(2003, 7, 24, 12, 14, 15) + 0.003,
        hostname: "192.0.2.1",
        appName: "myproc",
        procId: "8710",
        msgId: undefined,
        msg: "%% It's time to make the do-nuts.",
      },
    },
    {
      // §6.5 example 4: two SD elements and no MSG.
      line: '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
      want: {
        structuredData: [
          {
            id: "exampleSDID@32473",
            params: [
              ["iut", "3"],
              ["eventSource", "Application"],
              ["eventID", "1011"],
            ],
          },
          { id: "examplePriority@32473", params: [["class", "high"]] },
        ],
        msg: "",
      },
    },
    {
      // §6.3.3 escapes; a backslash before another character stays.
      line: '<4>1 - - - - - [x@1 a="q\\"b\\\\s\\]e\\n" a="2" empty=""] m',
      want: {
        timestampMs: undefined,
        hostname: undefined,
        appName: undefined,
        structuredData: [
          {
            id: "x@1",
            params: [
              ["a", 'q"b\\s]e\\n'],
              ["a", "2"],
              ["empty", ""],
            ],
          },
        ],
        msg: "m",
      },
    },
    {
      line: "<0>1 2025-01-21T02:21:33Z h a p m -",
      want: { facility: 0, severity: 0, timestampMs: Date.UTC(2025, 0, 21, 2, 21, 33), msg: "" },
    },
    {
      line: "<4>1 2024-02-29T23:59:59.5+05:30 r01-dgx1 kernel - - - NVRM: Xid",
      want: { timestampMs: Date.UTC(2024, 1, 29, 18, 29, 59, 500), msg: "NVRM: Xid" },
    },
  ];
  for (const [i, c] of good.entries())
    it(`reads valid line ${i + 1}`, () => {
      const m = parseSyslog(c.line);
      assert.equal(m.format, "rfc5424");
      for (const [key, value] of Object.entries(c.want))
        assert.deepEqual(m[key as keyof SyslogMessage], value, key);
    });

  const bad: Bad[] = [
    { line: "", code: "empty", at: "", reason: /empty/ },
    { line: "34>1 - h a p m -", code: "pri", at: "34", reason: /expected '<'/ },
    { line: "<>1 - h a p m -", code: "pri", at: ">", reason: /1-3 digits/ },
    { line: "<1234>1 - h a p m -", code: "pri", at: "1234", reason: /1-3 digits/ },
    { line: "<192>1 - h a p m -", code: "pri", at: "192", reason: /192 out of range 0-191/ },
    { line: "<34>2 - h a p m -", code: "version", at: "2 ", reason: /unsupported VERSION 2/ },
    { line: "<34>1 2003-10-11 22:14:15Z h a p m -", code: "timestamp", at: "2003", reason: /RFC 3339/ },
    { line: "<34>1 2003-10-11t22:14:15z h a p m -", code: "timestamp", at: "2003", reason: /RFC 3339/ },
    {
      line: "<34>1 2003-10-11T22:14:15.1234567Z h a p m -",
      code: "timestamp",
      at: "2003",
      reason: /RFC 3339/,
    },
    {
      line: "<34>1 2003-13-11T22:14:15Z h a p m -",
      code: "timestamp",
      at: "13",
      reason: /month 13 out of range/,
    },
    {
      line: "<34>1 2003-02-29T22:14:15Z h a p m -",
      code: "timestamp",
      at: "29",
      reason: /day 29 out of range 1-28/,
    },
    { line: "<34>1 2003-10-11T22:14:60Z h a p m -", code: "timestamp", at: "60", reason: /second 60/ },
    { line: "<34>1 2003-10-11T22:14:15+24:00 h a p m -", code: "timestamp", at: "24:", reason: /zone hour/ },
    { line: "<34>1 -  a p m -", code: "hostname", at: " a", reason: /expected HOSTNAME/ },
    { line: "<34>1 - hé a p m -", code: "hostname", at: "é", reason: /not printable US-ASCII/ },
    {
      line: `<34>1 - h ${"a".repeat(49)} p m -`,
      code: "app-name",
      at: "aaa",
      reason: /49 characters, at most 48/,
    },
    { line: `<34>1 - h a p ${"m".repeat(33)} -`, code: "msgid", at: "mmm", reason: /at most 32/ },
    { line: "<34>1 - h a p", code: "msgid", at: "", reason: /expected SP before MSGID/ },
    { line: "<34>1 - h a p m", code: "structured-data", at: "", reason: /SP before STRUCTURED-DATA/ },
    { line: "<34>1 - h a p m x", code: "structured-data", at: "x", reason: /NILVALUE '-' or '\['/ },
    { line: "<34>1 - h a p m -x", code: "structured-data", at: "x", reason: /SP or end after/ },
    { line: "<34>1 - h a p m [x", code: "structured-data", at: "", reason: /' ' or '\]'/ },
    { line: "<34>1 - h a p m [] m", code: "structured-data", at: "]", reason: /expected SD-ID/ },
    { line: "<34>1 - h a p m [x a=b]", code: "structured-data", at: "b]", reason: /'"' to open PARAM-VALUE/ },
    { line: '<34>1 - h a p m [x a="b]', code: "structured-data", at: '"', reason: /no closing/ },
    {
      line: '<34>1 - h a p m [x a="1"][x b="2"]',
      code: "structured-data",
      at: "x b",
      reason: /SD-ID "x" repeated/,
    },
    {
      line: `<34>1 - h a p m [${"s".repeat(33)}]`,
      code: "structured-data",
      at: "sss",
      reason: /longer than 32/,
    },
  ];
  for (const c of bad)
    it(`rejects ${JSON.stringify(c.line.slice(0, 48))}: ${c.reason.source}`, () => checkBad(c));
});

// ---- RFC 3164 --------------------------------------------------------------------------------

describe("RFC 3164", () => {
  const jun2025 = Date.UTC(2025, 5, 1);
  const good: { line: string; want: Want; receivedAtMs?: number; offset?: number }[] = [
    {
      // RFC 3164 §5.4 example 1.
      line: "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      want: {
        format: "rfc3164",
        facility: 4,
        severity: 2,
        timestampMs: Date.UTC(2024, 9, 11, 22, 14, 15), // the last Oct 11 before 1 June 2025
        hostname: "mymachine",
        appName: "su",
        procId: undefined,
        msg: "'su root' failed for lonvick on /dev/pts/8",
      },
    },
    {
      // §5.4 example 2: day padded with a space, no TAG.
      line: "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
      want: {
        hostname: "10.0.0.99",
        appName: undefined,
        msg: "Use the BFG!",
        timestampMs: Date.UTC(2025, 1, 5, 17, 32, 18),
      },
    },
    {
      line: "<4>Jan 5 02:21:33 r01-dgx1 kernel: NVRM: Xid",
      want: {
        timestampMs: Date.UTC(2025, 0, 5, 2, 21, 33),
        hostname: "r01-dgx1",
        appName: "kernel",
        msg: "NVRM: Xid",
      },
    },
    {
      line: "<4>Jan 21 02:21:33 kernel: NVRM: Xid",
      want: { hostname: undefined, appName: "kernel", msg: "NVRM: Xid" },
    },
    {
      line: "<30>Jun  1 00:00:00 gpu-001 nvidia-persistenced[2201]: Started",
      want: { hostname: "gpu-001", appName: "nvidia-persistenced", procId: "2201", msg: "Started" },
    },
    { line: "<30>Jun  1 00:00:00 gpu-001 sshd[42]:", want: { appName: "sshd", procId: "42", msg: "" } },
    { line: "<30>Jun  1 00:00:00", want: { hostname: undefined, msg: "" } },
    {
      // rsyslog RSYSLOG_ForwardFormat: RFC 3339 time in a BSD line.
      line: "<4>2025-01-21T02:21:33.498559+00:00 r01-dgx1 kernel: NVRM: Xid",
      want: {
        timestampMs: Date.UTC(2025, 0, 21, 2, 21, 33, 498) + 0.559,
        hostname: "r01-dgx1",
        appName: "kernel",
      },
    },
    {
      line: "<4>2025-01-21T04:21:33+0200 h t: m",
      want: { timestampMs: Date.UTC(2025, 0, 21, 2, 21, 33), msg: "m" },
    },
    {
      line: "<4>Dec 31 23:59:58 h t: m",
      receivedAtMs: Date.UTC(2026, 0, 1, 0, 0, 5),
      want: { timestampMs: Date.UTC(2025, 11, 31, 23, 59, 58) },
    },
    {
      line: "<4>Jan  1 00:00:01 h t: m",
      receivedAtMs: Date.UTC(2025, 11, 31, 23, 59, 59),
      want: { timestampMs: Date.UTC(2026, 0, 1, 0, 0, 1) },
    },
    {
      line: "<4>Feb 29 12:00:00.250 h t: m",
      receivedAtMs: Date.UTC(2024, 2, 1),
      want: { timestampMs: Date.UTC(2024, 1, 29, 12, 0, 0, 250) },
    },
    {
      line: "<4>Jan 21 02:21:33 h t: m",
      offset: 120,
      want: { timestampMs: Date.UTC(2025, 0, 21, 0, 21, 33) },
    },
  ];
  for (const [i, c] of good.entries())
    it(`reads valid line ${i + 1}`, () => {
      const m = parseSyslog(c.line, {
        receivedAtMs: c.receivedAtMs ?? jun2025,
        rfc3164UtcOffsetMinutes: c.offset ?? 0,
      });
      assert.equal(m.format, "rfc3164");
      for (const [key, value] of Object.entries(c.want))
        assert.deepEqual(m[key as keyof SyslogMessage], value, key);
    });

  const bad: Bad[] = [
    { line: "<4>Foo 21 02:21:33 h t: m", code: "timestamp", at: "Foo", reason: /unknown month "Foo"/ },
    { line: "<4>Jan 32 02:21:33 h t: m", code: "timestamp", at: "32", reason: /day 32 out of range 1-31/ },
    { line: "<4>Apr 31 02:21:33 h t: m", code: "timestamp", at: "31", reason: /day 31 out of range 1-30/ },
    { line: "<4>Jan 21 25:21:33 h t: m", code: "timestamp", at: "25", reason: /hour 25/ },
    { line: "<4>Jan 21 02:61:33 h t: m", code: "timestamp", at: "61", reason: /minute 61/ },
    { line: "<4>Jan 21 02:21 h t: m", code: "timestamp", at: "Jan", reason: /BSD time/ },
    { line: "<4>hello world", code: "timestamp", at: "hello", reason: /BSD time/ },
    { line: "<4>", code: "timestamp", at: "", reason: /BSD time/ },
    {
      line: "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat 10.1.2.3 sched[0]: x",
      code: "timestamp",
      at: "1990",
      reason: /RFC 3339/,
    },
    { line: "<4>2025-01-21 02:21:33 h t: m", code: "timestamp", at: "2025", reason: /RFC 3339/ },
    { line: "<4>Jan 21 02:21:33x h t: m", code: "header", at: "x", reason: /SP after TIMESTAMP/ },
    { line: "<4>Jan 21 02:21:33  h t: m", code: "hostname", at: " h", reason: /HOSTNAME or TAG/ },
    { line: "<4>Jan 21 02:21:33 h\u0001st t: m", code: "hostname", at: "\u0001", reason: /not printable/ },
    {
      line: "<4>Feb 29 02:21:33 h t: m",
      receivedAtMs: Date.UTC(2026, 6, 1),
      code: "timestamp",
      at: "29",
      reason: /February/,
    },
  ];
  for (const c of bad)
    it(`rejects ${JSON.stringify(c.line.slice(0, 48))}: ${c.reason.source}`, () => checkBad(c));
});

// ---- TCP framing (RFC 6587) --------------------------------------------------------------------

describe("frame decoder", () => {
  function decode(chunks: Buffer[], max = 64): { frames: string[]; drops: string[] } {
    const frames: string[] = [];
    const drops: string[] = [];
    const d = createFrameDecoder(max, {
      frame: (b) => frames.push(b.toString()),
      drop: (r) => drops.push(r),
    });
    for (const c of chunks) d.push(c);
    d.end();
    assert.equal(d.pendingBytes, 0);
    return { frames, drops };
  }
  const a = "<4>1 - h a - - - one\ntwo"; // an LF inside an octet-counted message is data
  const stream = Buffer.from(
    `${Buffer.byteLength(a)} ${a}<4>Jan  1 00:00:00 h t: lf\r\n\n<4>é\n40 <4>1 - - - -`,
  );

  it("splits both framings, auto-detected per message, whatever the segment boundaries", () => {
    const want = { frames: [a, "<4>Jan  1 00:00:00 h t: lf", "<4>é"], drops: ["truncated"] };
    assert.deepEqual(decode([stream]), want);
    for (let cut = 1; cut < stream.length; cut++)
      assert.deepEqual(decode([stream.subarray(0, cut), stream.subarray(cut)]), want, `cut at ${cut}`);
    assert.deepEqual(decode([...stream].map((b) => Buffer.from([b]))), want, "a byte at a time");
  });

  it("skips an oversize message of either framing and goes on with the next", () => {
    const big = "x".repeat(100);
    const input = Buffer.from(`${big.length} ${big}<4>ok\n${big}\n<4>ok2\n<4>${big}`);
    assert.deepEqual(decode([input]), {
      frames: ["<4>ok", "<4>ok2"],
      drops: ["oversize", "oversize", "oversize"],
    });
    for (let cut = 1; cut < input.length; cut += 7)
      assert.deepEqual(decode([input.subarray(0, cut), input.subarray(cut)]).frames, ["<4>ok", "<4>ok2"]);
  });

  it("takes a last LF-framed line without its LF, and digits without SP as a line", () => {
    assert.deepEqual(decode([Buffer.from("<4>a\n<4>b")]), { frames: ["<4>a", "<4>b"], drops: [] });
    assert.deepEqual(decode([Buffer.from("123x\n")]), { frames: ["123x"], drops: [] });
  });
});
