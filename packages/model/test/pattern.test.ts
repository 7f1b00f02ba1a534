// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${hall}-style names are the format's own syntax
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandPattern, PatternError, substitute } from "../src/index.ts";

describe("expandPattern", () => {
  const cases: Array<{ pattern: string; names: string[]; why: string }> = [
    { pattern: "r01", names: ["r01"], why: "a plain name is itself" },
    { pattern: "", names: [""], why: "the empty name" },
    { pattern: "r{1..3}", names: ["r1", "r2", "r3"], why: "an ascending range" },
    { pattern: "r{01..03}", names: ["r01", "r02", "r03"], why: "a zero-padded first bound pads" },
    {
      pattern: "r{08..11}",
      names: ["r08", "r09", "r10", "r11"],
      why: "padding keeps the first bound's width across a digit boundary",
    },
    { pattern: "n{001..002}", names: ["n001", "n002"], why: "padding to three digits" },
    { pattern: "r{9..11}", names: ["r9", "r10", "r11"], why: "no padding without a leading zero" },
    { pattern: "r{0..2}", names: ["r0", "r1", "r2"], why: "a lone 0 is not padding" },
    { pattern: "r{3..1}", names: ["r3", "r2", "r1"], why: "a descending range" },
    { pattern: "r{03..01}", names: ["r03", "r02", "r01"], why: "a descending padded range" },
    { pattern: "r{5..5}", names: ["r5"], why: "a range of one" },
    { pattern: "t{-1..1}", names: ["t-1", "t0", "t1"], why: "negative bounds" },
    { pattern: "pdu-{a,b}", names: ["pdu-a", "pdu-b"], why: "a list" },
    { pattern: "{x,y,z}-end", names: ["x-end", "y-end", "z-end"], why: "a list at the start" },
    { pattern: "a{,b}", names: ["a", "ab"], why: "an empty alternative" },
    {
      pattern: "h{1..2}-r{1..3}",
      names: ["h1-r1", "h1-r2", "h1-r3", "h2-r1", "h2-r2", "h2-r3"],
      why: "two braces multiply, the first varying slowest",
    },
    {
      pattern: "{a,b}{1..2}x",
      names: ["a1x", "a2x", "b1x", "b2x"],
      why: "adjacent braces",
    },
    {
      pattern: "h{1..2}-{a,b}-r{01..02}",
      names: ["h1-a-r01", "h1-a-r02", "h1-b-r01", "h1-b-r02", "h2-a-r01", "h2-a-r02", "h2-b-r01", "h2-b-r02"],
      why: "three braces mixing ranges and lists",
    },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.pattern)}: ${c.why}`, () => {
      assert.deepEqual(expandPattern(c.pattern), c.names);
    });
  }

  it("expands a long range in order, with the count the bounds give", () => {
    const names = expandPattern("r{0001..2000}");
    assert.equal(names.length, 2000);
    assert.equal(names[0], "r0001");
    assert.equal(names[999], "r1000");
    assert.equal(names[1999], "r2000");
    assert.equal(new Set(names).size, 2000);
  });

  it("expands up to a million names", () => {
    const names = expandPattern("{1..1000}-{1..1000}");
    assert.equal(names.length, 1_000_000);
    assert.equal(names.at(-1), "1000-1000");
  });

  const errors: Array<{ pattern: string; message: RegExp; why: string }> = [
    { pattern: "r{01..04", message: /unmatched "\{" in "r\{01\.\.04"/, why: "an unclosed brace" },
    { pattern: "r01..04}", message: /unmatched "\}" in "r01\.\.04\}"/, why: "a closing brace alone" },
    { pattern: "r{1,2}}", message: /unmatched "\}"/, why: "an extra closing brace after a list" },
    { pattern: "h{1..2}-r{1..3", message: /unmatched "\{"/, why: "the second brace unclosed" },
    { pattern: "r{}", message: /"\{\}" in "r\{\}" is neither a range/, why: "an empty body" },
    { pattern: "r{a}", message: /"\{a\}" in "r\{a\}" is neither a range/, why: "a single word" },
    {
      pattern: "r{1-4}",
      message: /neither a range like \{1\.\.8\} nor a list like \{a,b\}/,
      why: "a dash range",
    },
    { pattern: "r{1...4}", message: /neither a range/, why: "three dots" },
    { pattern: "r{1..}", message: /neither a range/, why: "a range without its end" },
    { pattern: "r{a..c}", message: /neither a range/, why: "letter ranges are not supported" },
    { pattern: "r{1..4..2}", message: /neither a range/, why: "a stepped range" },
    { pattern: "r{{1..2}}", message: /unmatched "\}"/, why: "nested braces" },
    { pattern: "r{1..1000001}", message: /range \{1\.\.1000001\} is too long/, why: "one range too long" },
    {
      pattern: "r{1..1000}-{1..1001}",
      message: /expands to more than 1000000 names/,
      why: "a product too large",
    },
    {
      pattern: "{1..100}{1..100}{1..101}",
      message: /expands to more than 1000000 names/,
      why: "three factors too large",
    },
  ];
  for (const c of errors) {
    it(`rejects ${JSON.stringify(c.pattern)}: ${c.why}`, () => {
      assert.throws(
        () => expandPattern(c.pattern),
        (err: unknown) => {
          assert.ok(err instanceof PatternError, `expected a PatternError, got ${String(err)}`);
          assert.match(err.message, c.message);
          return true;
        },
      );
    });
  }

  it("PatternError is an Error", () => {
    assert.ok(new PatternError("x") instanceof Error);
  });

  // A "}" before the first "{" is not noticed: "a}b{1,2}" expands to ["a}b1", "a}b2"].
  it("rejects a closing brace that comes before the first opening one", () => {
    assert.throws(() => expandPattern("a}b{1,2}"), PatternError);
  });
});

describe("substitute", () => {
  const vars = { hall: "hall1", row: "row07", parent: "feed-a" };
  const cases: Array<{ text: string; out: string; why: string }> = [
    { text: "r{01..04}", out: "r{01..04}", why: "text without variables is unchanged" },
    { text: "${hall}", out: "hall1", why: "one variable" },
    { text: "${hall}-${row}-r{01..50}", out: "hall1-row07-r{01..50}", why: "several, braces kept" },
    { text: "${parent}-${parent}", out: "feed-a-feed-a", why: "the same variable twice" },
    { text: "x${row}y", out: "xrow07y", why: "inside a word" },
    { text: "$hall", out: "$hall", why: "a dollar without braces is literal" },
    { text: "cost$", out: "cost$", why: "a trailing dollar" },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.text)}: ${c.why}`, () => {
      assert.equal(substitute(c.text, vars), c.out);
    });
  }

  it("composes with expandPattern as the format uses it", () => {
    assert.deepEqual(expandPattern(substitute("${hall}-${row}-r{1..2}", vars)), [
      "hall1-row07-r1",
      "hall1-row07-r2",
    ]);
  });

  it("names an unknown variable and lists the known ones", () => {
    assert.throws(
      () => substitute("${pod}-r1", { hall: "h1", row: "r1" }),
      (err: unknown) => {
        assert.ok(err instanceof PatternError);
        assert.equal(err.message, "${pod} is not defined here (known: ${hall}, ${row})");
        return true;
      },
    );
  });

  it("says only that the variable is undefined when none are known", () => {
    assert.throws(
      () => substitute("${hall}-r1", {}),
      (err: unknown) => {
        assert.ok(err instanceof PatternError);
        assert.equal(err.message, "${hall} is not defined here");
        return true;
      },
    );
  });

  it("reports the first unknown variable even after known ones", () => {
    assert.throws(() => substitute("${hall}-${rack}", vars), /\$\{rack\} is not defined here/);
  });
});
