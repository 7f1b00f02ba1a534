/**
 * The exposition parser against real captures (with promtool, Prometheus' own text parser, as the
 * oracle where it is installed), a table of malformed pages with their `LINE:COL: reason`,
 * hostile pages, and property tests: random valid pages round-trip, mutated pages never crash.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  createExpositionScanner,
  type ExpositionFormat,
  type ExpositionVisitor,
  type Family,
  formatFromContentType,
  labelValue,
  ParseError,
  parseExposition,
  renderExposition,
  type ScanOptions,
  type ScanResult,
  scanExposition,
} from "../src/exposition/index.ts";

const FIXTURES = fileURLToPath(new URL("../../../../shared/data/fixtures/", import.meta.url));
const read = (rel: string) => readFileSync(`${FIXTURES}${rel}`, "utf8");

const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
/** promtool's verdict: true when its parser (expfmt) reads the page; lint findings are not errors. */
function promtoolAccepts(page: string): boolean {
  const r = spawnSync("promtool", ["check", "metrics"], { input: page });
  return r.status === 0 || r.status === 3; // 3: parsed, with lint findings only
}

// Every Prometheus page among the captures. Not pages, so not here: fixtures/dcgm/*.csv (the
// exporter's counter lists), and fixtures/ib, nvidia-smi, slurm, xid (other tools' outputs).
const CAPTURES: { file: string; samples: number; check: (fs: Family[]) => void }[] = [
  {
    file: "dcgm/datadog-dcgm-exporter-T4-mixed.prom",
    samples: 38,
    check: (fs) => {
      const power = fs.find((f) => f.name === "DCGM_FI_DEV_POWER_USAGE")!;
      assert.equal(power.type, "gauge");
      assert.equal(power.help, "Power draw (in W).");
      assert.equal(power.samples[0]!.value, 8.969);
      assert.equal(labelValue(power.samples[0]!.labels, "modelName"), "Tesla T4");
    },
  },
  {
    file: "dcgm/nvidia-cloud-native-docs-dcgm-exporter-A100-MIG-excerpt.prom",
    samples: 21,
    check: (fs) => {
      const power = fs.find((f) => f.name === "DCGM_FI_DEV_POWER_USAGE")!;
      assert.equal(power.type, "untyped"); // the excerpt has no # TYPE lines
      assert.equal(power.samples[0]!.value, 409.692);
      assert.equal(labelValue(power.samples[0]!.labels, "Hostname"), "ub20-a100-k8s");
    },
  },
  {
    file: "vllm/datadog-vllm-metrics-opt-125m.prom",
    samples: 185,
    check: (fs) => {
      const prompt = fs.find((f) => f.name === "vllm:prompt_tokens_total")!;
      assert.equal(prompt.type, "counter");
      const ttft = fs.find((f) => f.name === "vllm:time_to_first_token_seconds")!;
      assert.equal(ttft.type, "histogram");
      assert.ok(
        ttft.samples.some((s) => s.name.endsWith("_bucket") && labelValue(s.labels, "le") === "+Inf"),
      );
    },
  },
  {
    file: "vllm/sglang-docs-metrics-llama3.1-8b-light.prom",
    samples: 91,
    check: (fs) =>
      assert.equal(fs.find((f) => f.name === "sglang:prompt_tokens_total")!.samples[0]!.value, 7),
  },
  {
    file: "vllm/sglang-docs-metrics-llama3.1-8b-under-load.prom",
    samples: 91,
    check: (fs) => assert.equal(fs.find((f) => f.name === "sglang:num_queue_reqs")!.samples[0]!.value, 2826),
  },
];

/** An independent reading: every line that is not blank and not a comment is one sample. */
const sampleLines = (page: string) =>
  page.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")).length;

describe("real captures", () => {
  for (const c of CAPTURES) {
    it(`parses fixtures/${c.file}`, () => {
      const page = read(c.file);
      const { families } = parseExposition(page);
      const n = families.reduce((a, f) => a + f.samples.length, 0);
      assert.equal(n, c.samples);
      assert.equal(n, sampleLines(page));
      c.check(families);
    });
    it(`agrees with promtool on fixtures/${c.file}`, {
      skip: !hasPromtool && "promtool not installed",
    }, () => {
      // expfmt wants a final LF; two captures lack it (see their SOURCE.md), Prometheus' scraper adds one.
      const page = read(c.file);
      assert.ok(promtoolAccepts(page.endsWith("\n") ? page : `${page}\n`));
    });
  }
});

