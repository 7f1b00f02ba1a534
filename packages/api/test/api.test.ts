/**
 * The HTTP API end to end through `app.inject()` (no sockets), on SQLite and on PostgreSQL: health,
 * metrics, OpenAPI, authentication, input validation, factory apply and revisions, topology, and
 * above all tenant isolation — an org user walks every route with another org's identifiers and
 * must learn nothing that a name which never existed would not tell them.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Entity, EntityKind, FactoryGraph } from "@flightdeck/model";
import { openStore, type Store, withTestDatabases } from "@flightdeck/store";
import type { FastifyInstance } from "fastify";
import { createServer, FactoryState, PowerService, Telemetry } from "../src/index.ts";

// Fails the whole file, rather than skipping, when PostgreSQL is unreachable.
const databases = await withTestDatabases();

const LAB_URL = new URL("../../../examples/factories/lab.yaml", import.meta.url);
const LAB = readFileSync(LAB_URL, "utf8");

/** The lab with rack r02 moved from acme to globex. */
const LAB_MOVED = LAB.replace("name: r{01..02}", "name: r01").replace("name: r{03..04}", "name: r{02..04}");
assert.notEqual(LAB_MOVED, LAB);

/** A YAML syntax error on line 8 (`name: lab: two`). */
const LAB_YAML_ERROR = LAB.replace("  name: lab\n", "  name: lab: two\n");
/** Valid YAML, but the second rack group names a power device that does not exist. */
const LAB_SEMANTIC_ERROR = LAB.replace(
  "org: globex\n            power: { A: fpdu-a1, B: fpdu-b1 }",
  "org: globex\n            power: { A: fpdu-zz, B: fpdu-b1 }",
);
/** A rack group owned by an org that the orgs list does not declare. */
const LAB_UNDECLARED_ORG = LAB.replace("org: globex\n", "org: initech\n");
for (const broken of [LAB_YAML_ERROR, LAB_SEMANTIC_ERROR, LAB_UNDECLARED_ORG]) assert.notEqual(broken, LAB);

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the API, checked field by field below
type Json = any;

interface Answer {
  status: number;
  type: string;
  text: string;
  json: Json;
  headers: Record<string, string | string[] | number | undefined>;
}

type Method = "GET" | "POST" | "PUT" | "DELETE" | "HEAD";

async function http(
  app: FastifyInstance,
  token: string | undefined,
  method: Method,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await app.inject({
    method,
    url,
    headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(payload !== undefined ? { payload: payload as string | object } : {}),
  });
  let json: Json;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return {
    status: res.statusCode,
    type: String(res.headers["content-type"] ?? ""),
    text: res.body,
    json,
    headers: res.headers,
  };
}

/** Asserts an RFC 9457 problem with the given status (and problem type, when given). */
function assertProblem(res: Answer, status: number, code?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.type, /^application\/problem\+json/);
  for (const field of ["type", "title", "detail", "instance"]) {
    assert.equal(typeof res.json?.[field], "string", `problem field ${field} in ${res.text}`);
  }
  assert.equal(res.json.status, status);
  if (code !== undefined) assert.equal(res.json.type, `/problems/${code}`);
}

/** The fields of a 400 problem's `errors`. */
const errorFields = (res: Answer): string[] =>
  (res.json?.errors ?? []).map((e: { field: string }) => e.field);

/**
 * Every route of the server as "METHOD /path" (HEAD left out: Fastify adds it to every GET), read
 * from Fastify's own route tree so that a new route cannot be forgotten by the tests below.
 */
function routesOf(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const m = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (depth > 0 ? stack[depth - 1]! : "") + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? "").split(",").map((s) => s.trim())) {
      if (method && method !== "HEAD") out.push(`${method} ${path}`);
    }
  }
  return out.sort();
}

/** The routes, read from a server on a throwaway in-memory database. */
const ROUTES = await (async () => {
  const store = await openStore({ dataDir: ":memory:" });
  const app = await createServer({ store, state: new FactoryState(store) });
  try {
    return routesOf(app);
  } finally {
    await app.close();
    await store.close();
  }
})();

/** Routes that answer without a token. */
const PUBLIC_ROUTES = [
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /openapi.json",
  "POST /extender/bind",
  "POST /extender/filter",
  "POST /extender/prioritize",
];
/** Routes that OpenAPI leaves out on purpose. */
const HIDDEN_ROUTES = ["GET /metrics", "GET /openapi.json"];

/** The route with its parameters filled in, for requests that never get past authentication. */
const sampleUrl = (route: string): string => route.split(" ")[1]!.replace(":id", "1").replace(":org", "acme");

/** Text that would tell a globex user about acme: its name, its racks, and the leaves only acme uses. */
const ACME_TEXT = /acme|\br0[12]\b|su1-leaf[12]\b/i;

function assertNoAcme(text: string, where: string): void {
  const m = ACME_TEXT.exec(text);
  assert.equal(m, null, `${where} mentions acme ("${m?.[0]}"): ${text.slice(0, 500)}`);
}

type Who = "admin" | "acmeAdmin" | "acmeViewer" | "globexAdmin" | "globexViewer";
type Globex = "globexAdmin" | "globexViewer";

interface Ctx {
  app: FastifyInstance;
  store: Store;
  state: FactoryState;
  telemetry: Telemetry;
  power: PowerService;
  tokens: Record<Who, string>;
  users: Record<Who, number>;
  tokenIds: Record<Who, number>;
  /** Extra acme tokens (one revoked), for the revoke attempts of the walk. */
  acmeTokenIds: number[];
}

/** Entity views of the lab graph that the walk checks answers against. */
interface Views {
  graph: FactoryGraph;
  /** Everything globex may not see: acme's entities and shared ones that serve only acme. */
  hidden: Entity[];
  hiddenIds: Set<string>;
  /** Shared infrastructure (no org) that serves globex, among others. */
  sharedVisible: Entity[];
  visibleToGlobex(e: Entity): boolean;
}

function viewsOf(graph: FactoryGraph): Views {
  const visibleToGlobex = (e: Entity): boolean =>
    e.org === "globex" || (e.org === null && graph.orgsServedBy(e.index).includes("globex"));
  const hidden = graph.entities.filter((e) => !visibleToGlobex(e));
  const sharedVisible = graph.entities.filter((e) => e.org === null && visibleToGlobex(e));
  return { graph, hidden, hiddenIds: new Set(hidden.map((e) => e.id)), sharedVisible, visibleToGlobex };
}

/** One id of every kind acme owns, and the shared leaf that serves only acme. */
const ACME_SAMPLES = [
  "rack:r01",
  "rack:r02",
  "node:r01-dgx1",
  "node:r02-dgx4",
  "gpu:r01-dgx1/0",
  "nic:r01-dgx1/0",
  "dpu:r01-dgx1/0",
  "power:r01-pdu-a1",
  "switch:mgmt/r01",
  "nvlinkDomain:r01-dgx1",
  "switch:ib/su1-leaf1",
  "switch:ib/su1-leaf2",
];

/** A name like `probe` that never existed. */
const ghostOf = (probe: string): string => {
  const ghost = probe.replace(/r0[12]/g, "r99");
  return ghost === probe ? `${probe}-x9` : ghost;
};

/** A body with `instance` dropped and the echoed probe replaced, for comparing two answers. */
function normalized(res: Answer, probe: string | undefined): string {
  const json = res.json === undefined ? res.text : { ...res.json };
  if (json && typeof json === "object") delete json.instance;
  let text = typeof json === "string" ? json : JSON.stringify(json);
  if (probe !== undefined) text = text.replaceAll(JSON.stringify(probe).slice(1, -1), "<probe>");
  return text;
}

/**
 * Asks the same request with an acme identifier and with one that never existed, and asserts that
 * the answers are the same: status, content type and body (but for `instance`, and for the
 * identifier itself where the answer echoes it back). Returns the answer for the acme identifier.
 */
async function sameAsNothing(
  ctx: Ctx,
  who: Who,
  method: Method,
  url: (v: string) => string,
  secret: string,
  ghost: string,
  opts: { payload?: unknown; echo?: boolean } = {},
): Promise<Answer> {
  const a = await http(ctx.app, ctx.tokens[who], method, url(secret), opts.payload);
  const b = await http(ctx.app, ctx.tokens[who], method, url(ghost), opts.payload);
  const what = `${method} ${url(secret)} vs ${url(ghost)} as ${who}`;
  assert.equal(a.status, b.status, `${what}: ${a.text} / ${b.text}`);
  assert.equal(a.type, b.type, what);
  assert.equal(
    normalized(a, opts.echo ? secret : undefined),
    normalized(b, opts.echo ? ghost : undefined),
    what,
  );
  return a;
}

const LIST_KINDS: Record<string, string> = {
  racks: "rack",
  nodes: "node",
  gpus: "gpu",
  power: "power",
  switches: "switch",
  "nvlink-domains": "nvlinkDomain",
  halls: "hall",
  rows: "row",
};

/** Filters naming acme things, each with a name that never existed. */
const ACME_FILTERS: Array<[string, string, string]> = [
  ["rack", "r01", "r99"],
  ["rack", "rack:r02", "rack:r99"],
  ["node", "r01-dgx1", "r99-dgx1"],
  ["node", "node:r02-dgx3", "node:r99-dgx3"],
  ["org", "acme", "nobody"],
  ["hall", "rack:r01", "rack:r99"],
  ["row", "rack:r01", "rack:r99"],
  ...ACME_SAMPLES.map((id): [string, string, string] => ["under", id, ghostOf(id)]),
];

