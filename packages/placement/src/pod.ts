/**
 * What a pod asks of placement, read from the core/v1 Pod that kube-scheduler sends (JSON field
 * names as in the Kubernetes API): its GPUs (`nvidia.com/gpu` requests, else limits, summed over
 * containers), its org (the namespace), its job (label or annotation `flightdeck.dev/job`, else
 * the pod's name), its kind (`flightdeck.dev/type`), profile and priority (annotations
 * `flightdeck.dev/profile`, `flightdeck.dev/priority`, else `spec.priority`).
 */
import type { WorkloadKind } from "@flightdeck/power";

export const GPU_RESOURCE = "nvidia.com/gpu";
export const LABEL_JOB = "flightdeck.dev/job";
export const LABEL_TYPE = "flightdeck.dev/type";
export const ANNOTATION_PROFILE = "flightdeck.dev/profile";
export const ANNOTATION_PRIORITY = "flightdeck.dev/priority";

export interface PodAsk {
  /** `namespace/name`: the pod's key while it is assumed. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly job: string;
  readonly gpus: number;
  readonly profile: string;
  readonly kind: WorkloadKind;
  readonly priority: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Reads a pod; a string is the reason it cannot be read. */
export function readPod(pod: unknown): PodAsk | string {
  const meta = obj(obj(pod)?.metadata);
  const name = str(meta?.name);
  if (!meta || !name) return "the pod has no metadata.name";
  const namespace = str(meta.namespace) ?? "default";
  const labels = obj(meta.labels) ?? {};
  const annotations = obj(meta.annotations) ?? {};
  const spec = obj(obj(pod)?.spec);
  let gpus = 0;
  const containers = spec?.containers;
  if (Array.isArray(containers))
    for (const c of containers) {
      const resources = obj(obj(c)?.resources);
      const q = obj(resources?.requests)?.[GPU_RESOURCE] ?? obj(resources?.limits)?.[GPU_RESOURCE];
      if (q === undefined) continue;
      const n = typeof q === "number" ? q : typeof q === "string" && /^\d+$/.test(q) ? Number(q) : Number.NaN;
      if (!Number.isInteger(n) || n < 0)
        return `pod ${namespace}/${name}: ${GPU_RESOURCE} quantity ${JSON.stringify(q)} is not a whole number`;
      gpus += n;
    }
  const type = str(labels[LABEL_TYPE]) ?? str(annotations[LABEL_TYPE]) ?? "training";
  if (type !== "training" && type !== "inference")
    return `pod ${namespace}/${name}: ${LABEL_TYPE} must be training or inference (got ${JSON.stringify(type)})`;
  const priorityText = str(annotations[ANNOTATION_PRIORITY]);
  const priority =
    priorityText !== undefined
      ? Number(priorityText)
      : typeof spec?.priority === "number"
        ? spec.priority
        : 0;
  if (!Number.isFinite(priority))
    return `pod ${namespace}/${name}: ${ANNOTATION_PRIORITY} must be a number (got ${JSON.stringify(priorityText)})`;
  return {
    key: `${namespace}/${name}`,
    name,
    namespace,
    job: str(labels[LABEL_JOB]) ?? str(annotations[LABEL_JOB]) ?? name,
    gpus,
    profile: str(annotations[ANNOTATION_PROFILE]) ?? "max-p",
    kind: type,
    priority,
  };
}
