/** Example factories and shared data for the tests, located from this file. */
import { fileURLToPath } from "node:url";
import { type Catalog, type FactoryGraph, formatProblem, loadFactoryFile } from "@flightdeck/model";

/** A path under the repository root. */
export const repoPath = (relative: string): string =>
  fileURLToPath(new URL(`../../../${relative}`, import.meta.url));

/** A path in the shared data beside the repository (`../shared/data/...` from its root). */
export const sharedData = (relative: string): string => repoPath(`../shared/data/${relative}`);

/** Loads an example factory; throws listing its problems if it does not load. */
export function example(name: string): { graph: FactoryGraph; catalog: Catalog; file: string } {
  const file = repoPath(`examples/factories/${name}.yaml`);
  const result = loadFactoryFile(file);
  if (!result.ok || !result.build)
    throw new Error(result.problems.map((p) => formatProblem(file, p)).join("\n"));
  return { graph: result.build.graph, catalog: result.build.catalog, file };
}
