/**
 * What the floor can be colored by, and the colors: a sequential scale for measures (low is
 * calm, high is hot; for headroom, little is hot), a categorical one for orgs.
 */

export type MeasureId = "power" | "headroom" | "temperature" | "tokensPerWatt" | "org";

export interface Measure {
  id: MeasureId;
  label: string;
  unit: string;
  /** true when a high value is the worry (power, temperature); false when a low one is (headroom). */
  highIsHot: boolean;
}

export const MEASURES: Measure[] = [
  { id: "power", label: "Power", unit: "W", highIsHot: true },
  { id: "headroom", label: "Headroom", unit: "W", highIsHot: false },
  { id: "temperature", label: "Temperature", unit: "°C", highIsHot: true },
  { id: "tokensPerWatt", label: "Tokens per watt", unit: "tok/s/W", highIsHot: false },
  { id: "org", label: "Owning org", unit: "", highIsHot: false },
];

/** Stops of a perceptually even blue → yellow → red ramp (readable on dark and light). */
const RAMP = [
  [49, 104, 142],
  [53, 183, 121],
  [253, 231, 37],
  [244, 109, 67],
  [215, 48, 39],
];

const DARKEN_ABOVE = 0.15;
const DARKEN_BELOW = 0.23;

/** The ramp's color at `t` in [0, 1], always readable under black or white text. */
export function ramp(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  const mixed = [0, 1, 2].map((k) => a[k]! + (b[k]! - a[k]!) * f);
  // Between these luminances neither black nor white text reaches 4.5:1: such colors are darkened
  // just enough for white text to.
  const l = luminance(`rgb(${mixed.map(Math.round).join(",")})`)!;
  const scale = l > DARKEN_ABOVE && l < DARKEN_BELOW ? (DARKEN_ABOVE / l) ** (1 / 2.2) : 1;
  const [r, g, bl] = mixed.map((v) => Math.round(v * scale)) as [number, number, number];
  return `rgb(${r},${g},${bl})`;
}

const ORG_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f"];

/** A stable color for an org (by the order of `orgs`); unowned racks are grey. */
export function orgColor(org: string | null, orgs: string[]): string {
  if (!org) return "#7f7f7f";
  const i = orgs.indexOf(org);
  return ORG_COLORS[(i >= 0 ? i : orgs.length) % ORG_COLORS.length]!;
}

/** The color of `value` on a floor whose values span [min, max]. */
export function measureColor(
  value: number | undefined,
  min: number,
  max: number,
  highIsHot: boolean,
): string {
  if (value === undefined || !Number.isFinite(value)) return "var(--unknown)";
  const t = max > min ? (value - min) / (max - min) : 0.5;
  return ramp(highIsHot ? t : 1 - t);
}

/** Relative luminance (WCAG 2) of an `rgb(r,g,b)` or `#rrggbb` color; undefined for anything else. */
export function luminance(color: string): number | undefined {
  const rgb = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(color);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  const parts = rgb
    ? rgb.slice(1, 4).map(Number)
    : hex
      ? hex.slice(1, 4).map((h) => Number.parseInt(h, 16))
      : undefined;
  if (!parts) return undefined;
  const [r, g, b] = parts.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Near-black or white, whichever reads better on `background` (the theme's text color when unknown). */
export function textOn(background: string): string {
  const l = luminance(background);
  if (l === undefined) return "var(--text)";
  // Contrast against black is (l + 0.05) / 0.05, against white 1.05 / (l + 0.05): they cross at l ≈ 0.18.
  return l > 0.18 ? "#0b0f14" : "#ffffff";
}
