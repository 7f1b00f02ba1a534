/** Numbers as an operator reads them: SI prefixes, units in the text, a dash for unknown. */

const PREFIXES: [number, string][] = [
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/** `1234567` → `1.23 M`; `0.5` → `0.5`; undefined or NaN → `–`. */
export function si(value: number | null | undefined, unit = "", digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  for (const [scale, prefix] of PREFIXES)
    if (abs >= scale) return `${(value / scale).toPrecision(digits)} ${prefix}${unit}`;
  const text = abs >= 1 || abs === 0 ? value.toPrecision(digits) : value.toPrecision(2);
  return unit ? `${Number(text)} ${unit}` : String(Number(text));
}

/** Watts with the right prefix: `41234` → `41.2 kW`. */
export const watts = (w: number | null | undefined) => si(w, "W");

/** A share in [0, 1] as a percentage. */
export function percent(share: number | null | undefined, digits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return "–";
  return `${(share * 100).toFixed(digits)} %`;
}

/** A time of day from ms since the epoch, in the browser's zone. */
export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** How long ago `ms` was, coarsely. */
export function ago(ms: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
