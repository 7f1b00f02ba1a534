/**
 * One bounded HTTP GET for a scrape or a poll: a deadline, a cap on the body, and a clear reason
 * for every way it can fail, so that one bad target is recorded and never blocks, slows or
 * crashes the collection of the others. Built on node:http with keep-alive agents rather than
 * fetch: a scrape of a 70 KB page every few seconds per target is dominated by per-request
 * overhead, and fetch's Request/Headers/stream objects cost more than the parse.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** Why a fetch failed, in words an operator can act on. */
export class FetchError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
    this.name = "FetchError";
  }
}

export interface FetchOptions {
  timeoutMs: number;
  maxBodyBytes: number;
  /** Sent as `Accept`. */
  accept?: string;
  headers?: Record<string, string>;
  /** Connection pools to use (default: Node's global agents, no keep-alive). */
  agents?: HttpAgents;
}

/** A body read within its limits. */
export interface Fetched {
  status: number;
  contentType: string;
  text: string;
  bytes: number;
}

/** Keep-alive connection pools for one collector: connections to a target are reused between reads. */
export interface HttpAgents {
  http: HttpAgent;
  https: HttpsAgent;
  /** Closes every pooled connection (the collector stops). */
  destroy(): void;
}

export function createHttpAgents(): HttpAgents {
  const options = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxFreeSockets: 1024,
    scheduling: "lifo" as const,
  };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}

/**
 * GETs `url`: fails on a non-2xx status, a body larger than `maxBodyBytes` (stopped as soon as
 * it is exceeded, never buffered whole), or no complete answer within `timeoutMs`.
 */
export function fetchBounded(url: string, options: FetchOptions): Promise<Fetched> {
  return new Promise<Fetched>((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new FetchError(url, "not a valid URL"));
      return;
    }
    const https = parsed.protocol === "https:";
    if (!https && parsed.protocol !== "http:") {
      reject(new FetchError(url, `unsupported scheme ${parsed.protocol}`));
      return;
    }
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new FetchError(url, reason));
    };
    const req = (https ? httpsRequest : httpRequest)(
      parsed,
      {
        method: "GET",
        ...(options.agents ? { agent: https ? options.agents.https : options.agents.http } : {}),
        headers: { ...(options.accept ? { accept: options.accept } : {}), ...options.headers },
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          fail(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}`);
          return;
        }
        const declared = Number(res.headers["content-length"] ?? Number.NaN);
        if (declared > options.maxBodyBytes) {
          fail(`body of ${declared} bytes exceeds the limit of ${options.maxBodyBytes}`);
          return;
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > options.maxBodyBytes) fail(`body exceeds the limit of ${options.maxBodyBytes} bytes`);
          else chunks.push(chunk);
        });
        res.on("error", (err) => fail(describe(err, false, options.timeoutMs)));
        res.on("aborted", () => fail("the connection closed before the body ended"));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
          resolve({
            status,
            contentType: String(res.headers["content-type"] ?? ""),
            text: body.toString("utf8"),
            bytes,
          });
        });
      },
    );
    const timer = setTimeout(() => fail(`no answer within ${options.timeoutMs} ms`), options.timeoutMs);
    req.on("error", (err) => fail(describe(err, false, options.timeoutMs)));
    req.end();
  });
}

function describe(err: unknown, aborted: boolean, timeoutMs: number): string {
  if (aborted) return `no answer within ${timeoutMs} ms`;
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? "fetch failed"} (${cause})` : (e.message ?? String(err));
}
