/**
 * Workload power profiles and the policies that assign them (FACTS.md, "Power and performance"
 * and "How power is controlled on real equipment").
 *
 * A profile fixes a GPU's power cap and, optionally, its SM and memory clock limits. NVIDIA
 * ships two per GPU (NVML `nvmlDeviceWorkloadPowerProfile*`, DCGM, nvidia-smi, Redfish): MAX-P
 * and MAX-Q; Flightdeck keeps a training and an inference variant of each so a policy can tell
 * them apart, plus custom profiles. Every value carries its source: a FACTS.md line, or
 * "assumption: …" where no published figure exists.
 *
 * A policy is an ordered list of rules matched on a job's org, name (glob), kind and priority;
 * the first match wins, else the default. `applyProfiles` turns the result into the allocator's
 * input: MAX-Q lowers each GPU's `maxWatts`, and the job's curve is rescaled so its throughput
 * stays relative to the GPU's real maximum.
 *
 * @example
 * const policy = definePolicy({
 *   rules: [{ name: "batch", match: { priority: { max: 0 } }, profile: "max-q" }],
 *   default: "max-p",
 * });
 * const { profile, reason } = resolveProfile(policy, { id: "j1", priority: -1, kind: "inference" }, "h100-sxm");
 * // profile.name === "max-q-inference"; reason === 'rule 0 "batch" (priority ≤ 0)'
 */
import { builtinCatalog, type GpuSpec } from "@flightdeck/model";
import type { AllocationInput, GpuSlot, Job } from "./allocate.ts";
import type { ThroughputCurve } from "./curves.ts";

/** What a job does: caps bite in training and prefill, rarely in decode (FACTS.md). */
export type WorkloadKind = "training" | "inference";

/** NVIDIA's two workload power profiles, or one an operator defined. */
export type ProfileMode = "max-p" | "max-q" | "custom";

/** A value and where it comes from: a FACTS.md line, or "assumption: …". */
export interface Sourced<T> {
  readonly value: T;
  readonly source: string;
}

/** A frozen power profile for one GPU type. */
export interface PowerProfile {
  /** Unique per GPU type: `max-p-training`, `max-q-inference`, or a custom name. */
  readonly name: string;
  /** A key of the GPU catalog. */
  readonly gpuType: string;
  readonly mode: ProfileMode;
  /** The workload it is meant for; absent for a custom profile meant for any. */
  readonly kind?: WorkloadKind;
  /** The GPU's power cap under this profile. */
  readonly capWatts: Sourced<number>;
  /** `capWatts` / the GPU's maximum cap. */
  readonly capFraction: number;
  /** Upper limit of the SM (graphics) clock; absent: not limited. */
  readonly smClockMHz?: Sourced<number>;
  /** Upper limit of the memory clock; absent: not limited. */
  readonly memoryClockMHz?: Sourced<number>;
  /** In-band profile ID (NVML / nvidia-smi); absent for custom profiles. */
  readonly nvidiaSmiId?: Sourced<number>;
  /** Out-of-band (Redfish) profile ID; absent for custom profiles. */
  readonly redfishId?: Sourced<number>;
}

/** What a refused profile or policy names: the field at fault, in `field` and the message. */
export type ProfileErrorCode = "unknown-gpu" | "bad-profile" | "bad-policy" | "unknown-profile";

/** A refused profile, policy or lookup; `field` is the path of the bad value. */
export class ProfileError extends Error {
  readonly code: ProfileErrorCode;
  readonly field: string;
  constructor(code: ProfileErrorCode, field: string, message: string) {
    super(message);
    this.name = "ProfileError";
    this.code = code;
    this.field = field;
  }
}

/**
 * MAX-Q's cap as a fraction of the maximum: NVIDIA's Mission Control 3.0 claim of a data center
 * at 85% power with 7% throughput loss (FACTS.md); the twin uses the same figure
 * (`MAX_Q_POWER_FRACTION` in packages/sim/src/physics.ts).
 */