describe("formatFromContentType", () => {
  const cases: [string | undefined, ExpositionFormat][] = [
    ["application/openmetrics-text; version=1.0.0; charset=utf-8", "openmetrics"],
    ["application/openmetrics-text", "openmetrics"],
    ["Application/OpenMetrics-Text;version=0.0.1", "openmetrics"],
    ["application/openmetrics-text; version=2.0.0", "prometheus"],
    ["text/plain; version=0.0.4; charset=utf-8", "prometheus"],
    ["text/html", "prometheus"],
    [undefined, "prometheus"],
  ];
  for (const [header, want] of cases)
    it(String(header), () => assert.equal(formatFromContentType(header), want));
});

describe("grammar", () => {
  it("reads escapes, empty label sets, trailing commas, blanks and special floats (0.0.4)", () => {
    const page = [
      "# HELP a Help with \\\\ and \\n.",
      "# TYPE a gauge",
      'a{x="q\\"\\\\\\n",} -Inf 1700000000000',
      "a{} NaN",
      ' \ta { y = "1" }\t1e+09  ',
      "# a plain comment",
      "",
      "vllm:prompt_tokens_total .5",
    ].join("\n");
    const { families } = parseExposition(page);
    const a = families[0]!;
    assert.equal(a.help, "Help with \\ and \n.");
    assert.deepEqual(a.samples[0], {
      name: "a",
      labels: ["x", 'q"\\\n'],
      value: -Infinity,
      timestampMs: 1700000000000,
    });
    assert.ok(Number.isNaN(a.samples[1]!.value));
    assert.deepEqual(a.samples[2]!.labels, ["y", "1"]);
    assert.equal(a.samples[2]!.value, 1e9);
    assert.equal(families[1]!.samples[0]!.value, 0.5);
  });

  it("reads OpenMetrics units, exemplars, _created and second timestamps", () => {
    const page = [
      "# TYPE req_seconds histogram",
      "# UNIT req_seconds seconds",
      '# HELP req_seconds Latency \\"quoted\\".',
      'req_seconds_bucket{le="0.5"} 3 1.6e9 # {trace_id="x"} 0.25 1600000000.5',
      'req_seconds_bucket{le="+Inf"} 4',
      "req_seconds_count 4",
      "req_seconds_sum 1.5",
      "req_seconds_created 1.6e9",
      "# TYPE tokens counter",
      "tokens_total 7 # {} 1",
      "# EOF",
    ].join("\n");
    const { families } = parseExposition(page, { format: "openmetrics" });
    const h = families[0]!;
    assert.deepEqual([h.type, h.unit, h.help], ["histogram", "seconds", 'Latency "quoted".']);
    assert.deepEqual(h.samples[0], {
      name: "req_seconds_bucket",
      labels: ["le", "0.5"],
      value: 3,
      timestampMs: 1.6e12,
      exemplar: { labels: ["trace_id", "x"], value: 0.25, timestampMs: 1600000000500 },
    });
    assert.equal(families[1]!.samples[0]!.exemplar!.value, 1);
  });

  it("merges a 0.0.4 family that comes back later, as expfmt does", () => {
    const { families } = parseExposition('a 1\nb 2\na{x="y"} 3\n');
    assert.deepEqual(
      families.map((f) => [f.name, f.samples.length]),
      [
        ["a", 2],
        ["b", 1],
      ],
    );
  });

  it("hands the visitor one reused record per sample", () => {
    const seen: string[] = [];
    createExpositionScanner().scan('x{a="1"} 1\ny 2\n', {
      sample: (s) => seen.push(`${s.family}:${s.labels.slice(0, 2 * s.labelCount).join("=")}:${s.value}`),
    });
    assert.deepEqual(seen, ["x:a=1:1", "y::2"]);
  });
});

