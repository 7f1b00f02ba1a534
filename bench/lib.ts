/** Benchmark results: a printed table for people, one JSON object a line with --json. */

export interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** The target as text, e.g. "<= 3000"; empty for a baseline row. */
  target: string;
}

/** True when `value` meets `target` ("<= N" or ">= N"); undefined without a target. */
export function meets(row: Row): boolean | undefined {
  const m = /^(<=|>=)\s*([\d.]+)$/.exec(row.target);
  if (!m) return undefined;
  return m[1] === "<=" ? row.value <= Number(m[2]) : row.value >= Number(m[2]);
}

export function report(rows: Row[], json: boolean): void {
  if (json) {
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  const cells = rows.map((r) => {
    const ok = meets(r);
    return [
      r.bench,
      r.metric,
      formatValue(r.value),
      r.unit,
      r.target,
      ok === undefined ? "" : ok ? "ok" : "MISS",
    ];
  });
  const headers = ["BENCH", "METRIC", "VALUE", "UNIT", "TARGET", ""];
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(line(headers));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const c of cells) console.log(line(c));
}

function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** Median of a sample. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A deterministic PRNG (mulberry32) so every run queries the same entities. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