export const MAX_Q_CAP_FRACTION = 0.85;

const SRC_MAX = "FACTS.md: the GPU's maximum (and default) cap, from the device catalog";
const SRC_MAX_Q =
  "FACTS.md: NVIDIA's MAX-Q claim (Mission Control 3.0), a data center at 85% power with 7% throughput loss";
const SRC_BLACKWELL =
  "; Blackwell power profiles save up to 15% energy at ≥97% performance (FACTS.md), consistent with 85%";
const SRC_INFERENCE =
  "; assumption: NVIDIA publishes no separate inference figure, so inference uses the same cap (decode rarely reaches it, FACTS.md)";
const SRC_SMI =
  "NVML nvmlPowerProfileType_t (NVML_POWER_PROFILE_MAX_P = 0, MAX_Q = 1; not in FACTS.md, matches the twin's PROFILE_MAX_P / PROFILE_MAX_Q); assumption: one ID serves training and inference";
const SRC_REDFISH = "FACTS.md: out-of-band (Redfish) profile IDs = nvidia-smi ID + 3";
const BLACKWELL = new Set(["b200", "gb200"]);
const KINDS: readonly WorkloadKind[] = ["training", "inference"];

/** The built-in name of NVIDIA's profile `mode` for `kind`: `max-q-inference`. */
export function builtinProfileName(mode: "max-p" | "max-q", kind: WorkloadKind): string {
  return `${mode}-${kind}`;
}

/**
 * MAX-P and MAX-Q, for training and for inference, of one GPU type (four frozen profiles). No
 * built-in profile limits clocks: no per-GPU clock figure is published in FACTS.md.
 */
export function builtinProfiles(
  gpuType: string,
  gpus: Readonly<Record<string, GpuSpec>> = builtinCatalog.gpus,
): readonly PowerProfile[] {
  const spec = gpuSpec(gpuType, gpus, "gpuType");
  const out: PowerProfile[] = [];
  for (const mode of ["max-p", "max-q"] as const) {
    const smiId = mode === "max-p" ? 0 : 1;
    for (const kind of KINDS) {
      const fraction = mode === "max-p" ? 1 : MAX_Q_CAP_FRACTION;
      let source = mode === "max-p" ? SRC_MAX : SRC_MAX_Q;
      if (mode === "max-q" && BLACKWELL.has(gpuType)) source += SRC_BLACKWELL;
      if (mode === "max-q" && kind === "inference") source += SRC_INFERENCE;
      out.push(
        Object.freeze({
          name: builtinProfileName(mode, kind),
          gpuType,
          mode,
          kind,
          capWatts: Object.freeze({ value: Math.round(fraction * spec.maxWatts), source }),
          capFraction: Math.round(fraction * spec.maxWatts) / spec.maxWatts,
          nvidiaSmiId: Object.freeze({ value: smiId, source: SRC_SMI }),
          redfishId: Object.freeze({ value: smiId + 3, source: SRC_REDFISH }),
        }),
      );
    }
  }
  return Object.freeze(out);
}

/** An operator's profile: exactly one of `capWatts` and `capFraction`. */
export interface CustomProfileInput {
  readonly name: string;
  readonly gpuType: string;
  readonly kind?: WorkloadKind;
  readonly capWatts?: number;
  /** Of the GPU's maximum cap, in (0, 1]. */
  readonly capFraction?: number;
  readonly smClockMHz?: number;
  readonly memoryClockMHz?: number;
  /** Why these values (default "custom profile <name>"). */
  readonly source?: string;
}