// Each: format, page, the expected `LINE:COL: reason`.
const MALFORMED: [ExpositionFormat, string, string][] = [
  ["prometheus", "a{b=1} 1\n", `1:5: expected '"' to start the value of label "b"`],
  ["prometheus", 'a{b="1" c="2"} 1\n', '1:9: expected "," or "}" after a label value, found "c"'],
  ["prometheus", 'a{b="1",b="2"} 1\n', '1:9: duplicate label name "b"'],
  ["prometheus", 'a{__name__="x"} 1\n', '1:3: label name "__name__" is reserved'],
  ["prometheus", 'a{1b="1"} 1\n', '1:3: expected a label name, found "1"'],
  ["prometheus", 'a{b="1\n', '1:5: unterminated value of label "b"'],
  ["prometheus", 'a{b="\\q"} 1\n', '1:6: invalid escape sequence "\\\\q"'],
  ["prometheus", "1a 1\n", '1:1: expected a metric name, found "1"'],
  ["prometheus", "a=1 1\n", '1:2: unexpected "=" after metric name "a"'],
  ["prometheus", "a\n", '1:2: expected a value for "a"'],
  ["prometheus", "a 0x10\n", '1:3: invalid value "0x10"'],
  ["prometheus", "a 1_000\n", '1:3: invalid value "1_000"'],
  ["prometheus", "a 1e400\n", '1:3: invalid value "1e400"'],
  ["prometheus", "a +nan\n", '1:3: invalid value "+nan"'],
  ["prometheus", "a 1 1.5\n", '1:5: invalid timestamp "1.5"'],
  ["prometheus", "a 1 2 3\n", '1:7: unexpected "3" after the timestamp'],
  ["prometheus", "a 1\r\nb 2\r\n", "1:4: carriage return in line (lines must end with LF only)"],
  [
    "prometheus",
    "# TYPE a gauge\na 1\n# TYPE a gauge\n",
    '3:8: second TYPE line for metric family "a", or TYPE after its samples',
  ],
  ["prometheus", "# HELP a x\n# HELP a y\n", '2:8: second HELP line for metric family "a"'],
  ["prometheus", "# TYPE a gauges\n", '1:10: unknown metric type "gauges"'],
  ["prometheus", "# HELP a x\\qy\n", '1:11: invalid escape sequence "\\\\q"'],
  [
    "prometheus",
    '# TYPE h histogram\nh_bucket{le="x"} 1\n',
    '2:1: "le" label value "x" of "h_bucket" is not a number',
  ],
  ["prometheus", "<html><body>502 Bad Gateway</body></html>\n", '1:1: expected a metric name, found "<"'],
  ["openmetrics", "a 1\n", '2:1: OpenMetrics page does not end with "# EOF"'],
  ["openmetrics", "a 1\n# EOF\n\n", '3:1: text after "# EOF"'],
  ["openmetrics", "# EOF\na 1\n", '2:1: text after "# EOF"'],
  ["openmetrics", "a 1\n\n# EOF\n", "2:1: empty line"],
  [
    "openmetrics",
    "# hello\n# EOF\n",
    '1:1: only "# HELP", "# TYPE", "# UNIT" and "# EOF" lines may start with "#" in OpenMetrics',
  ],
  ["openmetrics", 'a{b="1",} 1\n# EOF\n', "1:8: trailing comma in label set"],
  ["openmetrics", "a  1\n# EOF\n", '1:3: invalid value ""'],
  ["openmetrics", "a 1 \n# EOF\n", "1:5: expected a timestamp after the space"],
  [
    "openmetrics",
    "# TYPE a counter\na 1\n# EOF\n",
    '2:1: sample "a" does not fit counter family "a" (expected "a_total", "a_created")',
  ],
  ["openmetrics", "a 1\nb 1\na 2\n# EOF\n", '3:1: metric family "a" appears again after other families'],
  [
    "openmetrics",
    "# TYPE c counter\nc_total 1\nb 1\nc_created 2\n# EOF\n",
    '4:1: metric family "c" appears again after other families',
  ],
  ["openmetrics", "a 1\n# HELP a x\n# EOF\n", '2:1: HELP for metric family "a" after its samples'],
  ["openmetrics", "# TYPE a gauge\n# TYPE a gauge\n# EOF\n", '2:1: second TYPE line for metric family "a"'],
  ["openmetrics", "# TYPE a info\n# TYPE b bogus\n# EOF\n", '2:10: unknown metric type "bogus"'],
  [
    "openmetrics",
    "# UNIT a_bytes seconds\n# EOF\n",
    '1:16: unit "seconds" is not a suffix of metric family "a_bytes"',
  ],
  [
    "openmetrics",
    '# TYPE g gauge\ng 1 # {a="b"} 1\n# EOF\n',
    '2:5: exemplar on gauge sample "g": only counter _total and histogram _bucket samples carry exemplars',
  ],
  ["openmetrics", "# TYPE h histogram\nh_bucket 1\n# EOF\n", '2:1: "h_bucket" has no "le" label'],
  ["openmetrics", "# TYPE s summary\ns 1\n# EOF\n", '2:1: "s" has no "quantile" label'],
  ["openmetrics", "a 1 -Inf\n# EOF\n", '1:5: invalid timestamp "-Inf"'],
  [
    "openmetrics",
    `# TYPE c counter\nc_total 1 # {a="${"x".repeat(130)}"} 1\n# EOF\n`,
    "2:148: exemplar labels longer than 128 characters",
  ],
];

