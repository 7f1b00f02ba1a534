// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${hall}-style names are the format's own syntax
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  factorySchema,
  formatPath,
  formatProblem,
  type LoadResult,
  loadFactory,
  loadFactoryFile,
  type Problem,
  ratingWatts,
} from "../src/index.ts";

const examplesDir = fileURLToPath(new URL("../../../examples/factories/", import.meta.url));
const fixturesDir = fileURLToPath(new URL("./fixtures/", import.meta.url));

const errorsOf = (r: LoadResult): Problem[] => r.problems.filter((p) => p.severity === "error");
const warningsOf = (r: LoadResult): Problem[] => r.problems.filter((p) => p.severity === "warning");
const show = (r: LoadResult): string => r.problems.map((p) => formatProblem("", p)).join("\n");

describe("the examples", () => {
  // gigawatt.yaml is checked in gigawatt.test.ts, which loads it once for all its tests.
  for (const name of ["lab", "gb200-superpod"]) {
    it(`${name}.yaml loads with no errors and no warnings`, () => {
      const r = loadFactoryFile(`${examplesDir}${name}.yaml`);
      assert.equal(r.ok, true, show(r));
      assert.deepEqual(r.problems, [], show(r));
      assert.ok(r.doc, "a clean file yields its document");
      assert.ok(r.build, "a clean file yields its graph");
      assert.equal(r.build.summary.name, name);
      assert.equal(r.doc.metadata.name, name);
    });
  }

  it("loadFactory on the text gives what loadFactoryFile gives on the file", () => {
    const file = `${examplesDir}lab.yaml`;
    const fromText = loadFactory(readFileSync(file, "utf8"));
    const fromFile = loadFactoryFile(file);
    assert.equal(fromText.ok, true);
    assert.deepEqual(fromText.build?.summary, fromFile.build?.summary);
    assert.equal(fromText.build?.graph.size, fromFile.build?.graph.size);
  });
});

/** One expected problem of a fixture, from its `# expect: LINE:COL message` header lines. */
interface Expectation {
  line: number;
  col: number;
  text: string;
}

interface Fixture {
  file: string;
  kind: "bad" | "warn" | "good";
  expect: Expectation[];
  /** A `# todo: reason` header marks a fixture that shows a known bug. */
  todo?: string;
}

function readFixture(file: string): Fixture {
  const kind = file.endsWith(".bad.yaml") ? "bad" : file.endsWith(".warn.yaml") ? "warn" : "good";
  const expect: Expectation[] = [];
  let todo: string | undefined;
  for (const line of readFileSync(`${fixturesDir}${file}`, "utf8").split("\n")) {
    if (!line.startsWith("#")) break;
    const m = /^# expect: (\d+):(\d+) (.+)$/.exec(line);
    if (m) expect.push({ line: Number(m[1]), col: Number(m[2]), text: m[3]! });
    const t = /^# todo: (.+)$/.exec(line);
    if (t) todo = t[1];
  }
  return { file, kind, expect, ...(todo ? { todo } : {}) };
}