/** Validates a custom profile; throws `ProfileError` naming the field at fault. */
export function defineProfile(
  input: CustomProfileInput,
  gpus: Readonly<Record<string, GpuSpec>> = builtinCatalog.gpus,
): PowerProfile {
  const where = `profile "${input.name}"`;
  if (typeof input.name !== "string" || !/^[a-z0-9][a-z0-9._-]*$/i.test(input.name))
    throw new ProfileError("bad-profile", "name", `${where}: name must be letters, digits, '.', '_' or '-'`);
  if (/^max-[pq](-|$)/.test(input.name))
    throw new ProfileError("bad-profile", "name", `${where}: name is reserved for a built-in profile`);
  const spec = gpuSpec(input.gpuType, gpus, "gpuType");
  if (input.kind !== undefined && !KINDS.includes(input.kind))
    throw new ProfileError("bad-profile", "kind", `${where}: kind must be training or inference`);
  if ((input.capWatts === undefined) === (input.capFraction === undefined))
    throw new ProfileError(
      "bad-profile",
      "capWatts",
      `${where}: give exactly one of capWatts and capFraction`,
    );
  let cap: number;
  let field: string;
  if (input.capFraction !== undefined) {
    field = "capFraction";
    if (!(input.capFraction > 0 && input.capFraction <= 1))
      throw new ProfileError(
        "bad-profile",
        field,
        `${where}: capFraction ${input.capFraction} is not in (0, 1]`,
      );
    cap = input.capFraction * spec.maxWatts;
  } else {
    field = "capWatts";
    cap = input.capWatts!;
  }
  if (!Number.isFinite(cap) || cap < spec.minWatts || cap > spec.maxWatts)
    throw new ProfileError(
      "bad-profile",
      field,
      `${where}: ${field} gives ${cap} W, outside ${input.gpuType}'s [${spec.minWatts}, ${spec.maxWatts}] W`,
    );
  const source = input.source ?? `custom profile ${input.name}`;
  const clock = (f: "smClockMHz" | "memoryClockMHz") => {
    const v = input[f];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v <= 0)
      throw new ProfileError("bad-profile", f, `${where}: ${f} must be a positive integer (got ${v})`);
    return Object.freeze({ value: v, source });
  };
  const sm = clock("smClockMHz");
  const mem = clock("memoryClockMHz");
  return Object.freeze({
    name: input.name,
    gpuType: input.gpuType,
    mode: "custom" as const,
    ...(input.kind !== undefined && { kind: input.kind }),
    capWatts: Object.freeze({ value: cap, source }),
    capFraction: cap / spec.maxWatts,
    ...(sm && { smClockMHz: sm }),
    ...(mem && { memoryClockMHz: mem }),
  });
}

function gpuSpec(gpuType: string, gpus: Readonly<Record<string, GpuSpec>>, field: string): GpuSpec {
  const spec = Object.hasOwn(gpus, gpuType) ? gpus[gpuType] : undefined;
  if (!spec) throw new ProfileError("unknown-gpu", field, `unknown GPU type "${gpuType}" in ${field}`);
  return spec;
}

/** A GPU with its profile applied: `maxWatts` lowered to the profile's cap (never raised). */
export function applyProfile(gpu: GpuSlot, profile: PowerProfile): GpuSlot {
  const cap = profile.capWatts.value;
  if (cap < gpu.minWatts)
    throw new ProfileError(
      "bad-profile",
      "capWatts",
      `profile "${profile.name}": cap ${cap} W is below GPU ${gpu.id}'s minimum ${gpu.minWatts} W`,
    );
  return Object.freeze({ ...gpu, maxWatts: Math.min(gpu.maxWatts, cap) });
}

/** `curve` for caps measured against `fraction` × the old maximum: r'(x) = r(fraction · x). */
function rescale(curve: ThroughputCurve, fraction: number): ThroughputCurve {
  return fraction === 1 ? curve : (x) => curve(fraction * x);
}

/**
 * The allocator's input with each job's profile applied: its GPUs' `maxWatts` lowered, its
 * curve rescaled so `tokensPerSecond` stays the throughput at the GPU's real maximum (the
 * allocator reads the curve at cap / the job's lowest `maxWatts`). `profileOf` returns
 * undefined for a job that keeps its range. GPUs in no job are unchanged.
 */
