/**
 * Compact repetition in names: `r{01..16}` is sixteen names `r01` … `r16` (the width of the
 * first bound sets zero padding, as in bash), `{a,b}` lists alternatives, and several braces
 * multiply (`h{1..2}-r{1..3}` is six names). `${row}` and friends are replaced first from the
 * names of the enclosing elements.
 */

/** Thrown for a malformed pattern; `message` says what is wrong. */
export class PatternError extends Error {}

const MAX_EXPANSION = 1_000_000;

/**
 * Expands a name pattern into its names, in order.
 * @example expandPattern("r{01..03}") // ["r01", "r02", "r03"]
 */
export function expandPattern(pattern: string): string[] {
  const open = pattern.indexOf("{");
  if (open < 0) {
    if (pattern.includes("}")) throw new PatternError(`unmatched "}" in "${pattern}"`);
    return [pattern];
  }
  const close = pattern.indexOf("}", open);
  if (close < 0) throw new PatternError(`unmatched "{" in "${pattern}"`);
  const head = pattern.slice(0, open);
  if (head.includes("}")) throw new PatternError(`unmatched "}" in "${pattern}"`);
  const body = pattern.slice(open + 1, close);
  const tails = expandPattern(pattern.slice(close + 1));
  const choices = braceChoices(body, pattern);
  if (choices.length * tails.length > MAX_EXPANSION) {
    throw new PatternError(`"${pattern}" expands to more than ${MAX_EXPANSION} names`);
  }
  const out: string[] = [];
  for (const choice of choices) for (const tail of tails) out.push(head + choice + tail);
  return out;
}

function braceChoices(body: string, pattern: string): string[] {
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
  if (range) {
    const [, fromText, toText] = range as unknown as [string, string, string];
    const from = Number(fromText);
    const to = Number(toText);
    const width = fromText.length > 1 && fromText.startsWith("0") ? fromText.length : 0;
    const step = from <= to ? 1 : -1;
    if (Math.abs(to - from) >= MAX_EXPANSION) throw new PatternError(`range {${body}} is too long`);
    const out: string[] = [];
    for (let i = from; step > 0 ? i <= to : i >= to; i += step) out.push(String(i).padStart(width, "0"));
    return out;
  }
  if (body.includes(",")) return body.split(",");
  throw new PatternError(`"{${body}}" in "${pattern}" is neither a range like {1..8} nor a list like {a,b}`);
}

/** Number of names a pattern yields, without building them. */
export function patternCount(pattern: string): number {
  let count = 1;
  const re = /\{([^}]*)\}/g;
  for (let m = re.exec(pattern); m; m = re.exec(pattern)) count *= braceChoices(m[1] ?? "", pattern).length;
  return count;
}

/**
 * Replaces `${name}` with `vars[name]`.
 * @throws PatternError naming the variable when it is not defined here.
 */
export function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  if (!text.includes("${")) return text;
  return text.replace(/\$\{([A-Za-z][A-Za-z0-9]*)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      const known = Object.keys(vars);
      throw new PatternError(
        `\${${name}} is not defined here` +
          (known.length ? ` (known: ${known.map((k) => `\${${k}}`).join(", ")})` : ""),
      );
    }
    return value;
  });
}
