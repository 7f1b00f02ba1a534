/**
 * The jobs' own exporters on the twin's listener: a vLLM page per running inference replica at
 * `/inference/NAME/metrics` and a trainer's page per running training job at `/jobs/NAME/metrics`.
 * A job that has not started or has finished has no process, so its path answers 404.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { renderTrainingPage } from "./exporters/training.ts";
import type { JobEngine, Replica } from "./jobs.ts";
import { PROMETHEUS_TEXT, type SimHandler, send } from "./server.ts";

const JOB_PAGE = /^\/jobs\/([^/]+)\/metrics$/;
const REPLICA_PAGE = /^\/inference\/([^/]+)\/metrics$/;

/** Serves the pages of `engine`'s jobs; `renderReplica` renders a replica's model-server page. */
export function createJobService(engine: JobEngine, renderReplica: (replica: Replica) => string): SimHandler {
  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    const job = JOB_PAGE.exec(path);
    const replica = job ? null : REPLICA_PAGE.exec(path);
    if (!job && !replica) return false;
    const text = "text/plain; charset=utf-8";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      send(res, 405, text, `method ${req.method} not allowed\n`);
      return true;
    }
    const name = safeDecode((job ?? replica)![1]!);
    if (job) {
      const found = name === undefined ? undefined : engine.byName.get(name);
      if (found?.spec.type !== "training" || found.phase !== "running")
        send(res, 404, text, `no running training job named ${JSON.stringify(name ?? job[1])}\n`);
      else send(res, 200, PROMETHEUS_TEXT, renderTrainingPage(found));
      return true;
    }
    const found = name === undefined ? undefined : engine.replicasByName.get(name);
    if (found?.service.phase !== "running")
      send(res, 404, text, `no running inference server named ${JSON.stringify(name ?? replica![1])}\n`);
    else send(res, 200, PROMETHEUS_TEXT, renderReplica(found));
    return true;
  };
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
