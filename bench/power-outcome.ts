/**
 * The power outcome benchmark (`npm run bench:power`): the twin in-process, trace-driven, one
 * run per policy and facility budget with the same seed and workload, and the oversubscription
 * search. See docs/power.md, "Outcome benchmark".
 *
 *   npm run bench:power                      the table
 *   npm run bench:power -- --json            one JSON line per policy and budget
 *   npm run bench:power -- --horizon 300     a shorter run (seconds of sim time; default 1800)
 *   npm run bench:power -- --variants        also the prototyped controller inputs
 */
import { PSU_EFFICIENCY } from "@flightdeck/sim";
import { type Row, report } from "./lib.ts";
import { type FlightdeckVariant, POLICIES, type PolicyName } from "./power-outcome-policies.ts";
import { type RunResult, runOnce } from "./power-outcome-run.ts";

/** Racks of the base factory (4 DGX H100 each: 40 systems, 320 GPUs). */
export const BASE_RACKS = 10;
export const FRACTIONS = [1.0, 0.9, 0.85, 0.8, 0.7] as const;
/** Token loss allowed to the grown factory against its own unconstrained run. */
const OVERSUBSCRIPTION_MAX_LOSS = 0.02;

/** Prototyped controller inputs, measured with `--variants` (see docs/power.md). */
const VARIANTS: [string, FlightdeckVariant][] = [
  // The earlier default: inference gaining 2% between its knee and the maximum cap.
  ["flightdeck-sloped-decode", { decode: [0.4, 0.02] }],
  ["flightdeck+psu94", { psuEfficiency: PSU_EFFICIENCY }],
  // Hosts' other draw planned from meters (peak of 5 min + 10%) where that leaves GPUs more.
  ["flightdeck+measured-other", { otherDraw: "measured" }],
];
const OVERSUBSCRIPTION_VARIANT = VARIANTS[1]!;

/** One row of the outcome table, as `--json` prints it. */
export interface OutcomeRow {
  policy: string;
  budgetFraction: number;
  tokensRelative: number;
  tokensPerJoule: number;
  secondsOverLimit: number;
  worstReactionSeconds: number;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const json = process.argv.includes("--json");
const variants = process.argv.includes("--variants");
const horizonSeconds = Number(argValue("--horizon") ?? 1800);
if (!(horizonSeconds > 0))
  throw new Error(`--horizon must be positive seconds, got ${argValue("--horizon")}`);
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

const started = performance.now();
const base = runOnce({ racks: BASE_RACKS, horizonSeconds, policy: "none" });
log(
  `unconstrained: peak ${(base.peakFacilityWatts / 1000).toFixed(1)} kW, ${base.tokens.toExponential(4)} tokens`,
);

const rowOf = (policy: string, fraction: number, r: RunResult): OutcomeRow => ({
  policy,
  budgetFraction: fraction,
  tokensRelative: r.tokens / base.tokens,
  tokensPerJoule: r.tokens / r.facilityJoules,
  secondsOverLimit: r.secondsOverLimit,
  worstReactionSeconds: r.worstReactionSeconds,
});

const rows: OutcomeRow[] = [];
const measure = (policy: PolicyName, label: string, fraction: number, variant?: FlightdeckVariant) => {
  const r = runOnce({
    racks: BASE_RACKS,
    horizonSeconds,
    policy,
    budgetWatts: fraction * base.peakFacilityWatts,
    weights: base.jobRates,
    ...(variant ? { variant } : {}),
  });
  const row = rowOf(label, fraction, r);
  rows.push(row);
  if (json) console.log(JSON.stringify(row));
  else log(`${label} at ${fraction}: ${fmt(row)}`);
};
for (const policy of POLICIES) for (const fraction of FRACTIONS) measure(policy, policy, fraction);
if (variants)
  for (const [label, variant] of VARIANTS)
    for (const fraction of FRACTIONS) measure("flightdeck", label, fraction, variant);

/**
 * Oversubscription: racks added to the base set under the base set's unconstrained peak (the
 * envelope), Flightdeck managing; the most that keep the loss against the grown set's own
 * unconstrained run within 2% and never go over a limit.
 */
function oversubscribe(variant?: FlightdeckVariant): { racks: number; loss: number } {
  const envelope = base.peakFacilityWatts;
  let best = { racks: 0, loss: 0 };
  for (let extra = 1; extra <= BASE_RACKS; extra++) {
    const racks = BASE_RACKS + extra;
    const free = runOnce({ racks, horizonSeconds, policy: "none" });
    const managed = runOnce({
      racks,
      horizonSeconds,
      policy: "flightdeck",
      budgetWatts: envelope,
      weights: free.jobRates,
      ...(variant ? { variant } : {}),
    });
    const loss = 1 - managed.tokens / free.tokens;
    log(
      `oversubscription${variant ? " (variant)" : ""} +${extra} racks: loss ${(loss * 100).toFixed(2)}%, ` +
        `${managed.secondsOverLimit} s over, unconstrained peak ${(free.peakFacilityWatts / envelope).toFixed(3)} of the envelope`,
    );
    if (loss > OVERSUBSCRIPTION_MAX_LOSS || managed.secondsOverLimit > 0) break;
    best = { racks: extra, loss };
  }
  return best;
}

const growth: [string, { racks: number; loss: number }][] = [];
if (!json) {
  growth.push(["flightdeck", oversubscribe()]);
  if (variants) growth.push([OVERSUBSCRIPTION_VARIANT[0], oversubscribe(OVERSUBSCRIPTION_VARIANT[1])]);
}
const seconds = (performance.now() - started) / 1000;

if (!json) {
  const table: Row[] = rows.flatMap((r) => {
    const bench = `power.outcome.${r.policy}@${Math.round(r.budgetFraction * 100)}%`;
    const at85 = r.policy === "flightdeck" && r.budgetFraction === 0.85;
    return [
      {
        bench,
        metric: "tokens relative to unconstrained",
        value: r.tokensRelative,
        unit: "",
        target: at85 ? ">= 0.97" : "",
      },
      { bench, metric: "tokens per joule (facility)", value: r.tokensPerJoule, unit: "tok/J", target: "" },
      {
        bench,
        metric: "seconds over any limit",
        value: r.secondsOverLimit,
        unit: "s",
        target: at85 ? "<= 0" : "",
      },
      { bench, metric: "worst reaction time", value: r.worstReactionSeconds, unit: "s", target: "" },
    ];
  });
  for (const [label, g] of growth)
    table.push({
      bench: `power.outcome.oversubscription.${label}`,
      metric: `more racks in the same envelope at <= 2% loss (+${g.racks}: ${(g.loss * 100).toFixed(2)}%)`,
      value: (g.racks / BASE_RACKS) * 100,
      unit: "%",
      target: ">= 30",
    });
  table.push({
    bench: "power.outcome",
    metric: `wall time, ${horizonSeconds} s horizon`,
    value: seconds,
    unit: "s",
    target: "",
  });
  report(table, false);
}

function fmt(r: OutcomeRow): string {
  return `tokens ${r.tokensRelative.toFixed(4)}, ${r.tokensPerJoule.toFixed(3)} tok/J, ${r.secondsOverLimit} s over, worst ${r.worstReactionSeconds} s`;
}
