/** A small client of the Flightdeck API for the CLI: bearer token, JSON, problem+json errors. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ClientOptions {
  server: string;
  token?: string;
  data: string;
}

/** An error answer of the API, with its problem details. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(String(problem.detail ?? problem.title ?? `HTTP ${status}`));
  }
}

/** The token from the option, FLIGHTDECK_TOKEN, or the admin token in the data folder. */
export function resolveToken(opts: ClientOptions): string | undefined {
  if (opts.token) return opts.token;
  if (process.env.FLIGHTDECK_TOKEN) return process.env.FLIGHTDECK_TOKEN;
  try {
    return readFileSync(join(opts.data, "admin-token"), "utf8").trim();
  } catch {
    return undefined;
  }
}

export async function call(
  opts: ClientOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const token = resolveToken(opts);
  const url = new URL(path, opts.server.endsWith("/") ? opts.server : `${opts.server}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach ${url.origin}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await response.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) throw new ApiProblem(response.status, json);
  return json;
}
