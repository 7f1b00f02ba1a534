/**
 * A scenario: what runs on the twin and what goes wrong, on a timeline — training jobs and
 * inference services arriving at given sim times, faults injected at given sim times, and where
 * placement decisions come from. YAML, checked like a factory file: YAML syntax, then a JSON
 * Schema, then meaning against the factory (targets exist, names are unique); every problem is
 * reported at once with its line and column.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
  compileSchema,
  type FactoryGraph,
  formatProblem,
  loadYamlDocument,
  type Problem,
  type ProblemList,
} from "@flightdeck/model";
import { FAULT_KINDS, type FaultKind } from "./faults.ts";
import { readAzureTrace } from "./trace.ts";

/** How a job's GPUs are capped: MAX-P (full power) or MAX-Q (efficiency), as FACTS.md. */
export type ProfileName = "max-p" | "max-q";

/** The model a job trains or serves. */
export interface ModelSpec {
  name: string;
  /** Parameter count. */
  parameters: number;
  /** KV cache bytes per token (inference); default scaled from Llama 3 70B (see jobs.ts). */
  kvBytesPerToken?: number;
}

interface JobCommon {
  name: string;
  /** Sim time the job is submitted (default 0). */
  at?: number;
  /** Org whose racks it must run in; any free node when absent. */
  org?: string;
  /** Lower numbers are more important (DPS convention: 0 highest). */
  priority?: number;
  profile?: ProfileName;
  model: ModelSpec;
  /** How long it runs once placed; forever when absent. */
  durationSeconds?: number;
}

/** A synchronous data-parallel training job. */
export interface TrainingJobSpec extends JobCommon {
  type: "training";
  gpus: number;
  /** Tokens per optimizer step over all GPUs. */
  globalBatchTokens: number;
  /** Model FLOPs utilization at full speed (default 0.4). */
  mfu?: number;
  /** Share of a step spent in collective communication at full speed (default 0.15). */
  commShare?: number;
}

/** Where an inference service's requests come from. */
export type RequestSource =
  | { trace: { file: string; rateScale?: number } }
  | { synthetic: { requestsPerSecond: number; promptTokensMean: number; generatedTokensMean: number } };

/** Replicas of a model server (one vLLM process each) behind one load balancer. */
export interface InferenceServiceSpec extends JobCommon {
  type: "inference";
  replicas: number;
  gpusPerReplica: number;
  /** Sequences a replica batches at once (vLLM `max_num_seqs`, default 256). */
  maxNumSeqs?: number;
  requests: RequestSource;
}

export type JobSpec = TrainingJobSpec | InferenceServiceSpec;

/** A fault on the timeline. */
export interface ScenarioFault {
  at: number;
  kind: FaultKind;
  target: string;
  durationSeconds?: number;
}

/** Placement through a Kubernetes scheduler extender (filter, then prioritize). */
export interface ExtenderConfig {
  /** Base URL; the verbs are appended: `${url}/${filterVerb}`. */
  url: string;
  filterVerb?: string;
  prioritizeVerb?: string;
  timeoutSeconds?: number;
}

export interface Scenario {
  apiVersion: "flightdeck/v1";
  kind: "Scenario";
  metadata: { name: string };
  placement?: { extender?: ExtenderConfig };
  jobs?: JobSpec[];
  faults?: ScenarioFault[];
}

const name = { type: "string", pattern: "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$" };
const seconds = { type: "number", minimum: 0 };
const positive = { type: "number", exclusiveMinimum: 0 };
const count = { type: "integer", minimum: 1 };
const common = {
  name,
  at: seconds,
  org: { type: "string", minLength: 1 },
  priority: { type: "integer", minimum: 0 },
  profile: { enum: ["max-p", "max-q"] },
  model: {
    type: "object",
    additionalProperties: false,
    required: ["name", "parameters"],
    properties: { name: { type: "string", minLength: 1 }, parameters: positive, kvBytesPerToken: positive },
  },
  durationSeconds: positive,
};