export function applyProfiles(
  input: AllocationInput,
  profileOf: (job: Job) => PowerProfile | undefined,
): AllocationInput {
  const index = input.gpuIndex ?? new Map(input.gpus.map((g, i) => [g.id, i]));
  const gpus = input.gpus.slice();
  const jobs = input.jobs.map((job) => {
    const profile = profileOf(job);
    if (!profile) return job;
    let before = Number.POSITIVE_INFINITY;
    let after = Number.POSITIVE_INFINITY;
    for (const id of job.gpus) {
      const i = index.get(id);
      if (i === undefined) return job; // the allocator reports the unknown GPU
      before = Math.min(before, input.gpus[i]!.maxWatts);
      gpus[i] = applyProfile(input.gpus[i]!, profile);
      after = Math.min(after, gpus[i]!.maxWatts);
    }
    return after < before ? { ...job, curve: rescale(job.curve, after / before) } : job;
  });
  return { ...input, gpus, jobs };
}

/** The job traits a policy matches on; an allocator `Job` plus its name, org and kind. */
export interface PolicyJob {
  readonly id: string;
  /** Matched by `ProfileRule.match.job` (default: the id). */
  readonly name?: string;
  readonly org?: string;
  /** Picks the variant of `max-p` / `max-q` (default training). */
  readonly kind?: WorkloadKind;
  /** As in the allocator (default 0). */
  readonly priority?: number;
}

/** One rule: every condition given must hold; a rule with none matches every job. */
export interface ProfileRule {
  /** Shown in explanations (default: the rule's index). */
  readonly name?: string;
  readonly match: {
    readonly org?: string;
    /** Glob over the job's name: `*` any run, `?` one character. */
    readonly job?: string;
    readonly kind?: WorkloadKind;
    /** Inclusive bounds; either may be absent. */
    readonly priority?: { readonly min?: number; readonly max?: number };
  };
  /** `max-p` / `max-q` (variant by the job's kind), a built-in full name, or a custom profile's. */
  readonly profile: string;
}

/** Ordered rules, first match wins, then `default`; `profiles` holds the custom profiles. */
export interface ProfilePolicy {
  readonly rules: readonly ProfileRule[];
  readonly default: string;
  readonly profiles: readonly PowerProfile[];
}

/** Which profile a job gets and why. */
export interface Resolution {
  readonly profile: PowerProfile;
  /** The rule that matched; null when the default applied. */
  readonly rule: ProfileRule | null;
  /** Its index in `rules`, -1 for the default. */
  readonly ruleIndex: number;
  /** `rule 2 "batch" (org = research, priority ≤ 0)` or `default`. */
  readonly reason: string;
}

const BUILTIN_REF = /^max-[pq](-(training|inference))?$/;

/**
 * Validates and freezes a policy: every rule's conditions well formed, every profile it names
 * built in or among `profiles` (custom names unique per GPU type). Throws `ProfileError`.
 */
export function definePolicy(input: {
  rules: readonly ProfileRule[];
  default: string;
  profiles?: readonly PowerProfile[];
}): ProfilePolicy {
  const profiles = input.profiles ?? [];
  const seen = new Set<string>();
  profiles.forEach((p, i) => {
    const key = `${p.gpuType}/${p.name}`;
    if (seen.has(key))
      throw new ProfileError(
        "bad-policy",
        `profiles[${i}]`,
        `profiles[${i}]: profile "${p.name}" defined twice for ${p.gpuType}`,
      );
    seen.add(key);
  });
  const known = (ref: string) => BUILTIN_REF.test(ref) || profiles.some((p) => p.name === ref);
  input.rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (!known(rule.profile))
      throw new ProfileError(
        "unknown-profile",
        `${at}.profile`,
        `${at}.profile: no profile "${rule.profile}"`,
      );
    const { kind, priority, org, job } = rule.match ?? {};
    if (kind !== undefined && !KINDS.includes(kind))
      throw new ProfileError(
        "bad-policy",
        `${at}.match.kind`,
        `${at}.match.kind must be training or inference`,
      );
    for (const [f, v] of [
      ["org", org],
      ["job", job],
    ] as const)
      if (v !== undefined && (typeof v !== "string" || v === ""))
        throw new ProfileError(
          "bad-policy",
          `${at}.match.${f}`,
          `${at}.match.${f} must be a non-empty string`,
        );
    if (priority) {
      const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = priority;
      if (Number.isNaN(min) || Number.isNaN(max) || min > max)
        throw new ProfileError(
          "bad-policy",
          `${at}.match.priority`,
          `${at}.match.priority: min ${min} is above max ${max}`,
        );
    }
  });
  if (!known(input.default))
    throw new ProfileError("unknown-profile", "default", `default: no profile "${input.default}"`);
  return Object.freeze({
    rules: Object.freeze(
      input.rules.map((r) => Object.freeze({ ...r, match: Object.freeze({ ...r.match }) })),
    ),
    default: input.default,
    profiles: Object.freeze(profiles.slice()),
  });
}

