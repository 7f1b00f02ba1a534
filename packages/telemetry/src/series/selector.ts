/**
 * Label sets and PromQL series selectors: the types the store's contract speaks, and the selector
 * parser (https://prometheus.io/docs/prometheus/latest/querying/basics/#time-series-selectors).
 */

/** A label set, Prometheus style: `{__name__: "DCGM_FI_DEV_POWER_USAGE", entity: "gpu:r01-dgx1/3"}`. */
export type Labels = Readonly<Record<string, string>>;

/** One PromQL label matcher; regexes are fully anchored, as in PromQL. */
export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** A PromQL regex matcher's pattern, anchored at both ends as PromQL does. */
export function anchored(m: Matcher): RegExp {
  try {
    return new RegExp(`^(?:${m.value})$`);
  } catch (err) {
    throw new Error(
      `bad regex in matcher ${m.name}${m.op}${JSON.stringify(m.value)}: ${(err as Error).message}`,
    );
  }
}

/**
 * Parses a PromQL series selector: `name{a="x", b!="y", c=~"z.*", d!~"w"}`, `name`, or
 * `{__name__=~"DCGM_.*"}`. Throws an Error naming the position of the first bad character.
 */
export function parseSelector(text: string): Matcher[] {
  const out: Matcher[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`bad selector ${JSON.stringify(text)} at ${i}: ${what}`);
  };
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const ident = (re: RegExp): string => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return "";
    i += m[0].length;
    return m[0];
  };
  skip();
  const name = ident(/[a-zA-Z_:][a-zA-Z0-9_:]*/y);
  if (name) out.push({ name: "__name__", op: "=", value: name });
  skip();
  if (text[i] === "{") {
    i++;
    for (;;) {
      skip();
      if (text[i] === "}") break;
      const label = ident(/[a-zA-Z_][a-zA-Z0-9_]*/y) || fail("expected a label name");
      skip();
      const op = (ident(/=~|!~|!=|=/y) || fail("expected =, !=, =~ or !~")) as Matcher["op"];
      skip();
      if (text[i] !== '"') fail("expected a double-quoted value");
      let value = "";
      for (i++; text[i] !== '"'; i++) {
        if (i >= text.length) fail("unterminated string");
        if (text[i] === "\\") {
          i++;
          value += text[i] === "n" ? "\n" : text[i];
        } else value += text[i];
      }
      i++;
      out.push({ name: label, op, value });
      skip();
      if (text[i] === ",") i++;
      else if (text[i] !== "}") fail("expected , or }");
    }
    i++;
  }
  skip();
  if (i < text.length) fail("unexpected text");
  if (out.length === 0) fail("empty selector");
  return out;
}