const fixtures = readdirSync(fixturesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map(readFixture);

describe("fixtures", () => {
  it("there are enough of them, and every bad or warn fixture says what it expects", () => {
    assert.ok(fixtures.filter((f) => f.kind === "bad").length >= 12);
    assert.ok(fixtures.some((f) => f.kind === "warn"));
    for (const f of fixtures) {
      if (f.kind === "good") assert.equal(f.expect.length, 0, `${f.file}: a good fixture expects nothing`);
      else assert.ok(f.expect.length > 0, `${f.file} has no "# expect: LINE:COL text" line`);
    }
  });

  for (const f of fixtures) {
    const options = f.todo ? { todo: f.todo } : {};
    it(`${f.file}`, options, () => {
      const r = loadFactoryFile(`${fixturesDir}${f.file}`);
      const wanted = f.kind === "bad" ? "error" : "warning";
      const got = f.kind === "bad" ? errorsOf(r) : warningsOf(r);
      for (const e of f.expect) {
        const hit = got.some((p) => p.line === e.line && p.col === e.col && p.message.includes(e.text));
        assert.ok(
          hit,
          `${f.file}: no ${wanted} at ${e.line}:${e.col} containing ${JSON.stringify(e.text)}; got:\n${show(r)}`,
        );
      }
      // Nothing unexpected: as many problems of the kind as the header lists.
      assert.equal(got.length, f.expect.length, `${f.file}: unexpected ${wanted}s:\n${show(r)}`);
      if (f.kind === "bad") {
        assert.equal(r.ok, false);
        assert.equal(r.build, undefined, "a file with errors yields no graph");
        assert.equal(r.doc, undefined, "a file with errors yields no document");
      } else {
        assert.equal(r.ok, true, show(r));
        assert.deepEqual(errorsOf(r), [], show(r));
        assert.ok(r.build);
        if (f.kind === "good") assert.deepEqual(r.problems, [], show(r));
      }
      for (const p of r.problems) {
        assert.ok(
          p.line !== undefined && p.line >= 1,
          `every problem has a line: ${formatProblem(f.file, p)}`,
        );
        assert.ok(
          p.col !== undefined && p.col >= 1,
          `every problem has a column: ${formatProblem(f.file, p)}`,
        );
      }
      const order = r.problems.map((p) => (p.line ?? 0) * 10_000 + (p.col ?? 0));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        "problems come in file order",
      );
    });
  }

  it("custom-catalog.good.yaml builds from its own catalog, variables and anchors", () => {
    const r = loadFactoryFile(`${fixturesDir}custom-catalog.good.yaml`);
    assert.ok(r.build, show(r));
    const { summary, catalog, graph } = r.build;
    // 2 halls × 2 rows × 2 racks; 4 nodes a rack with 4 GPUs, 4 NICs and 1 DPU each.
    const racks = 2 * 2 * 2;
    assert.deepEqual(summary.counts, {
      hall: 2,
      row: 4,
      rack: racks,
      node: racks * 4,
      gpu: racks * 4 * 4,
      nic: racks * 4 * 4,
      dpu: racks * 4,
      // 2 feeds, 2 floor PDUs under each, 2 rack PDUs a rack.
      power: 2 + 4 + racks * 2,
      // A management switch a rack; one leaf per rail (4 rails, 32 ports each) and no spine.
      switch: racks + 4,
      nvlinkDomain: racks * 4,
    });
    assert.deepEqual(summary.gpusByType, { x1: 128 });
    assert.deepEqual(summary.orgs, { north: { racks: 4, gpus: 64 }, south: { racks: 4, gpus: 64 } });
    assert.equal(summary.nameplateWatts, racks * 4 * 3000);
    assert.equal(summary.feedLimitWatts, 2 * 200_000 * 0.8);
    assert.deepEqual(summary.fabrics.fe, { leaves: 4, spines: 0, cores: 0, endpoints: 128 });
    // The file's entries join the built-in ones.
    assert.ok(catalog.gpus.x1 && catalog.gpus["h100-sxm"]);
    assert.ok(catalog.racks["x1-rack"] && catalog.racks["dgx-h100-4"]);
    // ${parent} names the floor PDUs after their feed; racks are spread over the list in blocks.
    for (const [rack, fpdu] of [
      ["hall1-row1-r1", "1"],
      ["hall1-row1-r2", "2"],
      ["hall2-row2-r1", "1"],
      ["hall2-row2-r2", "2"],
    ] as const) {
      const paths = graph.powerPaths(graph.get(`rack:${rack}`)!.index).map((p) => p.map((e) => e.id));
      assert.deepEqual(paths, [
        [`power:${rack}-pdu-a`, `power:feed-a-fpdu${fpdu}`, "power:feed-a"],
        [`power:${rack}-pdu-b`, `power:feed-b-fpdu${fpdu}`, "power:feed-b"],
      ]);
    }
    assert.equal(graph.orgOf(graph.get("rack:hall2-row1-r1")!.index), "south");
  });
});

describe("oversubscription follows derating and redundancy", () => {
  const text = readFileSync(`${fixturesDir}oversubscribed.warn.yaml`, "utf8");
  // Side A: two racks of four 10.2 kW DGX H100 behind a 50 kW floor PDU.
  const cases: Array<{ defaults: string; percent: number | null; why: string }> = [
    { defaults: "", percent: 204, why: "N+N and 80% by default: 81.6 kW against 40 kW" },
    { defaults: "defaults: { derating: 1 }", percent: 163, why: "at 100% the limit is 50 kW" },
    {
      defaults: "defaults: { derating: 0.8, redundancy: none }",
      percent: 102,
      why: "without N+N each side carries half: 40.8 kW against 40 kW",
    },
    { defaults: "defaults: { derating: 1, redundancy: none }", percent: null, why: "40.8 kW against 50 kW" },
  ];
  for (const c of cases) {
    it(c.why, () => {
      const r = loadFactory(text.replace("power:\n", `${c.defaults}\npower:\n`));
      assert.equal(r.ok, true, show(r));
      const warnings = warningsOf(r).filter((p) => p.message.includes('"fpdu-a"'));
      if (c.percent === null) assert.deepEqual(warnings, []);
      else {
        assert.equal(warnings.length, 1, show(r));
        assert.match(warnings[0]!.message, new RegExp(`oversubscribed ${c.percent}%`));
      }
    });
  }
});