describe("malformed pages", () => {
  for (const [format, page, want] of MALFORMED) {
    it(`${format}: ${want}`, () => {
      assert.throws(
        () => parseExposition(page, { format }),
        (e: unknown) => e instanceof ParseError && e.message === want,
      );
    });
  }
  it("agrees with promtool on the 0.0.4 cases", { skip: !hasPromtool && "promtool not installed" }, () => {
    for (const [format, page] of MALFORMED)
      if (format === "prometheus") assert.equal(promtoolAccepts(page), false, page);
  });
});

describe("hostile pages", () => {
  it("a 1 MB line is refused at the limit", () => {
    const page = `a{b="${"x".repeat(1 << 20)}"} 1\n`;
    assert.throws(() => parseExposition(page), { message: "1:65537: line is longer than 65536 characters" });
    assert.equal(parseExposition(page, { maxLineLength: 2 << 20 }).families[0]!.samples.length, 1);
  });
  it("too many samples is refused at the first one past the limit", () => {
    const page = "a 1\n".repeat(1001);
    assert.throws(() => parseExposition(page, { maxSamples: 1000 }), {
      message: "1001:1: more than 1000 samples on the page",
    });
  });
  it("200,000 samples parse under the default limit, and one more does not", () => {
    assert.equal(parseExposition("a 1\n".repeat(200_000)).families[0]!.samples.length, 200_000);
    assert.throws(() => parseExposition('a{b="c"} 1\n'.repeat(200_001)), {
      message: "200001:1: more than 200000 samples on the page",
    });
  });
});

// Generators for valid pages.
const name = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,12}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/).filter((n) => n !== "__name__");
const labelValueArb = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !/[\uD800-\uDFFF]/.test(s));
const value = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 1e9, 1e-9),
  fc.integer({ min: -1e6, max: 1e6 }),
);
const labels = fc
  .uniqueArray(fc.tuple(labelName, labelValueArb), { maxLength: 4, selector: (t) => t[0] })
  .map((ps) => ps.flat());
const tsMs = fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: undefined });

function familiesArb(format: ExpositionFormat): fc.Arbitrary<Family[]> {
  const om = format === "openmetrics";
  const family = fc.record({
    name,
    type: fc.constantFrom(
      ...(om ? (["gauge", "counter", "unknown"] as const) : (["gauge", "counter", "untyped"] as const)),
    ),
    help: fc.option(
      fc.string({ maxLength: 20 }).filter((s) => !/[\uD800-\uDFFF]/.test(s)),
      { nil: undefined },
    ),
    samples: fc.array(
      fc.record({
        labels,
        value,
        timestampMs: tsMs,
        exemplar: om
          ? fc.option(
              fc.record({ labels: labels.filter((l) => l.join("").length <= 128), value, timestampMs: tsMs }),
              { nil: undefined },
            )
          : fc.constant(undefined),
      }),
      { maxLength: 4 },
    ),
  });
  return fc.uniqueArray(family, { maxLength: 5, selector: (f) => f.name }).map((fs) =>
    fs.map((f) => {
      const sampleName = om && f.type === "counter" ? `${f.name}_total` : f.name;
      const out: Family = {
        name: f.name,
        type: f.type,
        samples: f.samples.map((s) => {
          const r: Family["samples"][number] = { name: sampleName, labels: s.labels, value: s.value };
          if (s.timestampMs !== undefined) r.timestampMs = s.timestampMs;
          if (s.exemplar && f.type === "counter") {
            r.exemplar = { labels: s.exemplar.labels, value: s.exemplar.value };
            if (s.exemplar.timestampMs !== undefined) r.exemplar.timestampMs = s.exemplar.timestampMs;
          }
          return r;
        }),
      };
      if (f.help !== undefined) out.help = f.help;
      return out;
    }),
  );
}

/**
 * What 0.0.4 can carry of `fs`: HELP text loses its leading blanks and an empty one is no HELP
 * (expfmt ignores `# HELP name` with nothing after), and a family with nothing to say is no family.
 */
