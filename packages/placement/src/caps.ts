/**
 * A request's profile turned into a cap per GPU type, through the power service's own resolution
 * (`resolveProfile`): `max-p` / `max-q` take the job's kind, a full built-in name or a custom
 * profile is used as is. A profile with no variant for a GPU type leaves that type's nodes out.
 */
import {
  definePolicy,
  type PowerProfile,
  ProfileError,
  resolveProfile,
  type WorkloadKind,
} from "@flightdeck/power";
import { PlacementError } from "./errors.ts";
import type { Topology } from "./topology.ts";

/** Cap and profile name per GPU type of the topology; NaN / "" where the profile has no variant. */
export interface Caps {
  readonly ref: string;
  readonly capWatts: Float64Array;
  readonly names: readonly string[];
}

/** Resolves caps, memoized per (profile, kind). Throws `PlacementError` for unknown or out-of-range profiles. */
export function capResolver(
  topo: Topology,
  profiles: readonly PowerProfile[],
): (ref: string, kind: WorkloadKind) => Caps {
  const memo = new Map<string, Caps>();
  const gpus = topo.build.catalog.gpus;
  // The settable range of each GPU type, as the factory's GPUs have it.
  const lo = new Float64Array(topo.gpuTypes.length).fill(Number.NaN);
  const hi = new Float64Array(topo.gpuTypes.length).fill(Number.NaN);
  for (let i = 0; i < topo.count; i++) {
    lo[topo.gpuType[i]!] = topo.minCap[i]!;
    hi[topo.gpuType[i]!] = topo.maxCap[i]!;
  }
  return (ref, kind) => {
    const key = `${ref}\u0000${kind}`;
    const hit = memo.get(key);
    if (hit) return hit;
    let policy: ReturnType<typeof definePolicy>;
    try {
      policy = definePolicy({ rules: [], default: ref, profiles });
    } catch (err) {
      if (err instanceof ProfileError)
        throw new PlacementError("unknown-profile", "profile", `no profile "${ref}" (built-in or custom)`);
      throw err;
    }
    const capWatts = new Float64Array(topo.gpuTypes.length).fill(Number.NaN);
    const names = topo.gpuTypes.map((type, t) => {
      let profile: PowerProfile;
      try {
        profile = resolveProfile(policy, { id: "", kind }, type, gpus).profile;
      } catch (err) {
        if (err instanceof ProfileError) return "";
        throw err;
      }
      const cap = profile.capWatts.value;
      if (!(cap >= lo[t]! && cap <= hi[t]!))
        throw new PlacementError(
          "bad-profile",
          "profile",
          `profile "${profile.name}" caps ${type} at ${cap} W, outside its settable range [${lo[t]}, ${hi[t]}] W`,
        );
      capWatts[t] = cap;
      return profile.name;
    });
    const caps = { ref, capWatts, names };
    memo.set(key, caps);
    return caps;
  };
}
