/**
 * The console's only way to the control plane: HTTP on its own origin with the bearer token, and
 * server-sent events read through fetch (EventSource cannot send an Authorization header, and a
 * token in a URL ends up in logs).
 */

/** A failed request: the HTTP status and the problem's detail (RFC 9457), or the network error. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
  /** The API could not be reached at all (status 0). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

/** Reports each request's outcome, so that the shell can show a banner while the API is down. */
export type ReachabilityListener = (reachable: boolean) => void;

/** What the client tells its owner besides the answers. */
export interface ApiListeners {
  /** Whether the API answered at all. */
  reachability?: ReachabilityListener;
  /** The token was refused (401): revoked or expired since login. */
  unauthorized?: (detail: string) => void;
}

/** The API as the console uses it. */
export interface Api {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T>;
  /**
   * Reads the server-sent events of `path`, calling `onEvent` with each event's name and parsed
   * data, until `signal` aborts. Reconnects after `retryMs` when the stream ends or fails.
   */
  stream(
    path: string,
    onEvent: (event: string, data: unknown) => void,
    signal: AbortSignal,
    retryMs?: number,
  ): Promise<void>;
}

export function createApi(token: string, listeners: ApiListeners = {}): Api {
  const onReachability = listeners.reachability ?? (() => {});
  const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
  const request = async (method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if ((err as Error).name === "AbortError") throw err;
      onReachability(false);
      throw new ApiFailure(0, "the API does not answer");
    }
    // A proxy's 502/504 means the API behind it is gone.
    onReachability(res.status !== 502 && res.status !== 504);
    if (!res.ok) {
      const failure = await failureOf(res);
      if (failure.status === 401) listeners.unauthorized?.(failure.message);
      throw failure;
    }
    if (res.status === 204) return undefined;
    return res.json();
  };
  return {
    get: <T>(path: string, signal?: AbortSignal) => request("GET", path, undefined, signal) as Promise<T>,
    send: <T>(method: string, path: string, body?: unknown) => request(method, path, body) as Promise<T>,
    async stream(path, onEvent, signal, retryMs = 3000) {
      while (!signal.aborted) {
        try {
          const res = await fetch(path, { headers: { ...headers, accept: "text/event-stream" }, signal });
          onReachability(true);
          if (!res.ok || !res.body) throw await failureOf(res);
          await readEvents(res.body, onEvent);
        } catch (err) {
          if (signal.aborted) return;
          if (!(err instanceof ApiFailure)) onReachability(false);
          else if (err.status === 401 || err.status === 403 || err.status === 404) throw err;
        }
        await new Promise((done) => setTimeout(done, retryMs));
      }
    },
  };
}

async function failureOf(res: Response): Promise<ApiFailure> {
  let detail = `${res.status} ${res.statusText}`;
  let code: string | undefined;
  try {
    const problem = (await res.json()) as { detail?: string; title?: string; type?: string };
    detail = problem.detail ?? problem.title ?? detail;
    code = problem.type?.replace(/^\/problems\//, "");
  } catch {
    // Not a problem document.
  }
  return new ApiFailure(res.status, detail, code);
}

/** Splits a text/event-stream body into events (the fields `event` and `data`; others ignored). */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: string, data: unknown) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf("\n\n");
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) {
        try {
          onEvent(event, JSON.parse(data.join("\n")));
        } catch {
          onEvent(event, data.join("\n"));
        }
      }
      cut = buffer.indexOf("\n\n");
    }
  }
}