function clean(fs: Family[]): Family[] {
  return fs
    .map((f): Family => {
      const help = f.help?.replace(/^[ \t]+/, "");
      const { help: _, ...rest } = f;
      return help ? { ...rest, help } : rest;
    })
    .filter((f) => f.samples.length > 0 || f.help !== undefined || f.type !== "untyped");
}

describe("properties", () => {
  for (const format of ["prometheus", "openmetrics"] as const) {
    it(`${format}: random valid pages round-trip`, () => {
      fc.assert(
        fc.property(familiesArb(format), (fs) => {
          const want = format === "prometheus" ? clean(fs) : fs;
          const page = renderExposition(want, format);
          assert.deepStrictEqual(parseExposition(page, { format }).families, want);
        }),
        { numRuns: 300 },
      );
    });
  }

  it("prometheus: promtool accepts the rendered pages", {
    skip: !hasPromtool && "promtool not installed",
  }, () => {
    fc.assert(
      fc.property(familiesArb("prometheus"), (fs) => {
        assert.ok(promtoolAccepts(renderExposition(clean(fs), "prometheus")));
      }),
      { numRuns: 25 },
    );
  });

  for (const format of ["prometheus", "openmetrics"] as const) {
    it(`${format}: mutated pages parse or fail with a position inside the input`, () => {
      const base = renderExposition(
        parseExposition(read("vllm/sglang-docs-metrics-llama3.1-8b-light.prom")).families,
        format,
      );
      const edit = fc.oneof(
        fc.record({
          kind: fc.constant("flip" as const),
          at: fc.nat(),
          ch: fc.integer({ min: 0, max: 0x7f }),
        }),
        fc.record({
          kind: fc.constant("insert" as const),
          at: fc.nat(),
          ch: fc.constantFrom(...'{}",=# \n\\eE.+-'),
        }),
        fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), ch: fc.constant(0) }),
      );
      fc.assert(
        fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
          let page = base;
          for (const e of edits) {
            const at = e.at % (page.length + 1);
            if (e.kind === "truncate") page = page.slice(0, at);
            else if (e.kind === "insert") page = page.slice(0, at) + e.ch + page.slice(at);
            else page = page.slice(0, at) + String.fromCharCode(e.ch as number) + page.slice(at + 1);
          }
          try {
            parseExposition(page, { format });
          } catch (err) {
            assert.ok(err instanceof ParseError, String(err));
            const lines = page.split("\n");
            assert.ok(err.line >= 1 && err.line <= lines.length, err.message);
            assert.ok(err.col >= 1 && err.col <= lines[err.line - 1]!.length + 1, err.message);
          }
        }),
        { numRuns: 2000 },
      );
    });
  }
});

/** Everything a visitor sees of `page`, then the result or the error, as lines to compare. */
function transcript(scan: (page: string, v: ExpositionVisitor) => ScanResult, page: string): string[] {
  const out: string[] = [];
  const v: ExpositionVisitor = {
    help: (f, text, line) => out.push(`${line} help ${f} ${JSON.stringify(text)}`),
    type: (f, type, line) => out.push(`${line} type ${f} ${type}`),
    unit: (f, unit, line) => out.push(`${line} unit ${f} ${unit}`),
    sample: (s) => {
      const labels = JSON.stringify(s.labels.slice(0, 2 * s.labelCount));
      let e = "";
      if (s.hasExemplar) {
        const el = JSON.stringify(s.exemplarLabels.slice(0, 2 * s.exemplarLabelCount));
        e = ` # ${el} ${Object.is(s.exemplarValue, -0) ? "-0" : s.exemplarValue} ${s.exemplarTimestampMs}`;
      }
      const value = Object.is(s.value, -0) ? "-0" : String(s.value);
      out.push(`${s.line} ${s.type} ${s.family} ${s.name} ${labels} ${value} ${s.timestampMs}${e}`);
    },
  };
  try {
    out.push(JSON.stringify(scan(page, v)));
  } catch (err) {
    assert.ok(err instanceof ParseError, String(err));
    out.push(err.message);
  }
  return out;
}

/** Asserts that one scanner reads each of `pages` in turn exactly as a fresh scanner reads it. */
function assertReusedAsFresh(pages: string[], options: ScanOptions): void {
  const reused = createExpositionScanner(options);
  for (const page of pages) {
    const want = transcript((p, v) => scanExposition(p, v, options), page);
    assert.deepStrictEqual(
      transcript((p, v) => reused.scan(p, v), page),
      want,
      page,
    );
  }
}