/** The JSON Schema of a scenario file. */
export const scenarioSchema: Record<string, unknown> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://flightdeck.dev/schema/scenario.schema.json",
  title: "Flightdeck twin scenario",
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "kind", "metadata"],
  properties: {
    apiVersion: { const: "flightdeck/v1" },
    kind: { const: "Scenario" },
    metadata: {
      type: "object",
      additionalProperties: false,
      required: ["name"],
      properties: { name: { type: "string", minLength: 1 } },
    },
    placement: {
      type: "object",
      additionalProperties: false,
      properties: {
        extender: {
          type: "object",
          additionalProperties: false,
          required: ["url"],
          properties: {
            url: { type: "string", pattern: "^https?://" },
            filterVerb: { type: "string", minLength: 1 },
            prioritizeVerb: { type: "string", minLength: 1 },
            timeoutSeconds: positive,
          },
        },
      },
    },
    jobs: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "type", "model"],
        properties: { type: { enum: ["training", "inference"] } },
        oneOf: [
          {
            additionalProperties: false,
            required: ["gpus", "globalBatchTokens"],
            properties: {
              ...common,
              type: { const: "training" },
              gpus: count,
              globalBatchTokens: count,
              mfu: { type: "number", exclusiveMinimum: 0, maximum: 1 },
              commShare: { type: "number", minimum: 0, exclusiveMaximum: 1 },
            },
          },
          {
            additionalProperties: false,
            required: ["replicas", "gpusPerReplica", "requests"],
            properties: {
              ...common,
              type: { const: "inference" },
              replicas: count,
              gpusPerReplica: count,
              maxNumSeqs: count,
              requests: {
                oneOf: [
                  {
                    type: "object",
                    additionalProperties: false,
                    required: ["trace"],
                    properties: {
                      trace: {
                        type: "object",
                        additionalProperties: false,
                        required: ["file"],
                        properties: { file: { type: "string", minLength: 1 }, rateScale: positive },
                      },
                    },
                  },
                  {
                    type: "object",
                    additionalProperties: false,
                    required: ["synthetic"],
                    properties: {
                      synthetic: {
                        type: "object",
                        additionalProperties: false,
                        required: ["requestsPerSecond", "promptTokensMean", "generatedTokensMean"],
                        properties: {
                          requestsPerSecond: positive,
                          promptTokensMean: { type: "number", minimum: 1 },
                          generatedTokensMean: { type: "number", minimum: 1 },
                        },
                      },
                    },
                  },
                ],
              },
            },
          },
        ],
      },
    },
    faults: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["at", "kind", "target"],
        properties: {
          at: seconds,
          kind: { enum: [...FAULT_KINDS] },
          target: { type: "string", minLength: 1 },
          durationSeconds: positive,
        },
      },
    },
  },
};

let validate: ReturnType<typeof compileSchema> | undefined;

/** The scenario could not be loaded: every problem, formatted `FILE:LINE:COL: message`. */
export class ScenarioError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`cannot load scenario ${file}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ScenarioError";
    this.problems = problems;
  }
}

/**
 * Loads a scenario from YAML text, checked against `graph`; `baseDir` resolves relative trace
 * files (they are rewritten to absolute paths). Throws ScenarioError listing every problem.
 */
export function loadScenario(text: string, graph: FactoryGraph, file = "scenario", baseDir = "."): Scenario {
  validate ??= compileSchema(scenarioSchema);
  const result = loadYamlDocument<Scenario, Scenario>(text, validate, (doc, problems) =>
    checkScenario(doc, graph, baseDir, problems),
  );
  const errors = result.problems.filter((p: Problem) => p.severity === "error");
  if (!result.ok || !result.built)
    throw new ScenarioError(
      file,
      errors.map((p) => formatProblem(file, p)),
    );
  return result.built;
}

/** Reads and loads a scenario file; see loadScenario. */
export async function loadScenarioFile(file: string, graph: FactoryGraph): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ScenarioError(file, [`${file}: cannot read: ${(err as Error).message}`]);
  }
  return loadScenario(text, graph, file, dirname(file));
}

function checkScenario(doc: Scenario, graph: FactoryGraph, baseDir: string, problems: ProblemList): Scenario {
  const seen = new Set<string>();
  const orgs = new Set(graph.ofKind("rack").map((r) => r.org));
  (doc.jobs ?? []).forEach((job, i) => {
    if (seen.has(job.name))
      problems.error(`job name ${JSON.stringify(job.name)} is used twice`, ["jobs", i, "name"]);
    seen.add(job.name);
    if (job.org !== undefined && !orgs.has(job.org))
      problems.error(`no rack of the factory belongs to org ${JSON.stringify(job.org)}`, ["jobs", i, "org"]);
    if (job.type === "inference" && "trace" in job.requests) {
      const file = resolve(baseDir, job.requests.trace.file);
      const at = ["jobs", i, "requests", "trace", "file"];
      if (!existsSync(file)) problems.error(`trace file not found: ${file}`, at);
      else {
        job.requests.trace.file = file;
        // Read it now: a malformed trace is a problem of the scenario, not a crash at placement.
        try {
          readAzureTrace(file);
        } catch (err) {
          problems.error(`trace: ${(err as Error).message}`, at);
        }
      }
    }
  });
  (doc.faults ?? []).forEach((fault, i) => {
    const entity = graph.get(fault.target);
    const wanted = FAULT_TARGET_KIND[fault.kind];
    if (!entity)
      problems.error(`no entity ${JSON.stringify(fault.target)} in the factory`, ["faults", i, "target"]);
    else if (entity.kind !== wanted)
      problems.error(`a ${fault.kind} fault needs a ${wanted}, not a ${entity.kind}`, [
        "faults",
        i,
        "target",
      ]);
  });
  return doc;
}

/** The entity kind each fault kind targets. */
export const FAULT_TARGET_KIND: Record<FaultKind, string> = {
  xid79: "gpu",
  xid48: "gpu",
  xid94: "gpu",
  xid95: "gpu",
  xid74: "gpu",
  straggler: "gpu",
  cooling: "rack",
  leafDegraded: "switch",
  feedLoss: "power",
  bmcUnreachable: "node",
};
