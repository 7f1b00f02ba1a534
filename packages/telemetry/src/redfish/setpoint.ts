/**
 * Power limit writes, for the power service's Redfish enforcement driver:
 *
 *   GPU      PATCH EnvironmentMetrics `{"PowerLimitWatts": {"SetPoint": W}}`   (NVIDIA HGX, FACTS.md)
 *   Control  PATCH Control `{"SetPoint": W}`                                   (DMTF Control, ControlType Power)
 *
 * A write returns once the service accepted it; it takes effect later (a BMC relays it to the
 * driver), so the caller confirms with {@link readBack} and counts the device at its worst until
 * the set point reads back (ARCHITECTURE: power safety).
 */
import type { RedfishClient, RedfishPatchResult } from "./client.ts";
import { RedfishError } from "./errors.ts";
import { at, numberAt, readingOf } from "./json.ts";
import { powerLimitOf } from "./poll.ts";
import type { PowerLimit } from "./types.ts";

/** A target to write: its URI and, when known, its bounds (checked before sending). */
export interface SetPointTarget {
  uri: string;
  powerLimit?: PowerLimit | undefined;
  minWatts?: number | undefined;
  maxWatts?: number | undefined;
}

/** Options of a write: `etag` sends If-Match, so a write based on a stale read is refused (412). */
export interface SetPointOptions {
  etag?: string;
}

/** Sets a GPU's power limit through its EnvironmentMetrics (`GpuTarget`/`GpuReading` or `{uri}`). */
export function setGpuPowerLimit(
  client: RedfishClient,
  gpu: SetPointTarget,
  watts: number,
  options: SetPointOptions = {},
): Promise<RedfishPatchResult> {
  check(gpu, watts);
  return client.patch(gpu.uri, { PowerLimitWatts: { SetPoint: watts } }, options);
}

/** Sets a power Control's SetPoint (`ControlTarget`/`ControlReading` or `{uri}`). */
export function setControlSetPoint(
  client: RedfishClient,
  control: SetPointTarget,
  watts: number,
  options: SetPointOptions = {},
): Promise<RedfishPatchResult> {
  check(control, watts);
  return client.patch(control.uri, { SetPoint: watts }, options);
}

/** What a limit reads back as. */
export interface SetPointReadBack extends PowerLimit {
  uri: string;
  /** The power the limit acts on now: PowerWatts of a GPU, Sensor.Reading of a control. */
  readingWatts: number | undefined;
  etag: string | undefined;
}

/**
 * Reads a limit back, from a GPU's EnvironmentMetrics or a Control, to confirm a write:
 * `(await readBack(client, gpu)).setPointWatts === watts`.
 */
export async function readBack(client: RedfishClient, target: { uri: string }): Promise<SetPointReadBack> {
  const { body, etag } = await client.get(target.uri);
  const limit = powerLimitOf(body);
  if (limit !== undefined)
    return { uri: target.uri, ...limit, readingWatts: readingOf(body, "PowerWatts"), etag };
  if (at(body, "SetPoint") === undefined)
    throw new RedfishError("missing-property", target.uri, "neither PowerLimitWatts nor SetPoint");
  return {
    uri: target.uri,
    setPointWatts: numberAt(body, "SetPoint"),
    minWatts: numberAt(body, "AllowableMin"),
    maxWatts: numberAt(body, "AllowableMax"),
    readingWatts: numberAt(body, "Sensor", "Reading"),
    etag,
  };
}

function check(target: SetPointTarget, watts: number): void {
  if (!Number.isFinite(watts) || watts < 0)
    throw new RedfishError(
      "out-of-range",
      target.uri,
      `set point ${watts} W is not a finite, non-negative number`,
    );
  const min = target.powerLimit?.minWatts ?? target.minWatts;
  const max = target.powerLimit?.maxWatts ?? target.maxWatts;
  if ((min !== undefined && watts < min) || (max !== undefined && watts > max))
    throw new RedfishError(
      "out-of-range",
      target.uri,
      `set point ${watts} W outside [${min ?? "-"}, ${max ?? "-"}] W`,
    );
}