describe("loading bad input", () => {
  it("a missing file is one problem, without a position", () => {
    const r = loadFactoryFile(`${fixturesDir}does-not-exist.yaml`);
    assert.equal(r.ok, false);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!.message, /^cannot read: /);
    assert.equal(r.problems[0]!.line, undefined);
  });

  const documents: Array<{ text: string; message: RegExp; why: string }> = [
    { text: "", message: /the document must be object/, why: "an empty file" },
    { text: "- a\n- b\n", message: /the document must be object/, why: "a list" },
    { text: "just words\n", message: /the document must be object/, why: "a scalar" },
    { text: "a: 1\n---\nb: 2\n", message: /^YAML: Source contains multiple documents/, why: "two documents" },
    { text: "a: 1\n\tb: 2\n", message: /^YAML: Tabs are not allowed/, why: "a tab" },
    { text: 'a: "open\n', message: /^YAML: Missing closing "quote/, why: "an unclosed quote" },
  ];
  for (const d of documents) {
    it(`reports ${d.why} without throwing`, () => {
      const r = loadFactory(d.text);
      assert.equal(r.ok, false);
      assert.ok(
        r.problems.some((p) => d.message.test(p.message)),
        show(r),
      );
    });
  }

  it("lists every missing top-level field at once", () => {
    const r = loadFactory("metadata: { name: x }\n");
    const missing = r.problems.map((p) => /missing required field "(\w+)"/.exec(p.message)?.[1]).sort();
    assert.deepEqual(missing, ["apiVersion", "halls", "kind", "power"]);
    for (const p of r.problems) assert.deepEqual([p.line, p.col], [1, 1]);
  });

  it("checks apiVersion and kind", () => {
    const lab = readFileSync(`${examplesDir}lab.yaml`, "utf8");
    const r = loadFactory(lab.replace("apiVersion: flightdeck/v1", "apiVersion: flightdeck/v2"));
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.problems.map((p) => [p.line, p.col, p.message]),
      [[5, 13, 'apiVersion must be "flightdeck/v1"']],
    );
  });

  it("stops at YAML syntax errors: no schema or semantic problems pile on", () => {
    const lab = readFileSync(`${examplesDir}lab.yaml`, "utf8");
    const broken = lab.replace("type: dgx-h100-4", "type: nope").replace("name: lab", "name: lab: x");
    const r = loadFactory(broken);
    assert.equal(r.ok, false);
    assert.ok(r.problems.length > 0);
    for (const p of r.problems) assert.match(p.message, /^YAML: /);
  });

  it("stops at schema errors: a semantic problem elsewhere is not reported with them", () => {
    const lab = readFileSync(`${examplesDir}lab.yaml`, "utf8");
    const r = loadFactory(
      lab.replace("type: dgx-h100-4", "type: nope").replace("kind: floorPdu", "kind: pdu"),
    );
    assert.equal(r.ok, false);
    assert.equal(r.problems.length, 1, show(r));
    assert.match(r.problems[0]!.message, /^power\[0\]\.children\[0\]\.children\[0\]\.kind must be one of/);
  });

  it("reports problems in aliased parts at the alias", () => {
    const gb200 = readFileSync(`${examplesDir}gb200-superpod.yaml`, "utf8");
    // The distribution shared by both feeds gets a bad busway kind: reported under feed-a, where
    // it is written, and under feed-b at the alias that repeats it.
    const r = loadFactory(gb200.replace("kind: busway", "kind: busbar"));
    assert.equal(r.ok, false);
    const where = r.problems.map((p) => `${p.line}:${p.col} ${formatPath(p.path ?? [])}`);
    assert.deepEqual(where, [
      "35:19 power[0].children[0].children[0].kind",
      "41:15 power[1].children[0].children[0].kind",
    ]);
  });

  // Anchors and merge keys are part of the format (the examples use them); these inputs make the
  // YAML library throw while converting the document, which escapes loadFactory.
  const throwing: Array<{ text: string; why: string }> = [
    { text: "a: 1\nb: *nope\n", why: "an alias without its anchor" },
    { text: "a: &x 1\nb:\n  <<: *x\n", why: "a merge of a scalar" },
    {
      text:
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
        "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
      why: "an alias bomb",
    },
  ];
  for (const t of throwing) {
    it(`reports ${t.why} as a problem instead of throwing`, () => {
      const r = loadFactory(t.text);
      assert.equal(r.ok, false);
      assert.ok(r.problems.length > 0);
    });
  }
});

