/**
 * One bounded HTTP GET for a scrape or a poll: a deadline, a cap on the body, and a clear reason
 * for every way it can fail, so that one bad target is recorded and never blocks, slows or
 * crashes the collection of the others.
 */

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
}

/** A body read within its limits. */
export interface Fetched {
  status: number;
  contentType: string;
  text: string;
  bytes: number;
}

/**
 * GETs `url`: fails on a non-2xx status, a body larger than `maxBodyBytes` (stopped as soon as
 * it is exceeded, never buffered whole), or no complete answer within `timeoutMs`.
 */
export async function fetchBounded(url: string, options: FetchOptions): Promise<Fetched> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        signal: controller.signal,
        headers: { ...(options.accept ? { accept: options.accept } : {}), ...options.headers },
      });
    } catch (err) {
      throw new FetchError(url, describe(err, controller.signal.aborted, options.timeoutMs));
    }
    const contentType = res.headers.get("content-type") ?? "";
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => undefined);
      throw new FetchError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    }
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (declared > options.maxBodyBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new FetchError(url, `body of ${declared} bytes exceeds the limit of ${options.maxBodyBytes}`);
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const reader = res.body?.getReader();
    try {
      for (;;) {
        const { done, value } = reader ? await reader.read() : { done: true, value: undefined };
        if (done) break;
        bytes += value.byteLength;
        if (bytes > options.maxBodyBytes) {
          await reader?.cancel().catch(() => undefined);
          throw new FetchError(url, `body exceeds the limit of ${options.maxBodyBytes} bytes`);
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError(url, describe(err, controller.signal.aborted, options.timeoutMs));
    }
    return { status: res.status, contentType, text: Buffer.concat(chunks, bytes).toString("utf8"), bytes };
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown, aborted: boolean, timeoutMs: number): string {
  if (aborted) return `no answer within ${timeoutMs} ms`;
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? "fetch failed"} (${cause})` : (e.message ?? String(err));
}