describe("a scanner kept across scrapes", () => {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), ch: fc.integer({ min: 0, max: 0x7f }) }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      ch: fc.constantFrom(...'{}",=# \n\\eE.+-_0'),
    }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), ch: fc.constant(0) }),
    fc.record({ kind: fc.constant("dropLine" as const), at: fc.nat(), ch: fc.constant(0) }),
  );
  const mutate = (page: string, edits: { kind: string; at: number; ch: number | string }[]): string => {
    for (const e of edits) {
      const at = e.at % (page.length + 1);
      if (e.kind === "truncate") page = page.slice(0, at);
      else if (e.kind === "insert") page = page.slice(0, at) + e.ch + page.slice(at);
      else if (e.kind === "flip")
        page = page.slice(0, at) + String.fromCharCode(e.ch as number) + page.slice(at + 1);
      else {
        const lines = page.split("\n");
        lines.splice(e.at % lines.length, 1);
        page = lines.join("\n");
      }
    }
    return page;
  };

  for (const format of ["prometheus", "openmetrics"] as const) {
    for (const file of [
      "dcgm/datadog-dcgm-exporter-T4-mixed.prom",
      "vllm/datadog-vllm-metrics-opt-125m.prom",
    ]) {
      it(`${format}: reads mutations of ${file} as a fresh scanner does`, () => {
        const raw = read(file);
        const base = format === "prometheus" ? raw : renderExposition(parseExposition(raw).families, format);
        fc.assert(
          fc.property(
            fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
            (scrapes) =>
              assertReusedAsFresh([base, ...scrapes.map((edits) => mutate(base, edits)), base], { format }),
          ),
          { numRuns: 150 },
        );
      });
    }

    it(`${format}: reads a sequence of random valid pages as a fresh scanner does`, () => {
      const page = familiesArb(format).map((fs) =>
        renderExposition(format === "prometheus" ? clean(fs) : fs, format),
      );
      fc.assert(
        fc.property(fc.array(page, { minLength: 2, maxLength: 5 }), (pages) =>
          assertReusedAsFresh(pages, { format }),
        ),
        { numRuns: 200 },
      );
    });
  }

  it("tells apart lines that only begin as the last scrape's did", () => {
    const pages = [
      '# HELP a A.\n# TYPE a counter\na 1\nb{x="1"} 2\nc 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n',
      '# HELP a A!\n# TYPE a gauge\nab 1\nb{x="1",y="2"} 2\nc{z="1"} 3\n# TYPE h summary\nh_bucket{le="1"} 1\nh_count 1\n',
      '# HELP a A.\n# TYPE a counter\na 1\nb{x="1"} 2\nc 3\n# TYPE h histogram\nh_bucket{le="x"} 1\nh_count 1\n',
      '# HELP a A.\n# TYPE a counter\na 1\nb{x="1"} 2\nc 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n',
      "# HELP a A.\n# HELP a A.\n",
      "c 1\nc 2\nd 1\nc 3\n",
      "c 1\nd 2\nd 1\nc 3\n",
      // A suffixed sample that started its own family, and then joins an earlier histogram.
      'y 1\nx 1\nh_bucket{le="1"} 1\n',
      '# TYPE h histogram\nx 1\nh_bucket{le="1"} 1\n',
    ];
    assertReusedAsFresh(pages, {});
    assertReusedAsFresh([...pages, ...pages.reverse()], {});
    const om = [
      "# TYPE a counter\na_total 1\n# TYPE b gauge\nb 1\n# EOF\n",
      "# TYPE b gauge\nb 1\n# TYPE a counter\na_total 1\n# EOF\n",
      "# TYPE a counter\na_total 1\n# TYPE a counter\n# EOF\n",
      "# TYPE a counter\na_total 1\nb 1\na_created 1\n# EOF\n",
      "# TYPE a counter\na_total 1\n# TYPE b gauge\nb 1\n# EOF\n",
      // Metadata of a family that was new last time, and is now back after another one.
      "x 1\ny 1\n# TYPE a gauge\na 1\n# EOF\n",
      "a 1\nb 1\n# TYPE a gauge\na 1\n# EOF\n",
    ];
    assertReusedAsFresh([...om, ...om], { format: "openmetrics" });
  });

  it("keeps what it remembers of a page bounded", () => {
    const big = `${'a{b="'.concat("x".repeat(60_000), '"} 1\n').repeat(100)}`;
    const s = createExpositionScanner();
    for (let i = 0; i < 3; i++) assert.equal(s.scan(big, { sample: () => {} }).samples, 100);
  });
});
