/**
 * Reading a factory file: YAML syntax (with line and column), the JSON Schema (with the path in
 * the document and its line and column), then the semantic build. Every problem is reported at
 * once; a file with any error yields no graph to apply.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import {
  type Document,
  isCollection,
  isMap,
  isNode,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
} from "yaml";
import { type BuildResult, buildFactory } from "./build.ts";
import type { DocPath, FactoryDoc } from "./document.ts";
import { formatPath, type Problem, ProblemList } from "./problems.ts";

/** The published JSON Schema of the factory format. */
export const factorySchema: Record<string, unknown> = JSON.parse(
  readFileSync(new URL("../schema/factory.schema.json", import.meta.url), "utf8"),
);

let compiled: ReturnType<Ajv2020["compile"]> | undefined;
function validator(): ReturnType<Ajv2020["compile"]> {
  // Compiled once per process: compiling the schema costs more than validating a file. Ajv's
  // passes that tidy the generated code are skipped: they cost more than they save on one file.
  compiled ??= compileSchema(factorySchema);
  return compiled;
}

/** The outcome of loading: the problems, and when there are no errors the document and graph. */
export interface LoadResult {
  problems: Problem[];
  ok: boolean;
  doc?: FactoryDoc;
  build?: BuildResult;
}

/** Loads a factory description from YAML text. Never throws for bad input. */
export function loadFactory(text: string): LoadResult {
  const result = loadYamlDocument<FactoryDoc, BuildResult>(text, validator(), buildFactory);
  return result.ok ? { problems: result.problems, ok: true, doc: result.doc!, build: result.built! } : result;
}

/** The outcome of loading any YAML document against a schema, then checking what it means. */
export interface YamlLoadResult<D, B> {
  problems: Problem[];
  ok: boolean;
  doc?: D;
  built?: B;
}

/**
 * The pipeline every Flightdeck YAML document goes through: YAML syntax, then the compiled JSON
 * Schema `validate`, then `check` (which adds problems located by document path). Problems carry
 * their line and column; none of them throws. `doc` and `built` are set only when there is no error.
 */
export function loadYamlDocument<D, B>(
  text: string,
  validate: ReturnType<Ajv2020["compile"]>,
  check: (doc: D, problems: ProblemList) => B,
): YamlLoadResult<D, B> {
  const lines = new LineCounter();
  const yamlDoc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const problems = new ProblemList();
  for (const err of [...yamlDoc.errors, ...yamlDoc.warnings]) {
    const pos = lines.linePos(err.pos[0]);
    problems.items.push({
      severity: "error",
      message: `YAML: ${firstLine(err.message)}`,
      line: pos.line,
      col: pos.col,
    });
  }
  if (problems.items.length > 0) return finish(problems, lines, yamlDoc);

  let value: unknown;
  try {
    value = yamlDoc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    // Aliases are resolved here: an undefined anchor, a bad merge source or an alias bomb.
    problems.items.push({
      severity: "error",
      message: `YAML: ${firstLine((err as Error).message)}`,
      ...aliasPosition(yamlDoc, lines),
    });
    return finish(problems, lines, yamlDoc);
  }
  if (!validate(value)) {
    for (const p of schemaProblems(validate.errors ?? [])) problems.items.push(p);
    return finish(problems, lines, yamlDoc);
  }
  const doc = value as D;
  const built = check(doc, problems);
  const result = finish(problems, lines, yamlDoc);
  return result.ok ? { ...result, doc, built } : result;
}

/** Compiles a JSON Schema (2020-12) the way the factory schema is compiled. */
export function compileSchema(schema: Record<string, unknown>): ReturnType<Ajv2020["compile"]> {
  return new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    code: { optimize: false },
  }).compile(schema);
}

