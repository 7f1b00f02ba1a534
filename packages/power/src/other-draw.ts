/**
 * Non-GPU draw learned from meters. A budget's GPU watts start from the nodes' nameplate
 * overhead (CPUs, memory, NICs, fans at full load), which strands power wherever the hosts idle.
 * Where a level is metered and every GPU under it reports its draw, its other draw is the
 * meter's watts after the supplies' losses less the GPUs' draw; its peak over a window, with a
 * margin, may then replace the nameplate figure.
 *
 * It is used only where it gives GPUs more than nameplate planning does, and then planned so
 * that GPUs at their caps with the other draw at that margin stay under the safety loop's first
 * threshold: a host that draws more than it did in the window is the safety loop's to catch
 * (within one interval, low priority first), and the next reading raises the peak at once.
 */

/** How far back the peak looks. */
export const OTHER_DRAW_WINDOW_MS = 5 * 60_000;
/** Planned other draw: the window's peak times this. */
export const OTHER_DRAW_MARGIN = 1.1;
/** Readings needed before a level's peak is trusted. */
export const OTHER_DRAW_MIN_SAMPLES = 3;

/** What a level's GPUs may draw together, and where its other draw came from. */
export interface PlannedLevel {
  gpuWatts: number;
  otherWatts: number;
  otherFrom: "nameplate" | "meters";
}

export class OtherDrawWindow {
  private readonly samples = new Map<string, { atMs: number; watts: number }[]>();

  /** One level's other draw at `atMs` (ignored unless finite and not negative). */
  record(level: string, atMs: number, watts: number): void {
    if (!(Number.isFinite(watts) && watts >= 0)) return;
    let list = this.samples.get(level);
    if (!list) {
      list = [];
      this.samples.set(level, list);
    }
    list.push({ atMs, watts });
    while (list.length > 0 && list[0]!.atMs <= atMs - OTHER_DRAW_WINDOW_MS) list.shift();
  }

  /** The window's peak at `nowMs`, undefined with too few readings in it. */
  peak(level: string, nowMs: number): number | undefined {
    const list = this.samples.get(level);
    if (!list) return undefined;
    let count = 0;
    let most = 0;
    for (const s of list)
      if (s.atMs > nowMs - OTHER_DRAW_WINDOW_MS) {
        count++;
        most = Math.max(most, s.watts);
      }
    return count >= OTHER_DRAW_MIN_SAMPLES ? most : undefined;
  }

  /**
   * A level's GPU watts: from the measured peak where that gives more than the nameplate
   * figure, kept under `firstThreshold` of the limit.
   */
  plan(
    level: { id: string; limitWatts: number; fixedWatts: number; watts: number },
    efficiency: number,
    firstThreshold: number,
    nowMs: number,
  ): PlannedLevel {
    const peak = this.peak(level.id, nowMs);
    const nameplate: PlannedLevel = {
      gpuWatts: level.watts,
      otherWatts: level.fixedWatts,
      otherFrom: "nameplate",
    };
    if (peak === undefined) return nameplate;
    const otherWatts = Math.min(level.fixedWatts, peak * OTHER_DRAW_MARGIN);
    const gpuWatts = level.limitWatts * efficiency * firstThreshold - otherWatts;
    return gpuWatts > level.watts ? { gpuWatts, otherWatts, otherFrom: "meters" } : nameplate;
  }
}
