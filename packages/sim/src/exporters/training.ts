/**
 * A training job's own metrics, as its trainer would export them for Prometheus. There is no
 * standard for these (every framework names its own); the names below are Flightdeck's and are
 * documented in docs/twin.md. One page per job at `/jobs/NAME/metrics`.
 */
import type { JobRuntime } from "../jobs.ts";

/** Renders a training job's page in the Prometheus text format 0.0.4. */
export function renderTrainingPage(job: JobRuntime): string {
  const spec = job.spec;
  if (spec.type !== "training") throw new Error(`${spec.name} is not a training job`);
  const labels = `{job_name=${quote(spec.name)},model_name=${quote(spec.model.name)}}`;
  const lines = [
    "# HELP training_tokens_total Tokens trained on: completed optimizer steps times the global batch in tokens.",
    "# TYPE training_tokens_total counter",
    `training_tokens_total${labels} ${job.trainingTokens}`,
    "# HELP training_steps_total Completed optimizer steps.",
    "# TYPE training_steps_total counter",
    `training_steps_total${labels} ${job.steps}`,
    "# HELP training_step_duration_seconds Duration of the optimizer step now running.",
    "# TYPE training_step_duration_seconds gauge",
    `training_step_duration_seconds${labels} ${job.stepSeconds}`,
    "# HELP training_global_batch_tokens Tokens in one optimizer step over all ranks.",
    "# TYPE training_global_batch_tokens gauge",
    `training_global_batch_tokens${labels} ${spec.globalBatchTokens}`,
    "# HELP training_world_size GPUs (ranks) in the job.",
    "# TYPE training_world_size gauge",
    `training_world_size${labels} ${job.gpus.length}`,
    "# HELP training_stalled_seconds_total Time the job made no progress, waiting on a lost rank.",
    "# TYPE training_stalled_seconds_total counter",
    `training_stalled_seconds_total${labels} ${job.stalledSeconds}`,
    "",
  ];
  return lines.join("\n");
}

/** A label value in the text format: backslash, double quote and newline escaped. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