/** A topology list route: nothing of acme unfiltered; acme filters answer like names that never existed. */
function listWalk(path: string) {
  const kind = LIST_KINDS[path]!;
  return async (ctx: Ctx, who: Globex, v: Views): Promise<void> => {
    const all = await http(ctx.app, ctx.tokens[who], "GET", `/v1/topology/${path}?limit=10000`);
    assert.equal(all.status, 200, all.text);
    assertNoAcme(all.text, `${path} as ${who}`);
    const ids = all.json.items.map((e: { id: string }) => e.id).sort();
    const expected = v.graph
      .ofKind(kind as EntityKind)
      .filter(v.visibleToGlobex)
      .map((e) => e.id)
      .sort();
    assert.deepEqual(ids, expected, `${path} as ${who}`);
    assert.equal(all.json.total, expected.length);
    assert.ok(expected.length > 0, `globex sees some ${path}`);
    for (const item of all.json.items) assert.ok(item.org === null || item.org === "globex", item.id);

    for (const [filter, secret, ghost] of ACME_FILTERS) {
      for (const paging of ["", "&offset=0&limit=1"]) {
        const a = await sameAsNothing(
          ctx,
          who,
          "GET",
          (x) => `/v1/topology/${path}?${filter}=${encodeURIComponent(x)}${paging}`,
          secret,
          ghost,
        );
        assert.equal(a.status, 200);
        assert.equal(a.json.total, 0, `${path}?${filter}=${secret}`);
        assert.deepEqual(a.json.items, []);
      }
    }
  };
}

/** A route under /v1/topology/entities/:id: every hidden entity answers like one that never existed. */
function entityWalk(suffix: "" | "/power-path" | "/descendants") {
  const url = (id: string): string => `/v1/topology/entities/${encodeURIComponent(id)}${suffix}`;
  return async (ctx: Ctx, who: Globex, v: Views): Promise<void> => {
    for (const e of v.hidden) {
      const a = await sameAsNothing(ctx, who, "GET", url, e.id, ghostOf(e.id), { echo: true });
      assertProblem(a, 404, "not-found");
    }
    for (const id of ACME_SAMPLES) {
      const head = await sameAsNothing(ctx, who, "HEAD", url, id, ghostOf(id), { echo: true });
      assert.equal(head.status, 404);
    }
    // Shared infrastructure that globex uses answers, but tells nothing of acme.
    for (const e of v.sharedVisible) {
      const query = suffix === "/descendants" ? "?limit=10000" : "";
      const res = await http(ctx.app, ctx.tokens[who], "GET", `${url(e.id)}${query}`);
      assert.equal(res.status, 200, `${e.id}: ${res.text}`);
      assertNoAcme(res.text, `${e.id}${suffix} as ${who}`);
      if (suffix === "/power-path") {
        for (const path of res.json.paths)
          for (const p of path) assert.ok(!v.hiddenIds.has(p.id), `${p.id} on a path of ${e.id}`);
      } else if (suffix === "") {
        assert.deepEqual(res.json.orgsServed, ["globex"], e.id);
        for (const id of [...res.json.fedBy, ...res.json.uplinks.map((u: { id: string }) => u.id)])
          assert.ok(!v.hiddenIds.has(id), `${id} next to ${e.id}`);
      } else {
        const expected = v.graph
          .descendants(e.index)
          .filter(v.visibleToGlobex)
          .map((d) => d.id)
          .sort();
        const got = res.json.items.map((d: { id: string }) => d.id).sort();
        assert.deepEqual(got, expected, `descendants of ${e.id}`);
        for (const id of got) assert.ok(!v.hiddenIds.has(id), `${id} under ${e.id}`);
      }
    }
    // And globex's own things answer (so that this walk can fail).
    const own = await http(ctx.app, ctx.tokens[who], "GET", url("gpu:r03-dgx1/0"));
    assert.equal(own.status, 200, own.text);
    if (suffix === "") assert.equal(own.json.entity.org, "globex");
    if (suffix === "/power-path") assert.equal(own.json.paths.length, 4);
    if (suffix === "/descendants") {
      const rack = await http(ctx.app, ctx.tokens[who], "GET", `${url("rack:r03")}?kind=gpu`);
      assert.equal(rack.json.total, 32);
      const fpdu = await http(ctx.app, ctx.tokens[who], "GET", `${url("power:fpdu-a1")}?kind=gpu`);
      assert.equal(fpdu.json.total, 64, "globex's 64 GPUs, not acme's");
      const spine = await http(ctx.app, ctx.tokens[who], "GET", `${url("switch:ib/spine1")}?kind=switch`);
      assert.deepEqual(spine.json.items.map((s: { id: string }) => s.id).sort(), [
        "switch:ib/su1-leaf3",
        "switch:ib/su1-leaf4",
      ]);
    }
  };
}

/** Asserts a 403 for an org role, the same whatever the body or id names. */
async function providerOnly(
  ctx: Ctx,
  who: Globex,
  method: Method,
  url: (v: string) => string,
  secret: string,
  ghost: string,
  payload?: (v: string) => unknown,
): Promise<void> {
  const a = await http(ctx.app, ctx.tokens[who], method, url(secret), payload?.(secret));
  const b = await http(ctx.app, ctx.tokens[who], method, url(ghost), payload?.(ghost));
  assertProblem(a, 403, "forbidden");
  assert.equal(normalized(a, undefined), normalized(b, undefined));
}

type Walk = (ctx: Ctx, who: Globex, v: Views) => Promise<void>;

/** One case per route of the server: what a globex user may learn through it about acme. */
/** Puts a GPU energy counter of one acme and one globex GPU in the telemetry store, once. */
function seedSeries(ctx: Ctx): void {
  const store = ctx.telemetry.store;
  if (store.get({ __name__: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", entity: "gpu:r01-dgx1/0" }) !== undefined)
    return;
  const now = Date.now();
  for (const entity of ["gpu:r01-dgx1/0", "gpu:r03-dgx1/0"]) {
    const ref = store.getOrCreate({ __name__: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", entity });
    store.append(ref, now - 20_000, 1_000_000);
    store.append(ref, now - 10_000, 8_000_000);
  }
}

/** A globex user asks a power route: a 403 for what is site-wide, else an answer without acme. */
async function powerAsk(
  ctx: Ctx,
  who: Globex,
  method: Method,
  url: string,
  payload?: unknown,
  siteWide = false,
): Promise<void> {
  const res = await http(ctx.app, ctx.tokens[who], method, url, payload);
  if (siteWide) assertProblem(res, 403, "forbidden");
  else
    assert.ok([200, 201, 204, 403, 404].includes(res.status), `${method} ${url}: ${res.status} ${res.text}`);
  assertNoAcme(res.text, `${method} ${url}`);
}

const POWER_WALK: Record<string, Walk> = {
  "GET /v1/power/tree": (ctx, who) => powerAsk(ctx, who, "GET", "/v1/power/tree"),
  "GET /v1/power/target": (ctx, who) => powerAsk(ctx, who, "GET", "/v1/power/target", undefined, true),
  "PUT /v1/power/target": (ctx, who) =>
    powerAsk(ctx, who, "PUT", "/v1/power/target", { target: { fraction: 0.5 } }, true),
  "PUT /v1/power/target/schedule": (ctx, who) =>
    powerAsk(ctx, who, "PUT", "/v1/power/target/schedule", { steps: [] }, true),
  "POST /v1/power/target/events": (ctx, who) =>
    powerAsk(
      ctx,
      who,
      "POST",
      "/v1/power/target/events",
      { id: "dr", startMs: Date.now() + 1000, endMs: Date.now() + 60_000, target: { fraction: 0.9 } },
      true,
    ),
  "DELETE /v1/power/target/events/:id": (ctx, who) =>
    powerAsk(ctx, who, "DELETE", "/v1/power/target/events/dr", undefined, true),
  "GET /v1/power/actions": (ctx, who) => powerAsk(ctx, who, "GET", "/v1/power/actions"),
  "GET /v1/power/jobs": (ctx, who) => powerAsk(ctx, who, "GET", "/v1/power/jobs"),
  "GET /v1/power/gpus/:id": async (ctx, who) => {
    // Another org's GPU is not found, exactly like a GPU that does not exist.
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/power/gpus/r01-dgx1%2F0");
    assertProblem(res, 404, "not-found");
    const own = await http(ctx.app, ctx.tokens[who], "GET", "/v1/power/gpus/r03-dgx1%2F0");
    assert.equal(own.status, 200, own.text);
    assertNoAcme(own.text, "own GPU");
  },
  "PUT /v1/power/overrides": (ctx, who) =>
    powerAsk(
      ctx,
      who,
      "PUT",
      "/v1/power/overrides",
      { overrides: { "power:r01-pdu-a1": { percent: 50 } } },
      true,
    ),
  "PUT /v1/power/policy": (ctx, who) =>
    powerAsk(ctx, who, "PUT", "/v1/power/policy", { rules: [], default: "max-p" }, true),
  "POST /v1/placements": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "POST", "/v1/placements?dryRun=true", {
      id: "x",
      org: "acme",
      gpus: 8,
    });
    assertProblem(res, 403, "forbidden");
    await powerAsk(ctx, who, "POST", "/v1/placements?dryRun=true", { id: "y", org: "globex", gpus: 8 });
  },
  "GET /v1/placements": (ctx, who) => powerAsk(ctx, who, "GET", "/v1/placements"),
  "DELETE /v1/placements/:id": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "DELETE", "/v1/placements/acme-job");
    assertProblem(res, 404, "not-found");
  },
  "POST /v1/reservations": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "POST", "/v1/reservations", {
      id: "r",
      org: "acme",
      gpus: 8,
      startMs: Date.now() + 60_000,
      endMs: Date.now() + 120_000,
    });
    assertProblem(res, 403, "forbidden");
  },
  "POST /extender/filter": async (ctx, who) => {
    // kube-scheduler names the nodes; the answer is about those only.
    const res = await http(ctx.app, ctx.tokens[who], "POST", "/extender/filter", {
      Pod: { metadata: { name: "p", namespace: "globex" }, spec: { containers: [] } },
      NodeNames: ["r03-dgx1"],
    });
    assertNoAcme(res.text, "extender filter");
  },
  "POST /extender/prioritize": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "POST", "/extender/prioritize", {
      Pod: { metadata: { name: "p", namespace: "globex" }, spec: { containers: [] } },
      NodeNames: ["r03-dgx1"],
    });
    assertNoAcme(res.text, "extender prioritize");
  },
  "POST /extender/bind": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "POST", "/extender/bind", {
      PodName: "p",
      PodNamespace: "globex",
      PodUID: "u",
      Node: "r03-dgx1",
    });
    assertNoAcme(res.text, "extender bind");
  },
  "DELETE /v1/reservations/:id": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "DELETE", "/v1/reservations/acme-res");
    assertProblem(res, 404, "not-found");
  },
};

