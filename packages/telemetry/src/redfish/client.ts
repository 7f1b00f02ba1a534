/**
 * A Redfish client for one service (a BMC, a PDU or power-shelf controller, a DCIM view): JSON GET
 * and PATCH with a timeout, a bounded body, Basic auth, and at most `maxConnections` connections
 * and requests at once, since BMCs serve few connections (FACTS: at most two per BMC).
 *
 * It speaks through node:http(s) with its own keep-alive Agent rather than fetch: the Agent's
 * `maxSockets` bounds connections, where fetch's shared pool may open a new one before it has
 * released the last.
 */

import type { IncomingHttpHeaders } from "node:http";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { parseRedfishErrorBody, RedfishError } from "./errors.ts";
import { isObject, type Json } from "./json.ts";
import { createLimiter } from "./limit.ts";

/** Options of {@link createRedfishClient}. */
export interface RedfishClientOptions {
  /**
   * Where the service is: an origin (`https://bmc1`, root at `/redfish/v1/`) or the URL of its
   * service root (`http://twin:7071/bmc/node1/redfish/v1`) when it lives under a prefix.
   */
  baseUrl: string;
  /** Basic auth, sent only when `username` is given. */
  username?: string;
  password?: string;
  /** Limit for a whole request, answer body included. Default 5000 ms. */
  timeoutMs?: number;
  /** Requests in flight at once; the rest wait their turn. Default 2. */
  maxConnections?: number;
  /** Largest body read; a larger one fails as `too-large`. Default 4 MiB. */
  maxBodyBytes?: number;
  /** HTTPS: CA certificates to trust (BMCs often carry a site CA's or their own certificate). */
  ca?: string | Buffer;
  /** HTTPS: false accepts any certificate. Default true. */
  rejectUnauthorized?: boolean;
}

/** A resource as read: its body and, when the service sent one, its ETag. */
export interface RedfishDocument {
  /** The path asked for (`/redfish/v1/Chassis/1U`). */
  uri: string;
  body: Json;
  etag: string | undefined;
}

/** What a successful PATCH answered: 200 with the resource, 202 with a task, or 204. */
export interface RedfishPatchResult {
  status: number;
  body: Json | undefined;
  etag: string | undefined;
}

/**
 * One Redfish service. Every method takes a URI as Redfish links give it (an absolute path such as
 * `/redfish/v1/Chassis/1U`, or a URL on the same origin) and fails with {@link RedfishError}.
 * One client per service: the concurrency bound is the client's.
 *
 * @example
 *   const client = createRedfishClient({ baseUrl: "https://bmc1", username: "admin", password });
 *   const root = await client.get(client.rootUri);
 *   await client.patch("/redfish/v1/Chassis/1U/Controls/PowerLimit", { SetPoint: 450 });
 */
