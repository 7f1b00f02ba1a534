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

/** The ramp's color at `t` in [0, 1]. */
export function ramp(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  const c = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * f);
  return `rgb(${c(0)},${c(1)},${c(2)})`;
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