/** Loads a factory file from disk; a missing or unreadable file is one problem. */
export function loadFactoryFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return {
      ok: false,
      problems: [{ severity: "error", message: `cannot read: ${(err as Error).message}` }],
    };
  }
  return loadFactory(text);
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** Where the first alias that does not resolve to a map or value stands, else the first alias. */
function aliasPosition(
  doc: Document,
  lines: LineCounter,
): { line: number; col: number } | Record<string, never> {
  let first: number | undefined;
  let broken: number | undefined;
  visit(doc, {
    Alias(_, node) {
      const start = node.range?.[0];
      if (start === undefined) return;
      first ??= start;
      if (broken === undefined && !node.resolve(doc)) broken = start;
    },
  });
  const at = broken ?? first;
  return at === undefined ? {} : lines.linePos(at);
}

function finish(
  problems: ProblemList,
  lines: LineCounter,
  doc: Document,
): { problems: Problem[]; ok: boolean } {
  problems.dedupe();
  for (const p of problems.items) {
    if (p.line !== undefined || !p.path) continue;
    const pos = locate(doc, p.path, lines, keyProblems.has(p));
    if (pos) {
      p.line = pos.line;
      p.col = pos.col;
    }
  }
  problems.items.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { problems: problems.items, ok: problems.errorCount === 0 };
}

/**
 * Line and column of the deepest node of `path` that exists in the document. A map entry whose
 * value is a block (a map or a list) is located at its key, where a reader looks for it; so is
 * an unknown key.
 */
function locate(
  doc: Document,
  path: DocPath,
  lines: LineCounter,
  atKey: boolean,
): { line: number; col: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (!isNode(node) || !node.range) continue;
    const last = path[n - 1];
    if (n > 0 && typeof last === "string" && (atKey || isCollection(node))) {
      const parent = doc.getIn(path.slice(0, n - 1), true);
      const pair = isMap(parent)
        ? parent.items.find((p) => isScalar(p.key) && p.key.value === last)
        : undefined;
      if (pair && isNode(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]);
    }
    return lines.linePos(node.range[0]);
  }
  return undefined;
}

/** Problems about a key itself (an unknown field), located at the key rather than its value. */
const keyProblems = new WeakSet<Problem>();

/** Turns Ajv errors into problems people can act on: one per place, the noise of `oneOf` folded. */
function schemaProblems(errors: ErrorObject[]): Problem[] {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
  const out = new Map<string, Problem>();
  for (const e of errors) {
    // Inside a failed oneOf the branch errors contradict each other; report the oneOf once.
    const underOneOf = [...oneOfPaths].some(
      (p) =>
        e.keyword !== "oneOf" &&
        (e.instancePath === p || e.instancePath.startsWith(`${p}/`)) &&
        e.schemaPath.includes("/oneOf/"),
    );
    if (underOneOf) continue;
    const path = pointerToPath(e.instancePath);
    const message = describe(e);
    const key = `${e.instancePath}\u0000${message}`;
    if (out.has(key)) continue;
    const problem: Problem = { severity: "error", message, path: locatedPath(path, e) };
    if (e.keyword === "additionalProperties") keyProblems.add(problem);
    out.set(key, problem);
  }
  return [...out.values()];
}

function locatedPath(path: DocPath, e: ErrorObject): DocPath {
  // Point at the offending key itself where the error names one.
  if (e.keyword === "additionalProperties")
    return [...path, (e.params as { additionalProperty: string }).additionalProperty];
  return path;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === "" ? "the document" : formatPath(pointerToPath(e.instancePath));
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties":
      return `unknown field "${p.additionalProperty}" in ${where}`;
    case "required":
      return `${where} is missing required field "${p.missingProperty}"`;
    case "enum":
      return `${where} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "const":
      return `${where} must be ${JSON.stringify(p.allowedValue)}`;
    case "type":
      return `${where} must be ${p.type}`;
    case "oneOf":
      return /rating/.test(where)
        ? `${where} must be either {kw} or {volts, amps, phases}`
        : `${where} must match exactly one allowed form`;
    default:
      return `${where} ${e.message}`;
  }
}

function pointerToPath(pointer: string): DocPath {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