export interface RedfishClient {
  /** Path of the service root, e.g. `/redfish/v1/` or `/bmc/node1/redfish/v1/`. */
  readonly rootUri: string;
  /** The service's origin, `http://host:port`. */
  readonly origin: string;
  get(uri: string): Promise<RedfishDocument>;
  /** PATCH `body` as JSON; `etag` sends `If-Match`. */
  patch(uri: string, body: object, options?: { etag?: string }): Promise<RedfishPatchResult>;
  /** Closes the kept-alive connections. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_CONNECTIONS = 2;
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A client for the Redfish service at `options.baseUrl`. */
export function createRedfishClient(options: RedfishClientOptions): RedfishClient {
  const root = serviceRootUrl(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const limit = createLimiter(maxConnections);
  const agentOptions = { keepAlive: true, maxSockets: maxConnections, maxTotalSockets: maxConnections };
  const agent =
    root.protocol === "https:"
      ? new HttpsAgent({
          ...agentOptions,
          ca: options.ca,
          rejectUnauthorized: options.rejectUnauthorized ?? true,
        })
      : new HttpAgent(agentOptions);
  const baseHeaders: Record<string, string> = { Accept: "application/json", "OData-Version": "4.0" };
  if (options.username !== undefined) {
    const token = Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64");
    baseHeaders.Authorization = `Basic ${token}`;
  }

  const resolve = (uri: string): URL => {
    let url: URL;
    try {
      url = new URL(uri, root);
    } catch (cause) {
      throw new RedfishError("foreign-link", uri, "not a URL", { cause });
    }
    // A link to another host (DMTF mockup public-power-shelf links a busway on another address)
    // belongs to another service and another client, with its own credentials.
    if (url.origin !== root.origin) throw new RedfishError("foreign-link", uri, `not on ${root.origin}`);
    url.hash = "";
    return url;
  };

  // The limiter keeps waiting requests out of the timeout: the clock starts with the request's turn.
  const send = (method: string, uri: string, body?: string, extra?: Record<string, string>) =>
    limit(() =>
      exchange({
        url: resolve(uri),
        uri,
        method,
        body,
        agent,
        timeoutMs,
        maxBodyBytes,
        headers: { ...baseHeaders, ...extra },
      }),
    );

  return {
    rootUri: root.pathname,
    origin: root.origin,
    async get(uri) {
      const res = await send("GET", uri);
      if (res.status < 200 || res.status > 299) throw httpError("GET", uri, res.status, res.text);
      const type = res.headers["content-type"];
      if (type !== undefined && !/json/i.test(type))
        throw new RedfishError("not-json", uri, `answered ${type}, not JSON`, { status: res.status });
      return { uri, body: parseObject(uri, res.text), etag: res.headers.etag };
    },
    async patch(uri, body, opts) {
      const extra: Record<string, string> = { "Content-Type": "application/json" };
      if (opts?.etag !== undefined) extra["If-Match"] = opts.etag;
      const res = await send("PATCH", uri, JSON.stringify(body), extra);
      if (res.status < 200 || res.status > 299) throw httpError("PATCH", uri, res.status, res.text);
      let parsed: Json | undefined;
      if (res.text.trim() !== "") {
        try {
          parsed = parseObject(uri, res.text);
        } catch {
          // A 2xx answer's body is informative only; the write was accepted.
        }
      }
      return { status: res.status, body: parsed, etag: res.headers.etag };
    },
    close() {
      agent.destroy();
    },
  };
}

interface Exchange {
  url: URL;
  uri: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  agent: HttpAgent;
  timeoutMs: number;
  maxBodyBytes: number;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request and its whole answer, within `timeoutMs` and `maxBodyBytes`. */
function exchange(x: Exchange): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: RedfishError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const headers = { ...x.headers };
    if (x.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(x.body));
    const send = x.url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(x.url, { method: x.method, headers, agent: x.agent });
    const timer = setTimeout(
      () => fail(new RedfishError("timeout", x.uri, `no answer within ${x.timeoutMs} ms`)),
      x.timeoutMs,
    );
    req.on("error", (cause) =>
      fail(new RedfishError("network", x.uri, `connection failed: ${cause.message}`, { cause })),
    );
    req.on("response", (res) => {
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > x.maxBodyBytes)
        return fail(tooLarge(x.uri, x.maxBodyBytes));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > x.maxBodyBytes) fail(tooLarge(x.uri, x.maxBodyBytes));
        else chunks.push(chunk);
      });
      res.on("error", (cause) =>
        fail(new RedfishError("network", x.uri, `answer cut off: ${cause.message}`, { cause })),
      );
      res.on("end", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString("utf8"),
        });
      });
    });
    req.end(x.body);
  });
}

/** The service root URL for `baseUrl`: itself when it ends in `/redfish/v1`, else `/redfish/v1/` under it. */
function serviceRootUrl(baseUrl: string): URL {
  const url = new URL(baseUrl);
  url.search = "";
  url.hash = "";
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = /\/redfish\/v1$/.test(path) ? `${path}/` : `${path}/redfish/v1/`;
  return url;
}

const tooLarge = (uri: string, maxBytes: number) =>
  new RedfishError("too-large", uri, `body larger than ${maxBytes} bytes`);

function httpError(method: string, uri: string, status: number, text: string): RedfishError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const messages = parseRedfishErrorBody(body);
  const said = messages.map((m) => `${m.messageId}: ${m.message}`).join("; ");
  return new RedfishError("http", uri, `${method} answered HTTP ${status}${said ? `: ${said}` : ""}`, {
    status,
    messages,
  });
}

function parseObject(uri: string, text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new RedfishError("bad-json", uri, `body is not JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isObject(value)) throw new RedfishError("bad-json", uri, "body is not a JSON object");
  return value;
}
