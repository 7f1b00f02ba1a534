/**
 * A small, strict reader of the Prometheus text format 0.0.4 for tests: every line is a
 * `# HELP`, a `# TYPE` or a sample `name{labels} value`; a family's HELP and TYPE come before its
 * samples and only once; a family's samples are contiguous; no series appears twice.
 */

/** One metric family as read from a page. */
export interface Family {
  name: string;
  help: string | undefined;
  type: string | undefined;
  samples: { labels: [string, string][]; value: number }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

/** Parses a page; throws `line N: reason` at the first violation. */
export function parsePromText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  const family = (name: string, n: number): Family => {
    if (current?.name === name) return current;
    if (families.has(name)) throw new Error(`line ${n}: family ${name} is split`);
    current = { name, help: undefined, type: undefined, samples: [] };
    families.set(name, current);
    return current;
  };
  const lines = text.split("\n");
  if (lines.pop() !== "") throw new Error("page does not end with a newline");
  lines.forEach((line, i) => {
    const n = i + 1;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, what, name, rest] = meta as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      const f = family(name, n);
      if (f.samples.length > 0) throw new Error(`line ${n}: ${what} of ${name} after its samples`);
      if (what === "HELP") {
        if (f.help !== undefined) throw new Error(`line ${n}: second HELP for ${name}`);
        f.help = rest ?? "";
      } else {
        if (f.type !== undefined) throw new Error(`line ${n}: second TYPE for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest ?? ""))
          throw new Error(`line ${n}: bad type ${rest}`);
        f.type = rest;
      }
      return;
    }
    if (line.startsWith("#")) throw new Error(`line ${n}: unexpected comment ${line}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`line ${n}: not a sample: ${line}`);
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    const labels: [string, string][] = [];
    let rest = labelText ?? "";
    while (rest.length > 0) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`line ${n}: bad labels at ${rest}`);
      if (labels.some(([k]) => k === l[1])) throw new Error(`line ${n}: label ${l[1]} twice`);
      labels.push([l[1]!, l[2]!]);
      rest = rest.slice(l[0].length);
      if (l[3] === "," && rest.length === 0) throw new Error(`line ${n}: trailing comma`);
    }
    if (!VALUE.test(value)) throw new Error(`line ${n}: bad value ${value}`);
    const key = `${name}{${labels.map(([k, v]) => `${k}=${v}`).join(",")}}`;
    if (series.has(key)) throw new Error(`line ${n}: duplicate series ${key}`);
    series.add(key);
    family(name, n).samples.push({ labels, value: Number(value) });
  });
  return families;
}

/** The field definitions of a dcgm-exporter counters CSV, commented-out lines included. */
export function parseCountersCsv(
  text: string,
): Map<string, { type: string; help: string; enabled: boolean }> {
  const out = new Map<string, { type: string; help: string; enabled: boolean }>();
  for (const raw of text.split("\n")) {
    const m = /^(#\s*)?(DCGM_[A-Z0-9_]+)\s*,\s*([a-z]+)\s*,\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    // PCIe TX/RX appear twice (an old commented-out counter, then the enabled gauge): keep the enabled one.
    const enabled = m[1] === undefined;
    if (out.get(m[2]!)?.enabled && !enabled) continue;
    out.set(m[2]!, { type: m[3]!, help: m[4]!, enabled });
  }
  return out;
}