const WALK: Record<string, Walk> = {
  ...POWER_WALK,
  "GET /v1/kpi": async (ctx, who) => {
    seedSeries(ctx);
    for (const by of ["rack", "org", "gpu", "node", "row", "job", "model", "hall", "site"]) {
      const res = await http(ctx.app, ctx.tokens[who], "GET", `/v1/kpi?by=${by}&windowSeconds=600`);
      assert.equal(res.status, 200, res.text);
      assertNoAcme(res.text, `kpi by ${by}`);
    }
    const racks = await http(ctx.app, ctx.tokens[who], "GET", "/v1/kpi?by=rack&windowSeconds=600");
    assert.deepEqual(
      racks.json.rows.map((r: { key: string }) => r.key),
      ["r03", "r04"],
    );
    const orgs = await http(ctx.app, ctx.tokens[who], "GET", "/v1/kpi?by=org&windowSeconds=600");
    assert.deepEqual(
      orgs.json.rows.map((r: { key: string }) => r.key),
      ["globex"],
    );
    // globex's GPU energy is counted; acme's never shows in any group.
    assert.ok(orgs.json.rows[0].energyJoules > 0, racks.text);
  },
  "GET /v1/kpi/history": async (ctx, who) => {
    const minute = 1_700_000_040_000;
    const row = (key: string, org: string) => ({
      minuteMs: minute,
      grouping: "rack",
      key,
      org,
      gpus: 32,
      promptTokens: 1,
      generatedTokens: 2,
      trainingTokens: 3,
      energyJoules: 4,
      gpuSeconds: 5,
      usableGpuSeconds: 5,
      pduEnergyJoules: null,
    });
    await ctx.store.putKpiRollups([row("r01", "acme"), row("r03", "globex")]);
    const res = await http(
      ctx.app,
      ctx.tokens[who],
      "GET",
      `/v1/kpi/history?by=rack&startMs=${minute}&endMs=${minute + 60_000}`,
    );
    assert.equal(res.status, 200, res.text);
    assertNoAcme(res.text, "kpi history");
    assert.deepEqual(
      res.json.rows.map((r: { key: string }) => r.key),
      ["r03"],
    );
    const asked = await http(
      ctx.app,
      ctx.tokens[who],
      "GET",
      `/v1/kpi/history?by=rack&key=r01&startMs=${minute}`,
    );
    assert.deepEqual(asked.json.rows, []);
  },
  "GET /v1/kpi/stranded": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/kpi/stranded");
    assert.equal(res.status, 200, res.text);
    assertNoAcme(res.text, "stranded");
    assert.ok(res.json.levels.some((l: { id: string }) => l.id === "power:r03-pdu-a1"));
  },
  "GET /v1/kpi/stream": async (ctx, who) => {
    const address = ctx.app.server.listening ? ctx.app.server.address() : undefined;
    const port =
      address && typeof address === "object"
        ? address.port
        : Number(new URL(await ctx.app.listen({ port: 0, host: "127.0.0.1" })).port);
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/kpi/stream?by=rack&intervalSeconds=0.2`, {
      headers: { authorization: `Bearer ${ctx.tokens[who]}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    while ((text.match(/\n\n/g) ?? []).length < 2)
      text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    assert.match(text, /^id: 1\nevent: kpi\ndata: \{/);
    assertNoAcme(text, "kpi stream");
    assert.match(text, /"key":"r03"/);
  },
  "GET /v1/kpi/metrics": async (ctx, who) => {
    seedSeries(ctx);
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/kpi/metrics");
    assert.equal(res.status, 200, res.text);
    assert.match(res.type, /^text\/plain; version=0.0.4/);
    assertNoAcme(res.text, "kpi metrics");
    assert.match(res.text, /flightdeck_kpi_energy_joules\{by="rack",key="r03"\}/);
  },
  "GET /v1/telemetry/targets": async (ctx, who) => {
    assertProblem(await http(ctx.app, ctx.tokens[who], "GET", "/v1/telemetry/targets"), 403, "forbidden");
  },
  "GET /v1/telemetry/events": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/telemetry/events?gpu=gpu:r01-dgx1/0");
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.events, []);
  },
  "GET /v1/telemetry/series": async (ctx, who) => {
    seedSeries(ctx);
    const all = await http(
      ctx.app,
      ctx.tokens[who],
      "GET",
      `/v1/telemetry/series?selector=${encodeURIComponent("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")}`,
    );
    assert.equal(all.status, 200, all.text);
    assertNoAcme(all.text, "series");
    assert.deepEqual(
      all.json.series.map((s: { labels: { entity: string } }) => s.labels.entity),
      ["gpu:r03-dgx1/0"],
    );
    const asked = await http(
      ctx.app,
      ctx.tokens[who],
      "GET",
      `/v1/telemetry/series?selector=${encodeURIComponent('{entity="gpu:r01-dgx1/0"}')}`,
    );
    assert.equal(asked.status, 200);
    assert.deepEqual(asked.json.series, []);
  },
  "GET /healthz": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/healthz");
    assert.equal(res.status, 200);
    assertNoAcme(res.text, "healthz");
  },
  "GET /readyz": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/readyz");
    assert.equal(res.status, 200);
    assertNoAcme(res.text, "readyz");
  },
  "GET /metrics": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/metrics");
    assert.equal(res.status, 200);
    // Route labels are patterns, never the ids that were asked for.
    assertNoAcme(res.text, "metrics");
    assert.doesNotMatch(res.text, /r03|globex/);
  },
  "GET /openapi.json": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/openapi.json");
    assert.equal(res.status, 200);
    assertNoAcme(res.text, "openapi");
  },

  "POST /v1/factory/validate": async (ctx, who) => {
    // Validation looks only at the text sent; it tells nothing about the running factory.
    const res = await http(ctx.app, ctx.tokens[who], "POST", "/v1/factory/validate", { source: LAB_MOVED });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { ok: true, problems: [] });
  },
  "POST /v1/factory/diff": (ctx, who) =>
    providerOnly(
      ctx,
      who,
      "POST",
      () => "/v1/factory/diff",
      LAB,
      LAB.replaceAll("acme", "nobody"),
      (source) => ({ source }),
    ),
  "POST /v1/factory/revisions": async (ctx, who) => {
    const before = await ctx.store.listRevisions();
    await providerOnly(
      ctx,
      who,
      "POST",
      () => "/v1/factory/revisions",
      LAB_MOVED,
      LAB,
      (source) => ({ source }),
    );
    assert.deepEqual(await ctx.store.listRevisions(), before);
  },
  "GET /v1/factory/revisions": (ctx, who) =>
    providerOnly(ctx, who, "GET", (q) => `/v1/factory/revisions${q}`, "", "?limit=1"),
  "GET /v1/factory/revisions/:id": (ctx, who) =>
    providerOnly(ctx, who, "GET", (id) => `/v1/factory/revisions/${id}?source=true`, "1", "999"),
  "GET /v1/factory/summary": (ctx, who) => providerOnly(ctx, who, "GET", () => "/v1/factory/summary", "", ""),

  "GET /v1/topology/racks": listWalk("racks"),
  "GET /v1/topology/nodes": listWalk("nodes"),
  "GET /v1/topology/gpus": listWalk("gpus"),
  "GET /v1/topology/power": listWalk("power"),
  "GET /v1/topology/switches": listWalk("switches"),
  "GET /v1/topology/nvlink-domains": listWalk("nvlink-domains"),
  "GET /v1/topology/halls": listWalk("halls"),
  "GET /v1/topology/rows": listWalk("rows"),
  "GET /v1/topology/entities/:id": entityWalk(""),
  "GET /v1/topology/entities/:id/power-path": entityWalk("/power-path"),
  "GET /v1/topology/entities/:id/descendants": entityWalk("/descendants"),

  "GET /v1/whoami": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/whoami");
    assert.equal(res.status, 200);
    assert.equal(res.json.org, "globex");
    assert.equal(res.json.userId, ctx.users[who]);
  },
  "GET /v1/orgs": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/orgs");
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.json.items.map((o: { name: string }) => o.name),
      ["globex"],
    );
    assertNoAcme(res.text, "orgs");
  },
  "POST /v1/orgs": async (ctx, who) => {
    const before = await ctx.store.listOrgs();
    await providerOnly(
      ctx,
      who,
      "POST",
      () => "/v1/orgs",
      "acme",
      "nobody",
      (name) => ({ name }),
    );
    assert.deepEqual(await ctx.store.listOrgs(), before);
  },
  "GET /v1/orgs/:org": async (ctx, who) => {
    for (const name of ["acme", "ACME"]) {
      const a = await sameAsNothing(ctx, who, "GET", (o) => `/v1/orgs/${o}`, name, "nobody");
      assertProblem(a, 404, "not-found");
    }
    const own = await http(ctx.app, ctx.tokens[who], "GET", "/v1/orgs/globex");
    assert.equal(own.status, 200);
    assert.equal(own.json.name, "globex");
  },
  "GET /v1/orgs/:org/users": async (ctx, who) => {
    const a = await sameAsNothing(ctx, who, "GET", (o) => `/v1/orgs/${o}/users`, "acme", "nobody");
    assertProblem(a, 404, "not-found");
    const own = await http(ctx.app, ctx.tokens[who], "GET", "/v1/orgs/globex/users");
    if (who === "globexViewer") assertProblem(own, 403, "forbidden");
    else {
      assert.equal(own.status, 200);
      assert.ok(own.json.items.length >= 2);
      for (const u of own.json.items) assert.equal(u.org, "globex");
      assertNoAcme(own.text, "globex users");
    }
  },
  "POST /v1/orgs/:org/users": async (ctx, who) => {
    const before = await ctx.store.listUsers({ org: "acme" });
    const payload = { name: "intruder", role: "org-admin" };
    const a = await sameAsNothing(ctx, who, "POST", (o) => `/v1/orgs/${o}/users`, "acme", "nobody", {
      payload,
    });
    assertProblem(a, 404, "not-found");
    assert.deepEqual(await ctx.store.listUsers({ org: "acme" }), before);
    const own = await http(ctx.app, ctx.tokens[who], "POST", "/v1/orgs/globex/users", {
      name: `made-by-${who}`,
      role: "org-viewer",
    });
    if (who === "globexViewer") assertProblem(own, 403, "forbidden");
    else {
      assert.equal(own.status, 201, own.text);
      assert.equal(own.json.org, "globex");
    }
  },
  "POST /v1/users": async (ctx, who) => {
    const before = await ctx.store.listUsers();
    await providerOnly(
      ctx,
      who,
      "POST",
      () => "/v1/users",
      "acme-admin",
      "nobody",
      (name) => ({ name, role: "provider-admin" }),
    );
    assert.deepEqual(await ctx.store.listUsers(), before);
  },
  "GET /v1/users/:id/tokens": async (ctx, who) => {
    for (const id of [ctx.users.acmeAdmin, ctx.users.acmeViewer, ctx.users.admin]) {
      const a = await sameAsNothing(ctx, who, "GET", (x) => `/v1/users/${x}/tokens`, String(id), "999999");
      assertProblem(a, 404, "not-found");
    }
    const own = await http(ctx.app, ctx.tokens[who], "GET", `/v1/users/${ctx.users[who]}/tokens`);
    assert.equal(own.status, 200);
    assert.ok(own.json.items.length >= 1);
    for (const t of own.json.items) assert.equal(t.userId, ctx.users[who]);
  },
  "POST /v1/users/:id/tokens": async (ctx, who) => {
    const before = await ctx.store.listTokens({ org: "acme" });
    const adminTokens = await ctx.store.listTokens({ userId: ctx.users.admin });
    for (const id of [ctx.users.acmeAdmin, ctx.users.acmeViewer, ctx.users.admin]) {
      const a = await sameAsNothing(ctx, who, "POST", (x) => `/v1/users/${x}/tokens`, String(id), "999999", {
        payload: { name: "stolen" },
      });
      assertProblem(a, 404, "not-found");
    }
    assert.deepEqual(await ctx.store.listTokens({ org: "acme" }), before);
    assert.deepEqual(await ctx.store.listTokens({ userId: ctx.users.admin }), adminTokens);
    const own = await http(ctx.app, ctx.tokens[who], "POST", `/v1/users/${ctx.users[who]}/tokens`, {
      name: "second",
    });
    assert.equal(own.status, 201, own.text);
    assert.equal(own.json.record.userId, ctx.users[who]);
  },
  "DELETE /v1/tokens/:id": async (ctx, who) => {
    for (const id of [
      ctx.tokenIds.acmeAdmin,
      ctx.tokenIds.acmeViewer,
      ctx.tokenIds.admin,
      ...ctx.acmeTokenIds,
    ]) {
      const a = await sameAsNothing(ctx, who, "DELETE", (x) => `/v1/tokens/${x}`, String(id), "999999");
      assertProblem(a, 404, "not-found");
    }
    for (const owner of ["acmeAdmin", "acmeViewer", "admin"] as const) {
      const still = await http(ctx.app, ctx.tokens[owner], "GET", "/v1/whoami");
      assert.equal(still.status, 200, `${owner}'s token still works`);
    }
    const mine = await http(ctx.app, ctx.tokens[who], "POST", `/v1/users/${ctx.users[who]}/tokens`, {
      name: "throwaway",
    });
    assert.equal(mine.status, 201);
    const revoked = await http(ctx.app, ctx.tokens[who], "DELETE", `/v1/tokens/${mine.json.record.id}`);
    assert.equal(revoked.status, 204);
  },
  "GET /v1/audit": async (ctx, who) => {
    const res = await http(ctx.app, ctx.tokens[who], "GET", "/v1/audit?limit=1000");
    if (who === "globexViewer") {
      assertProblem(res, 403, "forbidden");
      return;
    }
    assert.equal(res.status, 200);
    assert.ok(res.json.items.length > 0, "globex has audit entries");
    for (const entry of res.json.items) assert.equal(entry.org, "globex", JSON.stringify(entry));
    assertNoAcme(res.text, "audit");
    const acmeEntries = await ctx.store.listAudit({ org: "acme", limit: 1000 });
    assert.ok(acmeEntries.length > 0, "acme has audit entries that globex must not see");
    const older = await http(
      ctx.app,
      ctx.tokens[who],
      "GET",
      `/v1/audit?beforeId=${acmeEntries[0]!.id + 1}&limit=1000`,
    );
    for (const entry of older.json.items) assert.equal(entry.org, "globex");
  },
};

