/**
 * The AI factory model: the description format (YAML + JSON Schema), validation, the built-in
 * device catalog, and the graph of everything in the factory. Pure: imports nothing of ours.
 */
export {
  type BuildResult,
  buildFactory,
  DEFAULT_DERATING,
  type FactorySummary,
  mergeCatalog,
  overheadWatts,
} from "./build.ts";
export {
  builtinCatalog,
  type Catalog,
  type GpuSpec,
  type NodeSpec,
  type RackSpec,
  type Rating,
  ratingWatts,
  type SwitchSpec,
} from "./catalog.ts";
export { diffGraphs, type EntityChange, type GraphDiff } from "./diff.ts";
export type { DocPath, FactoryDoc } from "./document.ts";
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_INTERVAL_SECONDS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_SECONDS,
  type Endpoint,
  type EndpointDoc,
  type EndpointsConfig,
  type EndpointsDoc,
  expandEndpoint,
} from "./endpoints.ts";
export { ENTITY_KINDS, type Entity, type EntityKind, FactoryGraph, type Link } from "./graph.ts";
export {
  compileSchema,
  factorySchema,
  type LoadResult,
  loadFactory,
  loadFactoryFile,
  loadYamlDocument,
  type YamlLoadResult,
} from "./load.ts";
export { expandPattern, PatternError, substitute } from "./pattern.ts";
export { formatPath, formatProblem, type Problem, ProblemList, type Severity } from "./problems.ts";
