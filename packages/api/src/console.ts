/**
 * Serves the web console (packages/console, built by Vite into its dist/) on the API's own origin:
 * its hashed assets under /assets/, and its index page for every path the console routes on the
 * client, so that a deep link such as /floor/rack/rack:r01 loads the app. Every other path,
 * /v1 included, is left to the API. Without a build, those paths answer 503 with how to make one.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Where `vite build` writes the console, next to this package. */
export const CONSOLE_DIST = fileURLToPath(new URL("../../console/dist", import.meta.url));

/** The first path segments the console routes on the client. */
export const CONSOLE_ROUTES = [
  "overview",
  "floor",
  "power",
  "workloads",
  "topology",
  "orgs",
  "events",
  "login",
] as const;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".map": "application/json",
};

/**
 * The page loads only its own scripts and talks only to its own origin; it cannot be framed.
 * Inline styles are allowed: the views set colors and sizes through style attributes.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A file name Vite writes into assets/: no separators, so no way out of the folder. */
const ASSET_NAME = /^[\w.-]+$/;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Flightdeck: console not built</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>The console is not built</h1>
<p>The API is running, but the web console's files are missing. Build them with</p>
<pre>npm run build -w @flightdeck/console</pre>
<p>(<code>npm start</code> builds them before it starts). The API itself is at <a href="/openapi.json">/openapi.json</a>.</p>`;

export interface ConsoleOptions {
  /** The built console (default: packages/console/dist). */
  distDir?: string;
}

/**
 * Registers the console on `app`. Its pages are not API routes: they are answered by one
 * onRequest hook for paths no route matched, so the API's route tree (and its OpenAPI document)
 * stays the API's alone, and nothing under /v1 is ever shadowed. None needs a token; the data does.
 */
export async function registerConsole(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const dist = options.distDir ?? CONSOLE_DIST;
  const pages = new Set<string>(CONSOLE_ROUTES);
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.url !== undefined) return;
    if (request.method !== "GET" && request.method !== "HEAD") return;
    const path = request.url.split("?")[0]!;
    const first = path.split("/")[1] ?? "";
    if (path === "/" || pages.has(first)) return sendIndex(dist, reply);
    const asset = /^\/assets\/([^/]+)$/.exec(path);
    if (asset) return sendAsset(dist, decodeURIComponent(asset[1]!), reply);
  });
}

async function sendIndex(dist: string, reply: FastifyReply): Promise<void> {
  let html: Buffer;
  try {
    html = await readFile(join(dist, "index.html"));
  } catch {
    await reply
      .code(503)
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .send(NOT_BUILT);
    return;
  }
  await reply
    .type("text/html; charset=utf-8")
    .header("cache-control", "no-cache")
    .header("content-security-policy", CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .send(html);
}

/** A file of dist/assets; an unknown one falls through to the API's 404. */
async function sendAsset(dist: string, file: string, reply: FastifyReply): Promise<void> {
  const path = join(dist, "assets", file);
  if (!ASSET_NAME.test(file) || !(await stat(path).catch(() => undefined))?.isFile()) return;
  await reply
    .type(TYPES[extname(file)] ?? "application/octet-stream")
    // Vite puts a content hash in every asset name: a name never changes its content.
    .header("cache-control", "public, max-age=31536000, immutable")
    .send(await readFile(path));
}