describe("the route list", () => {
  it("is read from the server's route tree", () => {
    assert.ok(ROUTES.length >= 30, ROUTES.join("\n"));
    for (const r of ["GET /v1/topology/entities/:id/power-path", "DELETE /v1/tokens/:id", "POST /v1/orgs"])
      assert.ok(ROUTES.includes(r), r);
  });

  it("has a cross-org case for every route, and no case without a route", () => {
    assert.deepEqual(Object.keys(WALK).sort(), ROUTES);
  });
});

for (const target of databases) {
  describe(`api on ${target.name}`, () => {
    const ctx = {
      tokens: {},
      users: {},
      tokenIds: {},
      acmeTokenIds: [],
    } as unknown as Ctx;
    const as = (who: Who, method: Method, url: string, payload?: unknown): Promise<Answer> =>
      http(ctx.app, ctx.tokens[who], method, url, payload);

    before(async () => {
      ctx.store = await openStore(target);
      ctx.state = new FactoryState(ctx.store);
      await ctx.state.load();
      // Telemetry that reads nothing: the walk puts series in its store by hand.
      ctx.telemetry = new Telemetry(ctx.state, { collect: false });
      await ctx.telemetry.start();
      ctx.power = new PowerService(ctx.state, { telemetry: ctx.telemetry, store: ctx.store, manual: true });
      await ctx.power.start();
      ctx.app = await createServer({
        store: ctx.store,
        state: ctx.state,
        telemetry: ctx.telemetry,
        power: ctx.power,
      });
      const admin = await ctx.store.createUser({
        name: "root",
        org: null,
        role: "provider-admin",
        actor: "test",
      });
      const { token, record } = await ctx.store.createToken({
        userId: admin.id,
        name: "test",
        actor: "test",
      });
      ctx.users.admin = admin.id;
      ctx.tokens.admin = token;
      ctx.tokenIds.admin = record.id;
    });

    after(async () => {
      await ctx.power?.stop();
      await ctx.telemetry?.stop();
      await ctx.app?.close();
      await ctx.store?.close();
      await target.cleanup();
    });

    it("serves the same routes as the list the walk covers", () => {
      assert.deepEqual(routesOf(ctx.app), ROUTES);
    });

    describe("before any factory", () => {
      it("answers /healthz without a token", async () => {
        const res = await http(ctx.app, undefined, "GET", "/healthz");
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { status: "ok" });
      });

      it("is not ready: /readyz is a 503 problem", async () => {
        const res = await http(ctx.app, undefined, "GET", "/readyz");
        assertProblem(res, 503, "not-ready");
        assert.match(res.json.detail, /no factory/);
        assert.notEqual(res.json.title, "not-ready", "a title for people, not the problem code");
      });

      it("answers topology and the summary with 404 problems", async () => {
        assertProblem(await as("admin", "GET", "/v1/topology/racks"), 404, "not-found");
        assertProblem(await as("admin", "GET", "/v1/topology/entities/rack:r01"), 404, "not-found");
        assertProblem(await as("admin", "GET", "/v1/factory/summary"), 404, "not-found");
        const revisions = await as("admin", "GET", "/v1/factory/revisions");
        assert.deepEqual(revisions.json, { items: [] });
      });

      it("rejects a broken first factory and stays not ready", async () => {
        for (const source of [LAB_YAML_ERROR, LAB_SEMANTIC_ERROR]) {
          const res = await as("admin", "POST", "/v1/factory/revisions", { source });
          assertProblem(res, 422, "invalid-factory");
          assert.ok(res.json.problems.length > 0);
        }
        assert.equal((await http(ctx.app, undefined, "GET", "/readyz")).status, 503);
        assert.deepEqual(await ctx.store.listRevisions(), []);
        assert.deepEqual(await ctx.store.listOrgs(), []);
        const applies = (await ctx.store.listAudit()).filter((e) => e.action === "factory.apply");
        assert.deepEqual(applies, []);
      });
    });

    describe("authentication", () => {
      it("answers every /v1 route without a token with a 401 problem and WWW-Authenticate", async () => {
        const v1 = ROUTES.filter((r) => !PUBLIC_ROUTES.includes(r));
        assert.equal(v1.length, ROUTES.length - PUBLIC_ROUTES.length);
        for (const route of v1) {
          const method = route.split(" ")[0] as Method;
          const res = await http(
            ctx.app,
            undefined,
            method,
            sampleUrl(route),
            method === "POST" ? {} : undefined,
          );
          assertProblem(res, 401, "unauthorized");
          assert.match(String(res.headers["www-authenticate"]), /^Bearer\b/, route);
          assert.equal(res.json.instance, sampleUrl(route));
        }
      });

      it("rejects malformed Authorization headers", async () => {
        for (const header of [
          "Basic dXNlcjpwYXNz",
          "Bearer",
          "Bearer ",
          "Bearer a b",
          ctx.tokens.admin,
          "Token x",
        ]) {
          const res = await http(ctx.app, undefined, "GET", "/v1/whoami", undefined, {
            authorization: header,
          });
          assertProblem(res, 401, "unauthorized");
          assert.ok(res.headers["www-authenticate"], header);
        }
      });

      it("rejects unknown, revoked and expired tokens", async () => {
        const unknown = await http(ctx.app, "fd_this-token-was-never-issued", "GET", "/v1/whoami");
        assertProblem(unknown, 401, "unauthorized");
        const almost = await http(ctx.app, `${ctx.tokens.admin}x`, "GET", "/v1/whoami");
        assertProblem(almost, 401, "unauthorized");

        const made = await as("admin", "POST", `/v1/users/${ctx.users.admin}/tokens`, {
          name: "short-lived",
        });
        assert.equal(made.status, 201, made.text);
        assert.equal((await http(ctx.app, made.json.token, "GET", "/v1/whoami")).status, 200);
        const revoke = await as("admin", "DELETE", `/v1/tokens/${made.json.record.id}`);
        assert.equal(revoke.status, 204);
        assert.equal(revoke.text, "");
        const revoked = await http(ctx.app, made.json.token, "GET", "/v1/whoami");
        assertProblem(revoked, 401, "unauthorized");
        assert.equal(revoked.json.detail, unknown.json.detail, "revoked reads like unknown");
        assertProblem(await as("admin", "DELETE", `/v1/tokens/${made.json.record.id}`), 404, "not-found");

        const expired = await ctx.store.createToken({
          userId: ctx.users.admin,
          name: "expired",
          actor: "test",
          expiresAt: new Date(Date.now() - 1000),
        });
        assertProblem(await http(ctx.app, expired.token, "GET", "/v1/whoami"), 401, "unauthorized");
        await ctx.store.revokeToken(expired.record.id, "test");
      });

      it("cannot be skipped by spelling the path differently", async () => {
        for (const url of ["/%761/whoami", "/v1/whoami/", "/v1//whoami", "/V1/whoami"]) {
          const res = await http(ctx.app, undefined, "GET", url);
          assert.ok([401, 404].includes(res.status), `${url}: ${res.status}`);
          assert.ok(!res.text.includes('"userId"'), url);
        }
      });

      it("knows who is asking", async () => {
        const res = await as("admin", "GET", "/v1/whoami");
        assert.deepEqual(res.json, {
          userId: ctx.users.admin,
          name: "root",
          role: "provider-admin",
          org: null,
        });
      });
    });

    describe("applying the factory", () => {
      it("applies the lab: 201 with the revision and the diff", async () => {
        const res = await as("admin", "POST", "/v1/factory/revisions", {
          source: LAB,
          sourceName: "lab.yaml",
        });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.json.revision.id, 1);
        assert.equal(res.json.revision.sourceName, "lab.yaml");
        assert.equal(res.json.revision.actor, "root");
        assert.match(res.json.revision.sha256, /^[0-9a-f]{64}$/);
        assert.equal(res.json.diff.added.byKind.rack, 4);
        assert.equal(res.json.diff.added.byKind.gpu, 128);
        assert.equal(res.json.diff.removed.total, 0);
        assert.equal(res.json.diff.changed.total, 0);
        assert.ok(res.json.diff.added.ids.includes("gpu:r01-dgx1/0"));
        assert.deepEqual(res.json.problems, []);
      });

      it("is ready once a factory is applied", async () => {
        const res = await http(ctx.app, undefined, "GET", "/readyz");
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { status: "ready", revision: 1 });
      });

      it("creates the orgs the description names", async () => {
        const res = await as("admin", "GET", "/v1/orgs");
        assert.deepEqual(
          res.json.items.map((o: { name: string }) => o.name),
          ["acme", "globex"],
        );
      });

      it("answers 200 unchanged when the same text is applied again", async () => {
        const res = await as("admin", "POST", "/v1/factory/revisions", {
          source: LAB,
          sourceName: "again.yaml",
        });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.json, { unchanged: true, problems: [] });
        assert.equal((await ctx.store.listRevisions()).length, 1);
      });

      it("takes the description as YAML text too", async () => {
        const res = await http(ctx.app, ctx.tokens.admin, "POST", "/v1/factory/validate", LAB, {
          "content-type": "application/yaml",
        });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.json, { ok: true, problems: [] });
      });

      for (const [what, source, marker] of [
        ["a YAML syntax error", LAB_YAML_ERROR, "lab: two"],
        ["a power device that does not exist", LAB_SEMANTIC_ERROR, "fpdu-zz"],
      ] as const) {
        const line = source.split("\n").findIndex((l) => l.includes(marker)) + 1;
        it(`rejects ${what} with 422 and changes nothing`, async () => {
          const revisions = await ctx.store.listRevisions();
          const audit = await ctx.store.listAudit({ limit: 1000 });
          const racks = await as("admin", "GET", "/v1/topology/racks");
          const gpu = await as("admin", "GET", "/v1/topology/entities/gpu:r03-dgx1%2F0/power-path");

          const res = await as("admin", "POST", "/v1/factory/revisions", {
            source,
            sourceName: "broken.yaml",
          });
          assertProblem(res, 422, "invalid-factory");
          assert.ok(res.json.problems.length > 0);
          for (const p of res.json.problems) {
            assert.equal(typeof p.message, "string");
            assert.ok(Number.isInteger(p.line) && p.line > 0, JSON.stringify(p));
            assert.ok(Number.isInteger(p.col) && p.col > 0, JSON.stringify(p));
          }
          const errors = res.json.problems.filter((p: { severity: string }) => p.severity === "error");
          assert.ok(errors.length > 0);
          assert.equal(errors[0].line, line, JSON.stringify(errors));

          const check = await as("admin", "POST", "/v1/factory/validate", { source });
          assert.equal(check.status, 200);
          assert.equal(check.json.ok, false);
          assert.deepEqual(check.json.problems, res.json.problems);

          assert.deepEqual(await ctx.store.listRevisions(), revisions);
          assert.deepEqual(
            await ctx.store.listAudit({ limit: 1000 }),
            audit,
            "no audit entry for a failed apply",
          );
          assert.equal(ctx.state.factory?.revision, revisions[0]!.id);
          assert.equal((await as("admin", "GET", "/v1/topology/racks")).text, racks.text);
          assert.equal(
            (await as("admin", "GET", "/v1/topology/entities/gpu:r03-dgx1%2F0/power-path")).text,
            gpu.text,
          );
          assert.equal((await http(ctx.app, undefined, "GET", "/readyz")).json.revision, revisions[0]!.id);
        });
      }

      it("rejects an undeclared org with 422 (not a 500) and changes nothing", async () => {
        const revisions = await ctx.store.listRevisions();
        const res = await as("admin", "POST", "/v1/factory/revisions", { source: LAB_UNDECLARED_ORG });
        assert.deepEqual(await ctx.store.listRevisions(), revisions);
        assertProblem(res, 422, "invalid-factory");
      });

      it("diffs a description against the current revision without storing it", async () => {
        const res = await as("admin", "POST", "/v1/factory/diff", { source: LAB_MOVED });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.ok, true);
        const rack = res.json.diff.changed.items.find((c: { id: string }) => c.id === "rack:r02");
        assert.deepEqual(rack?.changes.org, ["acme", "globex"]);
        assert.equal(res.json.diff.added.total, 0);
        const broken = await as("admin", "POST", "/v1/factory/diff", { source: LAB_YAML_ERROR });
        assert.equal(broken.status, 200);
        assert.equal(broken.json.ok, false);
        assert.equal(broken.json.diff, undefined);
        assert.equal((await ctx.store.listRevisions()).length, 1);
      });

      it("applies a modified lab as a new revision, then the lab again", async () => {
        const moved = await as("admin", "POST", "/v1/factory/revisions", {
          source: LAB_MOVED,
          sourceName: "moved.yaml",
        });
        assert.equal(moved.status, 201, moved.text);
        assert.equal(moved.json.revision.id, 2);
        const change = moved.json.diff.changed.items.find((c: { id: string }) => c.id === "rack:r02");
        assert.deepEqual(change?.changes.org, ["acme", "globex"]);
        assert.ok(moved.json.diff.changed.items.some((c: { id: string }) => c.id === "gpu:r02-dgx1/0"));
        assert.equal(moved.json.diff.added.total, 0);
        assert.equal(moved.json.diff.removed.total, 0);
        const globexRacks = await as("admin", "GET", "/v1/topology/racks?org=globex");
        assert.deepEqual(
          globexRacks.json.items.map((r: { id: string }) => r.id),
          ["rack:r02", "rack:r03", "rack:r04"],
        );

        const back = await as("admin", "POST", "/v1/factory/revisions", {
          source: LAB,
          sourceName: "lab.yaml",
        });
        assert.equal(back.status, 201, back.text);
        assert.equal(back.json.revision.id, 3);
        const undo = back.json.diff.changed.items.find((c: { id: string }) => c.id === "rack:r02");
        assert.deepEqual(undo?.changes.org, ["globex", "acme"]);
        assert.equal((await as("admin", "GET", "/v1/topology/racks?org=acme")).json.total, 2);
        assert.equal((await http(ctx.app, undefined, "GET", "/readyz")).json.revision, 3);
      });

      it("lists revisions newest first and reads one, with its source on request", async () => {
        const list = await as("admin", "GET", "/v1/factory/revisions");
        assert.equal(list.status, 200);
        assert.deepEqual(
          list.json.items.map((r: { id: number }) => r.id),
          [3, 2, 1],
        );
        assert.deepEqual(
          list.json.items.map((r: { sourceName: string }) => r.sourceName),
          ["lab.yaml", "moved.yaml", "lab.yaml"],
        );
        for (const r of list.json.items) {
          assert.equal(r.source, undefined, "listings leave the source out");
          assert.ok(!Number.isNaN(Date.parse(r.createdAt)));
        }
        const one = await as("admin", "GET", "/v1/factory/revisions?limit=1");
        assert.deepEqual(
          one.json.items.map((r: { id: number }) => r.id),
          [3],
        );

        const plain = await as("admin", "GET", "/v1/factory/revisions/2");
        assert.equal(plain.status, 200);
        assert.equal(plain.json.revision.id, 2);
        assert.equal(plain.json.source, undefined);
        assert.ok(plain.json.diff.changed.items.some((c: { id: string }) => c.id === "rack:r02"));
        const withSource = await as("admin", "GET", "/v1/factory/revisions/2?source=true");
        assert.equal(withSource.json.source, LAB_MOVED);
        assert.equal((await as("admin", "GET", "/v1/factory/revisions/1?source=true")).json.source, LAB);
        assertProblem(await as("admin", "GET", "/v1/factory/revisions/99"), 404, "not-found");
      });

      it("summarizes the current factory", async () => {
        const res = await as("admin", "GET", "/v1/factory/summary");
        assert.equal(res.status, 200);
        assert.equal(res.json.revision, 3);
        assert.equal(res.json.summary.counts.gpu, 128);
        assert.deepEqual(Object.keys(res.json.summary.orgs).sort(), ["acme", "globex"]);
      });

      it("audits each apply", async () => {
        const res = await as("admin", "GET", "/v1/audit?limit=1000");
        assert.equal(res.status, 200);
        const applies = res.json.items.filter((e: { action: string }) => e.action === "factory.apply");
        assert.deepEqual(
          applies.map((e: { target: string }) => e.target),
          ["revision:3", "revision:2", "revision:1"],
        );
        for (const e of applies) {
          assert.equal(e.actor, "root");
          assert.equal(e.org, null);
        }
        const ids = res.json.items.map((e: { id: number }) => e.id);
        assert.deepEqual(
          ids,
          [...ids].sort((a: number, b: number) => b - a),
          "newest first",
        );
        const page = await as("admin", "GET", `/v1/audit?limit=1&beforeId=${ids[0]}`);
        assert.deepEqual(
          page.json.items.map((e: { id: number }) => e.id),
          [ids[1]],
        );
      });
    });

    describe("health, metrics and OpenAPI", () => {
      it("exports Prometheus metrics", async () => {
        const res = await http(ctx.app, undefined, "GET", "/metrics");
        assert.equal(res.status, 200);
        assert.match(res.type, /^text\/plain/);
        assert.match(res.text, /^# HELP flightdeck_http_request_duration_seconds /m);
        assert.match(
          res.text,
          /^flightdeck_http_request_duration_seconds_count\{.*route="\/v1\/factory\/revisions"/m,
        );
        assert.match(res.text, /^flightdeck_factory_entities\{kind="gpu"\} 128$/m);
        assert.match(res.text, /^flightdeck_factory_entities\{kind="rack"\} 4$/m);
        assert.match(res.text, /^flightdeck_factory_revision 3$/m);
      });

      it("describes itself in OpenAPI 3.1 with every route and a bearer scheme", async () => {
        const res = await http(ctx.app, undefined, "GET", "/openapi.json");
        assert.equal(res.status, 200);
        const doc = res.json;
        assert.equal(doc.openapi, "3.1.0");
        assert.deepEqual(doc.components.securitySchemes.bearer, { type: "http", scheme: "bearer" });
        assert.deepEqual(doc.security, [{ bearer: [] }]);
        const documented: string[] = [];
        for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
          for (const method of Object.keys(ops)) {
            if (method === "head" || method === "parameters") continue;
            documented.push(
              `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1").replace("{*}", "*")}`,
            );
          }
        }
        assert.deepEqual(
          documented.sort(),
          ROUTES.filter((r) => !HIDDEN_ROUTES.includes(r)),
        );
        assert.deepEqual(doc.paths["/healthz"].get.security, []);
        assert.ok(doc.paths["/v1/factory/revisions"].post.responses["422"]);
        assert.ok(doc.paths["/v1/topology/entities/{id}"].get.responses["404"]);
      });
    });

    describe("bad input", () => {
      it("names an unknown body field", async () => {
        const res = await as("admin", "POST", "/v1/orgs", { name: "initech", bogus: 1 });
        assertProblem(res, 400, "invalid-request");
        assert.deepEqual(errorFields(res), ["body.bogus"]);
        assert.match(res.json.detail, /body\.bogus/);
        const apply = await as("admin", "POST", "/v1/factory/revisions", { source: LAB, sourceNmae: "typo" });
        assertProblem(apply, 400, "invalid-request");
        assert.deepEqual(errorFields(apply), ["body.sourceNmae"]);
        assert.equal(await ctx.store.getOrg("initech"), undefined);
      });

      it("names a field of the wrong type, a missing field and a value out of range", async () => {
        const days = await as("admin", "POST", `/v1/users/${ctx.users.admin}/tokens`, {
          name: "t",
          expiresInDays: "soon",
        });
        assertProblem(days, 400, "invalid-request");
        assert.deepEqual(errorFields(days), ["body.expiresInDays"]);
        const obj = await as("admin", "POST", "/v1/factory/validate", { source: { text: "x" } });
        assert.deepEqual(errorFields(obj), ["body.source"]);
        const missing = await as("admin", "POST", "/v1/orgs", {});
        assertProblem(missing, 400, "invalid-request");
        assert.deepEqual(errorFields(missing), ["body.name"]);
        const role = await as("admin", "POST", "/v1/orgs/acme/users", { name: "x", role: "provider-admin" });
        assertProblem(role, 400, "invalid-request");
        assert.ok(
          errorFields(role).every((f) => f === "body.role"),
          show(role),
        );
        const limit = await as("admin", "GET", "/v1/topology/gpus?limit=abc");
        assert.deepEqual(errorFields(limit), ["querystring.limit"]);
        for (const q of ["limit=0", "limit=10001", "offset=-1"]) {
          assertProblem(await as("admin", "GET", `/v1/topology/gpus?${q}`), 400, "invalid-request");
        }
        const kind = await as("admin", "GET", "/v1/topology/entities/rack:r01/descendants?kind=cpu");
        assertProblem(kind, 400, "invalid-request");
        assert.ok(
          errorFields(kind).every((f) => f === "querystring.kind"),
          show(kind),
        );
        const id = await as("admin", "GET", "/v1/factory/revisions/abc");
        assert.deepEqual(errorFields(id), ["params.id"]);
        const json = await http(ctx.app, ctx.tokens.admin, "POST", "/v1/orgs", "{not json", {
          "content-type": "application/json",
        });
        assertProblem(json, 400, "invalid-request");
      });

      it("does not turn a number or a list into a string in a body", async () => {
        for (const source of [123, ["a: b"], true]) {
          const res = await as("admin", "POST", "/v1/factory/validate", { source });
          assertProblem(res, 400, "invalid-request");
          assert.deepEqual(errorFields(res), ["body.source"]);
        }
      });

      it("names an unknown query parameter", async () => {
        for (const url of [
          "/v1/topology/racks?bogus=1",
          "/v1/audit?foo=1",
          "/v1/factory/revisions?source=true",
          "/v1/topology/entities/rack:r01/descendants?rack=r01",
        ]) {
          const res = await as("admin", "GET", url);
          assertProblem(res, 400, "invalid-request");
          const name = url.split("?")[1]!.split("=")[0]!;
          assert.deepEqual(errorFields(res), [`querystring.${name}`], url);
        }
      });

      it("rejects a body over the limit with a 413 problem", async () => {
        const small = await createServer({ store: ctx.store, state: ctx.state, bodyLimitBytes: 1024 });
        try {
          assert.ok(LAB.length > 1024);
          const res = await http(small, ctx.tokens.admin, "POST", "/v1/factory/validate", { source: LAB });
          assertProblem(res, 413, "payload-too-large");
          assert.match(res.json.detail, /1024/);
          const yaml = await http(small, ctx.tokens.admin, "POST", "/v1/factory/revisions", LAB, {
            "content-type": "application/yaml",
          });
          assertProblem(yaml, 413, "payload-too-large");
          const fits = await http(small, ctx.tokens.admin, "POST", "/v1/factory/validate", {
            source: "a: b",
          });
          assert.equal(fits.status, 200);
        } finally {
          await small.close();
        }
        assert.equal((await ctx.store.listRevisions()).length, 3);
      });

      it("rejects a content type it does not read with a 415 problem", async () => {
        const res = await http(ctx.app, ctx.tokens.admin, "POST", "/v1/factory/validate", LAB, {
          "content-type": "application/xml",
        });
        assertProblem(res, 415, "unsupported-media-type");
      });

      it("answers an unknown route with a 404 problem", async () => {
        assertProblem(await as("admin", "GET", "/v1/nothing-here"), 404, "not-found");
        assertProblem(await http(ctx.app, undefined, "GET", "/nothing-here"), 404, "not-found");
      });
    });

    describe("org users", () => {
      it("are created by the provider admin through the API, each with a token", async () => {
        for (const [who, org, role] of [
          ["acmeAdmin", "acme", "org-admin"],
          ["acmeViewer", "acme", "org-viewer"],
          ["globexAdmin", "globex", "org-admin"],
          ["globexViewer", "globex", "org-viewer"],
        ] as const) {
          const user = await as("admin", "POST", `/v1/orgs/${org}/users`, { name: `${org}-${role}`, role });
          assert.equal(user.status, 201, user.text);
          assert.equal(user.json.org, org);
          assert.equal(user.json.role, role);
          const token = await as("admin", "POST", `/v1/users/${user.json.id}/tokens`, {
            name: "main",
            expiresInDays: 30,
          });
          assert.equal(token.status, 201, token.text);
          assert.match(token.json.token, /^fd_/);
          assert.equal(token.json.record.userId, user.json.id);
          assert.ok(Date.parse(token.json.record.expiresAt) > Date.now() + 29 * 86_400_000);
          ctx.users[who] = user.json.id;
          ctx.tokens[who] = token.json.token;
          ctx.tokenIds[who] = token.json.record.id;
          const me = await as(who, "GET", "/v1/whoami");
          assert.deepEqual(me.json, { userId: user.json.id, name: `${org}-${role}`, role, org });
        }
        // Tokens of acme that globex will try to revoke: a live one and a revoked one.
        const spare = await as("admin", "POST", `/v1/users/${ctx.users.acmeViewer}/tokens`, {
          name: "spare",
        });
        const gone = await as("admin", "POST", `/v1/users/${ctx.users.acmeViewer}/tokens`, { name: "gone" });
        assert.equal((await as("admin", "DELETE", `/v1/tokens/${gone.json.record.id}`)).status, 204);
        ctx.acmeTokenIds.push(spare.json.record.id, gone.json.record.id);
      });

      it("never shows token secrets in listings", async () => {
        const res = await as("admin", "GET", `/v1/users/${ctx.users.acmeAdmin}/tokens`);
        assert.equal(res.status, 200);
        assert.ok(!res.text.includes(ctx.tokens.acmeAdmin));
        assert.ok(!/fd_/.test(res.text));
      });

      it("an org admin manages users and tokens of their org only", async () => {
        const user = await as("acmeAdmin", "POST", "/v1/orgs/acme/users", {
          name: "acme-dev",
          role: "org-viewer",
        });
        assert.equal(user.status, 201, user.text);
        assert.equal(user.json.org, "acme");
        const token = await as("acmeAdmin", "POST", `/v1/users/${user.json.id}/tokens`, { name: "dev" });
        assert.equal(token.status, 201, token.text);
        assert.equal((await http(ctx.app, token.json.token, "GET", "/v1/whoami")).json.org, "acme");
        const list = await as("acmeAdmin", "GET", "/v1/orgs/acme/users");
        assert.equal(list.status, 200);
        assert.deepEqual(list.json.items.map((u: { name: string }) => u.name).sort(), [
          "acme-dev",
          "acme-org-admin",
          "acme-org-viewer",
        ]);
        const tokens = await as("acmeAdmin", "GET", `/v1/users/${user.json.id}/tokens`);
        assert.deepEqual(
          tokens.json.items.map((t: { id: number }) => t.id),
          [token.json.record.id],
        );

        assertProblem(
          await as("acmeAdmin", "POST", "/v1/orgs/globex/users", { name: "x", role: "org-viewer" }),
          404,
          "not-found",
        );
        assertProblem(
          await as("acmeAdmin", "POST", `/v1/users/${ctx.users.globexViewer}/tokens`, { name: "x" }),
          404,
          "not-found",
        );
        assertProblem(
          await as("acmeAdmin", "POST", "/v1/users", { name: "boss", role: "provider-admin" }),
          403,
          "forbidden",
        );
        assertProblem(await as("acmeAdmin", "POST", "/v1/orgs", { name: "acme2" }), 403, "forbidden");

        // Revoking a token of their own org works; the token stops working, and the audit says so.
        const revoke = await as("acmeAdmin", "DELETE", `/v1/tokens/${token.json.record.id}`);
        assert.equal(revoke.status, 204);
        assertProblem(await http(ctx.app, token.json.token, "GET", "/v1/whoami"), 401, "unauthorized");
        const audit = await as("acmeAdmin", "GET", "/v1/audit");
        assert.equal(audit.status, 200);
        for (const e of audit.json.items) assert.equal(e.org, "acme");
        assert.ok(
          audit.json.items.some(
            (e: { action: string; target: string }) =>
              e.action === "token.revoke" && e.target === `token:${token.json.record.id}`,
          ),
        );
        assert.ok(audit.json.items.some((e: { action: string }) => e.action === "user.create"));
      });

      it("an org viewer manages nothing but their own tokens", async () => {
        assertProblem(
          await as("acmeViewer", "POST", "/v1/orgs/acme/users", { name: "x", role: "org-viewer" }),
          403,
          "forbidden",
        );
        assertProblem(await as("acmeViewer", "GET", "/v1/orgs/acme/users"), 403, "forbidden");
        assertProblem(await as("acmeViewer", "GET", "/v1/audit"), 403, "forbidden");
        assertProblem(
          await as("acmeViewer", "POST", `/v1/users/${ctx.users.acmeAdmin}/tokens`, { name: "x" }),
          404,
          "not-found",
        );
        assertProblem(
          await as("acmeViewer", "DELETE", `/v1/tokens/${ctx.tokenIds.acmeAdmin}`),
          404,
          "not-found",
        );
        const own = await as("acmeViewer", "POST", `/v1/users/${ctx.users.acmeViewer}/tokens`, {
          name: "laptop",
        });
        assert.equal(own.status, 201, own.text);
        assert.equal((await as("acmeViewer", "DELETE", `/v1/tokens/${own.json.record.id}`)).status, 204);
        assert.equal((await as("acmeAdmin", "GET", "/v1/whoami")).status, 200);
      });

      it("revoking another org's token is a 404 and the token keeps working", async () => {
        for (const who of ["acmeAdmin", "acmeViewer"] as const) {
          const res = await as(who, "DELETE", `/v1/tokens/${ctx.tokenIds.globexViewer}`);
          assertProblem(res, 404, "not-found");
          assert.equal(res.json.detail, (await as(who, "DELETE", "/v1/tokens/999999")).json.detail);
        }
        assert.equal((await as("globexViewer", "GET", "/v1/whoami")).status, 200);
      });

      it("a duplicate org is a 409 problem", async () => {
        assertProblem(await as("admin", "POST", "/v1/orgs", { name: "acme" }), 409, "conflict");
        const made = await as("admin", "POST", "/v1/orgs", { name: "initech", displayName: "Initech" });
        assert.equal(made.status, 201, made.text);
        assert.equal(made.json.displayName, "Initech");
      });
    });

    describe("topology as the provider admin", () => {
      const ids = (res: Answer): string[] => res.json.items.map((e: { id: string }) => e.id);

      it("lists racks, with org filters", async () => {
        const all = await as("admin", "GET", "/v1/topology/racks");
        assert.equal(all.status, 200);
        assert.deepEqual(ids(all), ["rack:r01", "rack:r02", "rack:r03", "rack:r04"]);
        assert.deepEqual(
          { total: all.json.total, offset: all.json.offset, limit: all.json.limit },
          { total: 4, offset: 0, limit: 100 },
        );
        const rack = all.json.items[0];
        assert.equal(rack.kind, "rack");
        assert.equal(rack.org, "acme");
        assert.equal(rack.parent, "row:hall1/row1");
        assert.equal(rack.type, "dgx-h100-4");
        assert.deepEqual(ids(await as("admin", "GET", "/v1/topology/racks?org=globex")), [
          "rack:r03",
          "rack:r04",
        ]);
        assert.equal((await as("admin", "GET", "/v1/topology/racks?org=nobody")).json.total, 0);
        assert.equal((await as("admin", "GET", "/v1/topology/racks?hall=hall1")).json.total, 4);
        assert.equal((await as("admin", "GET", "/v1/topology/racks?row=hall1/row1")).json.total, 4);
        assert.equal((await as("admin", "GET", "/v1/topology/racks?type=dgx-h100-4")).json.total, 4);
      });

      it("lists nodes and GPUs by rack, node, switch and power device", async () => {
        const nodes = await as("admin", "GET", "/v1/topology/nodes?rack=r01");
        assert.deepEqual(ids(nodes), ["node:r01-dgx1", "node:r01-dgx2", "node:r01-dgx3", "node:r01-dgx4"]);
        assert.equal(nodes.json.items[0].parent, "rack:r01");
        assert.deepEqual(ids(await as("admin", "GET", "/v1/topology/nodes?rack=rack:r01")), ids(nodes));
        assert.equal((await as("admin", "GET", "/v1/topology/gpus?rack=r01")).json.total, 32);
        const node = await as("admin", "GET", "/v1/topology/gpus?node=r01-dgx1");
        assert.deepEqual(
          ids(node),
          Array.from({ length: 8 }, (_, i) => `gpu:r01-dgx1/${i}`),
        );
        assert.equal(node.json.items[0].type, "h100-sxm");
        assert.equal(node.json.items[3].ordinal, 3);
        assert.equal((await as("admin", "GET", "/v1/topology/gpus?rack=r01&node=r03-dgx1")).json.total, 0);
        assert.equal((await as("admin", "GET", "/v1/topology/gpus?org=globex")).json.total, 64);

        const leaf = await as("admin", "GET", "/v1/topology/gpus?under=switch:ib/su1-leaf1");
        assert.equal(leaf.json.total, 32);
        assert.ok(ids(leaf).every((id) => id.startsWith("gpu:r01-")));
        assert.equal((await as("admin", "GET", "/v1/topology/gpus?under=switch:ib/spine1")).json.total, 128);
        assert.equal((await as("admin", "GET", "/v1/topology/nodes?under=switch:mgmt/r03")).json.total, 4);
        const pdu = await as("admin", "GET", "/v1/topology/gpus?under=power:r01-pdu-a1");
        assert.equal(pdu.json.total, 32);
        assert.equal((await as("admin", "GET", "/v1/topology/gpus?under=power:fpdu-a1")).json.total, 128);
        assert.equal(
          (await as("admin", "GET", "/v1/topology/gpus?under=power:fpdu-a1&rack=r03")).json.total,
          32,
        );
        assert.equal(
          (await as("admin", "GET", "/v1/topology/gpus?under=nvlinkDomain:r02-dgx2")).json.total,
          8,
        );
        assert.equal((await as("admin", "GET", "/v1/topology/gpus?under=power:nothing")).json.total, 0);
      });

      it("lists the other kinds", async () => {
        const counts: Record<string, number> = {
          power: 22,
          switches: 12,
          "nvlink-domains": 16,
          halls: 1,
          rows: 1,
        };
        for (const [path, n] of Object.entries(counts)) {
          const res = await as("admin", "GET", `/v1/topology/${path}?limit=1000`);
          assert.equal(res.json.total, n, path);
          assert.equal(res.json.items.length, n, path);
        }
      });

      it("pages", async () => {
        const all = await as("admin", "GET", "/v1/topology/gpus?limit=10000");
        assert.equal(all.json.total, 128);
        assert.equal(all.json.items.length, 128);
        const page = await as("admin", "GET", "/v1/topology/gpus?offset=5&limit=10");
        assert.deepEqual(
          { total: page.json.total, offset: page.json.offset, limit: page.json.limit },
          { total: 128, offset: 5, limit: 10 },
        );
        assert.deepEqual(page.json.items, all.json.items.slice(5, 15));
        const past = await as("admin", "GET", "/v1/topology/gpus?offset=500");
        assert.equal(past.json.total, 128);
        assert.deepEqual(past.json.items, []);
        assert.equal((await as("admin", "GET", "/v1/topology/gpus")).json.items.length, 100);
      });

      it("shows one entity with its feeds, uplinks, domain and orgs", async () => {
        const gpu = await as("admin", "GET", `/v1/topology/entities/${encodeURIComponent("gpu:r01-dgx1/0")}`);
        assert.equal(gpu.status, 200, gpu.text);
        assert.equal(gpu.json.entity.id, "gpu:r01-dgx1/0");
        assert.equal(gpu.json.entity.parent, "node:r01-dgx1");
        assert.equal(gpu.json.nvlinkDomain, "nvlinkDomain:r01-dgx1");
        assert.deepEqual(gpu.json.orgsServed, ["acme"]);
        const node = await as("admin", "GET", "/v1/topology/entities/node:r01-dgx1");
        assert.deepEqual(node.json.fedBy.sort(), [
          "power:r01-pdu-a1",
          "power:r01-pdu-a2",
          "power:r01-pdu-b1",
          "power:r01-pdu-b2",
        ]);
        const nic = await as("admin", "GET", `/v1/topology/entities/${encodeURIComponent("nic:r01-dgx1/0")}`);
        assert.deepEqual(
          nic.json.uplinks.map((u: { id: string }) => u.id),
          ["switch:ib/su1-leaf1"],
        );
        const fpdu = await as("admin", "GET", "/v1/topology/entities/power:fpdu-a1");
        assert.deepEqual(fpdu.json.orgsServed.sort(), ["acme", "globex"]);
        assert.deepEqual(fpdu.json.fedBy, ["power:swbd-a"]);
        const spine = await as(
          "admin",
          "GET",
          `/v1/topology/entities/${encodeURIComponent("switch:ib/spine1")}`,
        );
        assert.deepEqual(spine.json.orgsServed.sort(), ["acme", "globex"]);
        const missing = await as("admin", "GET", "/v1/topology/entities/rack:r99");
        assertProblem(missing, 404, "not-found");
        assert.match(missing.json.detail, /rack:r99/);
      });

      it("gives every power path up to the feeds", async () => {
        const res = await as(
          "admin",
          "GET",
          `/v1/topology/entities/${encodeURIComponent("gpu:r01-dgx1/0")}/power-path`,
        );
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.id, "gpu:r01-dgx1/0");
        const paths = res.json.paths.map((p: Array<{ id: string }>) => p.map((e) => e.id).join(" > "));
        assert.deepEqual(paths.sort(), [
          "gpu:r01-dgx1/0 > node:r01-dgx1 > power:r01-pdu-a1 > power:fpdu-a1 > power:swbd-a > power:util-a",
          "gpu:r01-dgx1/0 > node:r01-dgx1 > power:r01-pdu-a2 > power:fpdu-a1 > power:swbd-a > power:util-a",
          "gpu:r01-dgx1/0 > node:r01-dgx1 > power:r01-pdu-b1 > power:fpdu-b1 > power:swbd-b > power:util-b",
          "gpu:r01-dgx1/0 > node:r01-dgx1 > power:r01-pdu-b2 > power:fpdu-b1 > power:swbd-b > power:util-b",
        ]);
        assertProblem(
          await as("admin", "GET", "/v1/topology/entities/gpu:nope/power-path"),
          404,
          "not-found",
        );
      });

      it("gives descendants, by kind and paged", async () => {
        const rack = await as("admin", "GET", "/v1/topology/entities/rack:r01/descendants?kind=gpu");
        assert.equal(rack.json.total, 32);
        assert.ok(ids(rack).every((id) => id.startsWith("gpu:r01-")));
        const fpdu = await as(
          "admin",
          "GET",
          "/v1/topology/entities/power:fpdu-a1/descendants?kind=gpu&limit=5",
        );
        assert.equal(fpdu.json.total, 128);
        assert.equal(fpdu.json.items.length, 5);
        const spine = await as(
          "admin",
          "GET",
          `/v1/topology/entities/${encodeURIComponent("switch:ib/spine1")}/descendants?kind=switch`,
        );
        assert.deepEqual(ids(spine).sort(), [
          "switch:ib/su1-leaf1",
          "switch:ib/su1-leaf2",
          "switch:ib/su1-leaf3",
          "switch:ib/su1-leaf4",
        ]);
        const domain = await as(
          "admin",
          "GET",
          "/v1/topology/entities/nvlinkDomain:r01-dgx1/descendants?kind=gpu",
        );
        assert.equal(domain.json.total, 8);
        assertProblem(
          await as("admin", "GET", "/v1/topology/entities/rack:r99/descendants"),
          404,
          "not-found",
        );
      });
    });

    describe("cross-org walk", () => {
      let views: Views;
      before(() => {
        const current = ctx.state.factory;
        assert.ok(current, "the lab is applied");
        for (const who of ["acmeAdmin", "acmeViewer", "globexAdmin", "globexViewer"] as const)
          assert.ok(ctx.tokens[who], `${who} has a token`);
        views = viewsOf(current.build.graph);
      });

      it("has acme things of every kind to ask about", () => {
        const kinds = new Set(views.hidden.map((e) => e.kind));
        for (const kind of ["rack", "node", "gpu", "nic", "dpu", "power", "switch", "nvlinkDomain"])
          assert.ok(kinds.has(kind as EntityKind), kind);
        for (const id of ACME_SAMPLES) assert.ok(views.hiddenIds.has(id), id);
        assert.ok(!views.hiddenIds.has("power:fpdu-a1"));
        assert.ok(!views.hiddenIds.has("switch:ib/spine1"));
        assert.ok(views.sharedVisible.some((e) => e.id === "switch:ib/spine2"));
        for (const e of views.hidden) assert.equal(views.graph.get(ghostOf(e.id)), undefined, ghostOf(e.id));
      });

      for (const who of ["globexViewer", "globexAdmin"] as const) {
        describe(`as ${who}, with acme's identifiers`, () => {
          for (const route of ROUTES) {
            it(route, async () => {
              const walk = WALK[route];
              assert.ok(walk, `no cross-org case for ${route}`);
              await walk(ctx, who, views);
            });
          }
        });
      }

      it("acme still sees its own racks, and not globex's", async () => {
        for (const who of ["acmeAdmin", "acmeViewer"] as const) {
          const res = await as(who, "GET", "/v1/topology/racks");
          assert.deepEqual(
            res.json.items.map((r: { id: string }) => r.id),
            ["rack:r01", "rack:r02"],
          );
          assertProblem(await as(who, "GET", "/v1/topology/entities/rack:r03"), 404, "not-found");
          const fpdu = await as(who, "GET", "/v1/topology/entities/power:fpdu-a1");
          assert.deepEqual(fpdu.json.orgsServed, ["acme"]);
        }
      });
    });
  });
}

/** A short rendering of an answer for assertion messages. */
function show(a: Answer): string {
  return `${a.status} ${a.text.slice(0, 300)}`;
}
