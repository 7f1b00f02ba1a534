/**
 * PATCH handling: a bounded body, parsed and checked against the one number a resource lets a
 * client write. The check is all or nothing: any bad property refuses the whole request with
 * every problem listed, and nothing changes.
 */
import type { IncomingMessage } from "node:http";
import { baseMessage, type RedfishMessage } from "./messages.ts";

/** Largest PATCH body read, in bytes; a control write is a few dozen. */
export const MAX_PATCH_BYTES = 16 * 1024;

/** The writable number of a resource, e.g. `PowerLimitWatts/SetPoint` in watts. */
export interface WritableNumber {
  /** Property path in the body: `["PowerLimitWatts", "SetPoint"]`. */
  path: readonly string[];
  min: number;
  max: number;
  /** Orders the change; called only for a value inside [min, max]. */
  apply(value: number): void;
}

/** Result of checking a body: the value to write (absent when the body asks for nothing), or errors. */
export type PatchCheck = { ok: true; value?: number } | { ok: false; errors: RedfishMessage[] };

/** Reads the body up to MAX_PATCH_BYTES; `done(undefined)` when it is larger. */
export function readBody(req: IncomingMessage, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_PATCH_BYTES) chunks.push(chunk);
  });
  req.on("end", () => done(size > MAX_PATCH_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
}

/**
 * Checks a PATCH body against the resource as a GET shows it (`current`): the writable path must
 * hold a finite number inside [min, max]; any other property the resource has is read-only
 * (PropertyNotWritable), anything else is unknown (PropertyUnknown).
 */
export function checkPatch(text: string, current: object, writable: WritableNumber): PatchCheck {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, errors: [baseMessage("MalformedJSON")] };
  }
  if (!isObject(body)) return { ok: false, errors: [baseMessage("MalformedJSON")] };
  if (Object.keys(body).length === 0) return { ok: false, errors: [baseMessage("EmptyJSON")] };
  const errors: RedfishMessage[] = [];
  const found: { value?: number } = {};
  walk(body, current as Record<string, unknown>, 0, writable, errors, found);
  if (errors.length > 0) return { ok: false, errors };
  return found.value === undefined ? { ok: true } : { ok: true, value: found.value };
}

function walk(
  body: Record<string, unknown>,
  current: Record<string, unknown> | undefined,
  depth: number,
  writable: WritableNumber,
  errors: RedfishMessage[],
  found: { value?: number },
): void {
  const { path } = writable;
  const prefix = path.slice(0, depth);
  for (const [key, value] of Object.entries(body)) {
    const name = [...prefix, key].join("/");
    const onPath = key === path[depth];
    if (onPath && depth === path.length - 1) {
      if (typeof value !== "number" || !Number.isFinite(value))
        errors.push(baseMessage("PropertyValueTypeError", [show(value), name], name));
      else if (value < writable.min || value > writable.max)
        errors.push(baseMessage("PropertyValueOutOfRange", [String(value), name], name));
      else found.value = value;
    } else if (onPath) {
      if (isObject(value)) {
        const inner = current?.[key];
        walk(value, isObject(inner) ? inner : undefined, depth + 1, writable, errors, found);
      } else errors.push(baseMessage("PropertyValueTypeError", [show(value), name], name));
    } else if (current !== undefined && Object.hasOwn(current, key))
      errors.push(baseMessage("PropertyNotWritable", [name], name));
    else errors.push(baseMessage("PropertyUnknown", [name], name));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value as a message arg: strings bare, everything else as JSON. */
function show(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v) ?? String(v));
}
