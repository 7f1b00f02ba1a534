/**
 * The one error type of enforcement: what failed (a code from a small catalog), for which target,
 * and the controller's own message ids when it answered with a DMTF error body.
 */
import { RedfishError } from "@flightdeck/telemetry";

/**
 * Why a cap could not be read or set.
 *
 * | code         | meaning                                                              | retryable | cap in force |
 * | ------------ | -------------------------------------------------------------------- | --------- | ------------ |
 * | unreachable  | no answer: connection refused, dropped, or timed out                 | yes       | unknown      |
 * | bmc-error    | the controller answered 5xx or 429                                   | yes       | unknown      |
 * | refused      | the controller answered 4xx to a write (PropertyValueOutOfRange, …)  | no        | unchanged    |
 * | not-found    | no such GPU or power control on the controller                       | no        | unknown      |
 * | bad-answer   | an answer that is not the JSON resource expected                     | no        | unknown      |
 * | bad-target   | a target id that is neither `gpu:NODE/ORDINAL` nor `node:NODE`      | no        | unknown      |
 * | bad-decision | a decision with a bad target or cap; nothing of it was sent          | no        | unchanged    |
 */
export type EnforceErrorCode =
  | "unreachable"
  | "bmc-error"
  | "refused"
  | "not-found"
  | "bad-answer"
  | "bad-target"
  | "bad-decision";

/** A cap that could not be read, set or accepted; `message` names the target and the reason. */
export class EnforceError extends Error {
  override readonly name = "EnforceError";
  readonly code: EnforceErrorCode;
  /** The model id the cap is for (`gpu:r01-dgx1/0`, `node:r01-dgx1`), or "" for a whole decision. */
  readonly target: string;
  /** HTTP status, when the controller answered one. */
  readonly status: number | undefined;
  /** DMTF MessageIds of the controller's error body, e.g. `Base.1.16.0.PropertyValueOutOfRange`. */
  readonly messageIds: readonly string[];

  constructor(
    code: EnforceErrorCode,
    target: string,
    detail: string,
    options: { status?: number; messageIds?: readonly string[]; cause?: unknown } = {},
  ) {
    super(
      target === "" ? detail : `${target}: ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.target = target;
    this.status = options.status;
    this.messageIds = Object.freeze([...(options.messageIds ?? [])]);
  }

  /** Whether asking again may succeed. */
  get retryable(): boolean {
    return this.code === "unreachable" || this.code === "bmc-error";
  }
}

/** `err` from a Redfish request for `target` as an EnforceError; its message carries the MessageIds. */
export function enforceErrorOf(target: string, err: unknown): EnforceError {
  if (err instanceof EnforceError) return err;
  if (!(err instanceof RedfishError))
    return new EnforceError("bad-answer", target, err instanceof Error ? err.message : String(err), {
      cause: err,
    });
  const options = {
    ...(err.status === undefined ? {} : { status: err.status }),
    messageIds: err.messages.map((m) => m.messageId),
    cause: err,
  };
  switch (err.code) {
    case "timeout":
    case "network":
      return new EnforceError("unreachable", target, err.message, options);
    case "http":
      if (err.retryable) return new EnforceError("bmc-error", target, err.message, options);
      return new EnforceError(err.status === 404 ? "not-found" : "refused", target, err.message, options);
    case "out-of-range":
      return new EnforceError("refused", target, err.message, options);
    default:
      return new EnforceError("bad-answer", target, err.message, options);
  }
}
