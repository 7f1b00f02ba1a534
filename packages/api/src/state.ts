/**
 * The factory the control plane runs on: the current revision's graph, rebuilt from the stored
 * description at start, and replaced only when a new description validates completely.
 */
import { createHash } from "node:crypto";
import { type BuildResult, diffGraphs, type GraphDiff, loadFactory, type Problem } from "@flightdeck/model";
import type { RevisionSummary, Store } from "@flightdeck/store";

export interface CurrentFactory {
  revision: number;
  sha256: string;
  build: BuildResult;
}

export type ApplyOutcome =
  | { ok: false; problems: Problem[] }
  | {
      ok: true;
      unchanged: boolean;
      revision: RevisionSummary | undefined;
      diff: GraphDiff;
      problems: Problem[];
    };

export class FactoryState {
  private current: CurrentFactory | undefined;
  /** Applies are serialized so that each diff is against the revision it replaces. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: ((factory: CurrentFactory) => void)[] = [];

  constructor(private readonly store: Store) {}

  get factory(): CurrentFactory | undefined {
    return this.current;
  }

  /** Calls `listener` whenever a revision becomes current (loaded at start, or applied). */
  onChange(listener: (factory: CurrentFactory) => void): void {
    this.listeners.push(listener);
  }

  private setCurrent(factory: CurrentFactory): void {
    this.current = factory;
    for (const listener of this.listeners) listener(factory);
  }

  /** Loads the latest stored revision; a stored revision that no longer validates is an error. */
  async load(): Promise<void> {
    const latest = await this.store.latestRevision();
    if (!latest) return;
    const result = loadFactory(latest.source);
    if (!result.ok || !result.build) {
      const first = result.problems.find((p) => p.severity === "error");
      throw new Error(
        `stored revision ${latest.id} does not validate: ${first?.message ?? "unknown problem"}`,
      );
    }
    this.setCurrent({ revision: latest.id, sha256: latest.sha256, build: result.build });
  }

  /** Validates a description and the diff it would make, without storing anything. */
  check(source: string): { ok: boolean; problems: Problem[]; diff?: GraphDiff; build?: BuildResult } {
    const result = loadFactory(source);
    if (!result.ok || !result.build) return { ok: false, problems: result.problems };
    return {
      ok: true,
      problems: result.problems,
      diff: diffGraphs(this.current?.build.graph, result.build.graph),
      build: result.build,
    };
  }

  /**
   * Applies a description as a new revision. A description with any error is rejected whole and
   * the current revision stays; the same text as the current revision changes nothing.
   */
  apply(source: string, sourceName: string, actor: string): Promise<ApplyOutcome> {
    const run = async (): Promise<ApplyOutcome> => {
      const sha256 = createHash("sha256").update(source).digest("hex");
      if (this.current?.sha256 === sha256) {
        // The stored text validated when it was applied; there is no need to build it again.
        return {
          ok: true,
          unchanged: true,
          revision: undefined,
          diff: diffGraphs(undefined, undefined),
          problems: [],
        };
      }
      const checked = this.check(source);
      if (!checked.ok || !checked.build || !checked.diff) return { ok: false, problems: checked.problems };
      const build = checked.build;
      const record = await this.store.appendRevision({
        source,
        sourceName,
        sha256,
        summary: build.summary,
        diff: checked.diff,
        actor,
        orgs: Object.keys(build.summary.orgs),
      });
      this.setCurrent({ revision: record.id, sha256, build });
      const { source: _s, diff: _d, ...summary } = record;
      return {
        ok: true,
        unchanged: false,
        revision: summary,
        diff: checked.diff,
        problems: checked.problems,
      };
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
