/**
 * Errors as RFC 9457 problem details (`application/problem+json`). Every failure the API returns
 * goes through `sendProblem`, so clients see one shape: type, title, status, detail, instance,
 * plus `errors` naming each bad field, or `problems` for a factory description.
 */

import { StoreError } from "@flightdeck/store";
import { AccessError } from "@flightdeck/tenancy";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/** An error carrying its HTTP status and problem type, thrown where the failure happens. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const TITLES: Record<string, string> = {
  "invalid-request": "The request is not valid",
  unauthorized: "Authentication required",
  forbidden: "Not allowed",
  "not-found": "Not found",
  conflict: "Conflict",
  "payload-too-large": "Request body too large",
  "unsupported-media-type": "Unsupported media type",
  "invalid-factory": "The factory description has errors",
  "not-ready": "Not ready",
  internal: "Internal error",
};

export interface FieldError {
  field: string;
  message: string;
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  if (status === 401) reply.header("www-authenticate", 'Bearer realm="flightdeck"');
  return reply
    .code(status)
    .type("application/problem+json")
    .send({
      type: `/problems/${code}`,
      title: TITLES[code] ?? code,
      status,
      detail,
      instance: request.url,
      ...extra,
    });
}

type ValidationItem = NonNullable<FastifyError["validation"]>[number];

/** Names the field of a schema validation error as `body.name` / `query.limit`. */
function fieldOf(context: string | undefined, v: ValidationItem): FieldError {
  const base = [context ?? "body", ...v.instancePath.split("/").filter(Boolean)].join(".");
  const p = v.params as Record<string, unknown>;
  if (v.keyword === "additionalProperties") {
    return { field: `${base}.${p.additionalProperty}`, message: "unknown field" };
  }
  if (v.keyword === "required") return { field: `${base}.${p.missingProperty}`, message: "is required" };
  return { field: base, message: v.message ?? v.keyword };
}

/** The error handler installed on the server: maps every error to a problem. */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof ApiError)
    return sendProblem(reply, request, error.status, error.code, error.message, error.extra);
  if (error instanceof AccessError) {
    return error.status === 404
      ? sendProblem(reply, request, 404, "not-found", "no such resource")
      : sendProblem(reply, request, 403, "forbidden", error.message);
  }
  if (error instanceof StoreError) {
    const status = error.code === "conflict" ? 409 : error.code === "not_found" ? 404 : 400;
    const code =
      error.code === "conflict" ? "conflict" : error.code === "not_found" ? "not-found" : "invalid-request";
    return sendProblem(reply, request, status, code, error.message);
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors = fe.validation.map((v) => fieldOf(fe.validationContext, v));
    const detail = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    return sendProblem(reply, request, 400, "invalid-request", detail, { errors });
  }
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return sendProblem(
      reply,
      request,
      413,
      "payload-too-large",
      `the body is over the limit of ${request.routeOptions.bodyLimit ?? "the server's"} bytes`,
    );
  }
  if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    return sendProblem(
      reply,
      request,
      415,
      "unsupported-media-type",
      `content-type ${request.headers["content-type"]} is not accepted here`,
    );
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return sendProblem(reply, request, fe.statusCode, "invalid-request", fe.message);
  }
  request.log.error({ err: error }, "request failed");
  return sendProblem(reply, request, 500, "internal", "the server failed to handle this request");
}
