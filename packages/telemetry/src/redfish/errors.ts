/**
 * The one error type of the Redfish reader: what failed (a code from a small catalog), where (the
 * resource), and for HTTP errors the status and the service's own messages, parsed from the
 * DSP0266 error envelope `error.@Message.ExtendedInfo`.
 */

import type { RedfishReadError } from "./types.ts";

/**
 * Why a Redfish request failed.
 *
 * | code             | meaning                                                       | retryable |
 * | ---------------- | ------------------------------------------------------------- | --------- |
 * | timeout          | no complete answer within `timeoutMs`                         | yes       |
 * | network          | connection refused, reset or closed without an answer         | yes       |
 * | http             | a non-2xx status; `status` and `messages` say more            | 5xx, 429  |
 * | too-large        | the body passed `maxBodyBytes`                                | no        |
 * | not-json         | a 2xx answer whose content type is not JSON (an HTML page)    | no        |
 * | bad-json         | a body that does not parse, or is not a JSON object           | no        |
 * | missing-property | a resource without the property the reader needs              | no        |
 * | foreign-link     | a link to another origin than the client's service            | no        |
 * | out-of-range     | a set point refused before sending: outside AllowableMin/Max   | no        |
 */
export type RedfishErrorCode =
  | "timeout"
  | "network"
  | "http"
  | "too-large"
  | "not-json"
  | "bad-json"
  | "missing-property"
  | "foreign-link"
  | "out-of-range";

/** One entry of a Redfish error's `@Message.ExtendedInfo` (DMTF Message schema). */
export interface RedfishMessage {
  /** Registry-qualified id, e.g. `Base.1.16.0.PropertyValueOutOfRange`. */
  messageId: string;
  message: string;
  severity?: string;
  resolution?: string;
  /** JSON pointers of the properties concerned, e.g. `#/PowerLimitWatts/SetPoint`. */
  relatedProperties?: string[];
}

/** A failed Redfish read or write. */
export class RedfishError extends Error {
  override readonly name = "RedfishError";
  readonly code: RedfishErrorCode;
  /** The resource (its `@odata.id` path, or the URL asked for). */
  readonly uri: string;
  /** HTTP status, for `http` (and a refused body). */
  readonly status: number | undefined;
  /** The service's messages from the error body; the general `error.code` when it lists none. */
  readonly messages: readonly RedfishMessage[];

  constructor(
    code: RedfishErrorCode,
    uri: string,
    detail: string,
    options: { status?: number; messages?: RedfishMessage[]; cause?: unknown } = {},
  ) {
    super(`${uri}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.uri = uri;
    this.status = options.status;
    this.messages = Object.freeze([...(options.messages ?? [])]);
  }

  /** Whether asking again may succeed: timeouts, lost connections, 5xx and 429. */
  get retryable(): boolean {
    if (this.code === "timeout" || this.code === "network") return true;
    return this.code === "http" && this.status !== undefined && (this.status >= 500 || this.status === 429);
  }
}

/**
 * The messages of a DSP0266 error body `{"error": {"code", "message", "@Message.ExtendedInfo": [...]}}`;
 * the general code and message when ExtendedInfo is empty; none when the body is not that shape.
 */
export function parseRedfishErrorBody(body: unknown): RedfishMessage[] {
  if (typeof body !== "object" || body === null) return [];
  const error = (body as Record<string, unknown>).error;
  if (typeof error !== "object" || error === null) return [];
  const e = error as Record<string, unknown>;
  const info = e["@Message.ExtendedInfo"];
  const out: RedfishMessage[] = [];
  if (Array.isArray(info)) {
    for (const item of info) {
      if (typeof item !== "object" || item === null) continue;
      const m = item as Record<string, unknown>;
      if (typeof m.MessageId !== "string") continue;
      const msg: RedfishMessage = {
        messageId: m.MessageId,
        message: typeof m.Message === "string" ? m.Message : "",
      };
      if (typeof m.Severity === "string") msg.severity = m.Severity;
      else if (typeof m.MessageSeverity === "string") msg.severity = m.MessageSeverity;
      if (typeof m.Resolution === "string") msg.resolution = m.Resolution;
      if (Array.isArray(m.RelatedProperties))
        msg.relatedProperties = m.RelatedProperties.filter((p): p is string => typeof p === "string");
      out.push(msg);
    }
  }
  if (out.length === 0 && typeof e.code === "string")
    out.push({ messageId: e.code, message: typeof e.message === "string" ? e.message : "" });
  return out;
}

/** `err` as a snapshot's error entry for `uri`; an unexpected error is kept with its message. */
export function readErrorOf(uri: string, err: unknown, phase: RedfishReadError["phase"]): RedfishReadError {
  if (err instanceof RedfishError) {
    const out: RedfishReadError = { uri, reason: err.message, code: err.code, phase };
    if (err.status !== undefined) out.status = err.status;
    return out;
  }
  return {
    uri,
    reason: `${uri}: ${err instanceof Error ? err.message : String(err)}`,
    code: "bad-json",
    phase,
  };
}