/**
 * The profile `job` gets on `gpuType`: the first rule that matches, else the default. Throws
 * `ProfileError` (`unknown-profile`) when the chosen custom profile has no variant for the type.
 */
export function resolveProfile(
  policy: ProfilePolicy,
  job: PolicyJob,
  gpuType: string,
  gpus: Readonly<Record<string, GpuSpec>> = builtinCatalog.gpus,
): Resolution {
  const ruleIndex = policy.rules.findIndex((r) => matches(r, job));
  const rule = ruleIndex >= 0 ? policy.rules[ruleIndex]! : null;
  const ref = rule ? rule.profile : policy.default;
  const reason = rule ? `rule ${ruleIndex} "${rule.name ?? ruleIndex}" (${describe(rule)})` : "default";
  return Object.freeze({
    profile: lookup(policy, ref, job.kind ?? "training", gpuType, gpus),
    rule,
    ruleIndex,
    reason,
  });
}

function matches(rule: ProfileRule, job: PolicyJob): boolean {
  const m = rule.match;
  if (m.org !== undefined && m.org !== job.org) return false;
  if (m.kind !== undefined && m.kind !== (job.kind ?? "training")) return false;
  if (m.job !== undefined && !glob(m.job).test(job.name ?? job.id)) return false;
  if (m.priority) {
    const p = job.priority ?? 0;
    if (m.priority.min !== undefined && p < m.priority.min) return false;
    if (m.priority.max !== undefined && p > m.priority.max) return false;
  }
  return true;
}

function describe(rule: ProfileRule): string {
  const m = rule.match;
  const parts: string[] = [];
  if (m.org !== undefined) parts.push(`org = ${m.org}`);
  if (m.job !== undefined) parts.push(`job ~ ${m.job}`);
  if (m.kind !== undefined) parts.push(`kind = ${m.kind}`);
  if (m.priority?.min !== undefined) parts.push(`priority ≥ ${m.priority.min}`);
  if (m.priority?.max !== undefined) parts.push(`priority ≤ ${m.priority.max}`);
  return parts.length > 0 ? parts.join(", ") : "any job";
}

function glob(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === "*" ? ".*" : c === "?" ? "." : `\\${c}`));
  return new RegExp(`^${body}$`);
}

function lookup(
  policy: ProfilePolicy,
  ref: string,
  kind: WorkloadKind,
  gpuType: string,
  gpus: Readonly<Record<string, GpuSpec>>,
): PowerProfile {
  if (BUILTIN_REF.test(ref)) {
    const name = ref.length > "max-p".length ? ref : `${ref}-${kind}`;
    return builtinProfiles(gpuType, gpus).find((p) => p.name === name)!;
  }
  const found = policy.profiles.find((p) => p.name === ref && p.gpuType === gpuType);
  if (!found)
    throw new ProfileError(
      "unknown-profile",
      "gpuType",
      `profile "${ref}" is not defined for GPU type ${gpuType}`,
    );
  return found;
}