describe("problem positions", () => {
  const lab = readFileSync(`${examplesDir}lab.yaml`, "utf8");

  it("an unknown field whose value is a block points at the field's own line", () => {
    // Inserted before `defaults:` (line 12): `extras:` is line 12, its value starts on line 13.
    const r = loadFactory(lab.replace("defaults:\n", "extras:\n  foo: 1\ndefaults:\n"));
    const p = r.problems.find((q) => q.message.includes('unknown field "extras"'));
    assert.ok(p, show(r));
    assert.deepEqual([p.line, p.col], [12, 1]);
  });

  it("a rack group's problem repeated by hall and row patterns is reported once", () => {
    const text = lab
      .replace("  - name: hall1\n", "  - name: hall{1..2}\n")
      .replace("      - name: row1\n", "      - name: ${hall}-row{1..3}\n")
      .replace("r{01..02}", "${row}-r{01..02}")
      .replace("r{03..04}", "${row}-r{03..04}")
      .replace("type: dgx-h100-4\n            org: globex", "type: nope\n            org: globex");
    const r = loadFactory(text);
    assert.equal(errorsOf(r).length, 1, show(r));
  });

  it("a node type without the optional overhead fields still gets the nameplate check", () => {
    const text = lab.replace(
      "orgs:\n",
      "catalog:\n  nodes:\n    hot:\n      role: compute\n      gpu: h100-sxm\n      gpus: 8\n" +
        "      nameplateWatts: 1000\n      nics: 0\n      dpus: 0\n      nvlink: node\norgs:\n",
    );
    const r = loadFactory(text);
    assert.ok(
      warningsOf(r).some((p) => p.message.includes('node type "hot"')),
      show(r),
    );
  });
});

describe("formatting problems", () => {
  const cases: Array<{ p: Problem; out: string }> = [
    {
      p: { severity: "error", message: "bad", line: 3, col: 7, path: ["halls", 0, "rows", 2, "name"] },
      out: "f.yaml:3:7: bad (at halls[0].rows[2].name)",
    },
    { p: { severity: "warning", message: "hot", line: 9 }, out: "f.yaml:9:1: warning: hot" },
    { p: { severity: "error", message: "cannot read" }, out: "f.yaml: cannot read" },
    { p: { severity: "error", message: "top", line: 1, col: 1, path: [] }, out: "f.yaml:1:1: top" },
  ];
  for (const c of cases) {
    it(c.out, () => assert.equal(formatProblem("f.yaml", c.p), c.out));
  }

  it("formatPath writes keys with dots and indexes in brackets", () => {
    assert.equal(formatPath(["power", 0, "children", 1, "rating"]), "power[0].children[1].rating");
    assert.equal(formatPath([0, "a"]), "[0].a");
    assert.equal(formatPath([]), "");
  });
});

describe("ratings and the schema", () => {
  const cases: Array<{ rating: Parameters<typeof ratingWatts>[0]; watts: number }> = [
    { rating: { kw: 250 }, watts: 250_000 },
    { rating: { kw: 0.5 }, watts: 500 },
    { rating: { volts: 230, amps: 16, phases: 1 }, watts: 3680 },
    { rating: { volts: 415, amps: 60, phases: 3 }, watts: 415 * 60 * Math.sqrt(3) },
    { rating: { volts: 480, amps: 600, phases: 3 }, watts: 480 * 600 * Math.sqrt(3) },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.rating)} is ${Math.round(c.watts)} W`, () => {
      assert.ok(Math.abs(ratingWatts(c.rating) - c.watts) < 1e-6);
    });
  }

  it("the published schema is the one loading uses", () => {
    assert.equal(factorySchema.$id, "https://flightdeck.invalid/schema/factory-v1.json");
    assert.deepEqual(factorySchema.required, ["apiVersion", "kind", "metadata", "halls", "power"]);
  });
});
