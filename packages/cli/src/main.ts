/** The `flightdeck` command: serve the control plane, validate and apply factories, query topology. */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { formatProblem, loadFactoryFile } from "@flightdeck/model";
import { Command, InvalidArgumentError, Option } from "commander";
import { ApiProblem, type ClientOptions, call } from "./client.ts";
import { kpiCommand, targetsCommand, topCommand } from "./kpi.ts";
import { parseMetricsCommand } from "./metrics.ts";
import {
  type PlaceOptions,
  placeCommand,
  powerProfileCommand,
  powerTargetCommand,
  powerTreeCommand,
} from "./power.ts";
import { serve } from "./serve.ts";
import { runSim, type SimCommandOptions } from "./sim.ts";
import { kw, table } from "./table.ts";
import { up } from "./up.ts";

const int = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("not a whole number");
  return n;
};

type Out = { json?: boolean };
const print = (opts: Out, value: unknown, human: () => string): void => {
  console.log(opts.json ? JSON.stringify(value, null, 2) : human());
};

interface EntityJson {
  id: string;
  kind: string;
  name: string;
  type: string | null;
  org: string | null;
  side: string | null;
  limitWatts: number | null;
  parent: string | null;
}
const entityRows = (items: EntityJson[]) =>
  items.map((e) => [e.id, e.type, e.org, e.parent, e.side, e.limitWatts === null ? null : kw(e.limitWatts)]);
const ENTITY_HEADERS = ["ID", "TYPE", "ORG", "PARENT", "SIDE", "LIMIT"];
const printPage = (opts: Out, page: { total: number; items: EntityJson[] }): void =>
  print(
    opts,
    page,
    () => `${table(ENTITY_HEADERS, entityRows(page.items))}\n${page.items.length} of ${page.total}`,
  );

export function program(): Command {
  const cli = new Command("flightdeck")
    .description("An open control plane for AI factories")
    .option("--server <url>", "API server", process.env.FLIGHTDECK_URL ?? "http://127.0.0.1:7070")
    .option("--token <token>", "API token (default: $FLIGHTDECK_TOKEN, then DATA/admin-token)")
    .option("--data <dir>", "data folder", "./data")
    .option("--json", "print JSON instead of tables")
    .showHelpAfterError();
  const client = (): ClientOptions & Out => cli.opts() as ClientOptions & Out;

  cli
    .command("serve")
    .description("run the control plane: the API on PORT, state in DIR (or PostgreSQL)")
    .option("--port <n>", "port", int, 7070)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--factory <file>", "apply this factory description at start")
    .option("--database <url>", "postgres:// URL (default: $FLIGHTDECK_DATABASE_URL, else SQLite in DIR)")
    .option("--body-limit <bytes>", "largest request body", int)
    .option("--no-collect", "do not read the factory's endpoints")
    .option("--remote-write <url>", "send every sample read to a Prometheus remote-write endpoint")
    .option("--enforce", "push the power service's caps to the BMCs (default: decide and explain only)")
    .option("--bms <url>", "read facility meters and a load target from a BMS (modbus://host:port)")
    .option("--bms-map <file>", "the BMS register map (JSON)")
    .addOption(
      new Option("--other-draw <mode>", "plan hosts' non-GPU draw from their nameplate or from meters")
        .choices(["nameplate", "measured"])
        .default("nameplate"),
    )
    .action(
      async (o: {
        remoteWrite?: string;
        enforce?: boolean;
        otherDraw?: "nameplate" | "measured";
        bms?: string;
        bmsMap?: string;
        port: number;
        host: string;
        factory?: string;
        database?: string;
        bodyLimit?: number;
        collect: boolean;
      }) => {
        await serve({ ...o, data: cli.opts().data as string });
      },
    );

  cli
    .command("up")
    .description("the control plane on PORT and the twin of the lab factory on TWIN-PORT (npm start)")
    .option("--port <n>", "port", int, 7070)
    .option("--twin-port <n>", "port of the twin", int, 7071)
    .option("--no-twin", "start the control plane alone")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--database <url>", "postgres:// URL (default: $FLIGHTDECK_DATABASE_URL, else SQLite in DIR)")
    .action(async (o: { port: number; twinPort: number; twin: boolean; host: string; database?: string }) => {
      // The twin is ours: its BMCs take the power service's caps.
      await up({ ...o, enforce: o.twin, data: cli.opts().data as string });
    });

  cli
    .command("sim")
    .description("run the digital twin of a factory: exporters on PORT, one path per target")
    .requiredOption("--factory <file>", "factory description")
    .option("--port <n>", "port", int, 7071)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--targets-file <path>", "write the Prometheus file_sd targets here")
    .option("--scenario <file>", "jobs, inference services and faults on a timeline")
    .option("--syslog <url>", "send the kernel log (Xid lines) to udp://HOST:PORT or tcp://HOST:PORT")
    .option("--syslog-format <format>", "rfc5424 or rfc3164", "rfc5424")
    .option("--seed <n>", "seed of every random draw", int, 1)
    .option("--speed <x>", "sim seconds per wall second", Number, 1)
    .option(
      "--extender <url>",
      "place jobs through this scheduler extender (e.g. http://127.0.0.1:7070/extender)",
    )
    .action(async (o: SimCommandOptions) => {
      await runSim(o);
    });

  cli
    .command("parse-metrics <file>")
    .description(
      "parse a saved Prometheus text or OpenMetrics page: its families and samples, or the error at LINE:COL",
    )
    .option(
      "--format <format>",
      "prometheus or openmetrics (default: openmetrics when the page ends with # EOF)",
    )
    .action((file: string, o: { format?: string }) =>
      parseMetricsCommand(file, o.format, client().json === true),
    );

  cli
    .command("validate <file>")
    .description("check a factory description locally; one problem a line as FILE:LINE:COL: message")
    .action((file: string) => {
      const result = loadFactoryFile(file);
      const opts = client();
      if (opts.json)
        console.log(
          JSON.stringify(
            { ok: result.ok, problems: result.problems, summary: result.build?.summary },
            null,
            2,
          ),
        );
      else for (const p of result.problems) console.log(formatProblem(file, p));
      if (!opts.json && result.build) {
        const s = result.build.summary;
        const warnings = result.problems.filter((p) => p.severity === "warning").length;
        console.error(
          `${file}: valid — ${s.counts.rack} racks, ${s.counts.node} nodes, ${s.counts.gpu} GPUs, ` +
            `${kw(s.nameplateWatts)} nameplate${warnings ? `, ${warnings} warning(s)` : ""}`,
        );
      }
      if (!result.ok) {
        if (!opts.json)
          console.error(`${file}: ${result.problems.filter((p) => p.severity === "error").length} error(s)`);
        process.exitCode = 1;
      }
    });

  cli
    .command("apply <file>")
    .description("apply a factory description as a new revision (--dry-run: only show the diff)")
    .option("--dry-run", "validate and diff against the current revision; change nothing")
    .action(async (file: string, o: { dryRun?: boolean }) => {
      const body = { source: readFileSync(file, "utf8"), sourceName: basename(file) };
      try {
        const res = await call(client(), "POST", o.dryRun ? "v1/factory/diff" : "v1/factory/revisions", body);
        print(client(), res, () => describeApply(file, res, Boolean(o.dryRun)));
        if (res.ok === false) process.exitCode = 1;
      } catch (err) {
        if (err instanceof ApiProblem && Array.isArray(err.problem.problems)) {
          for (const p of err.problem.problems as Array<{
            severity: "error" | "warning";
            message: string;
            line?: number;
            col?: number;
          }>) {
            console.error(formatProblem(file, p));
          }
        }
        throw err;
      }
    });

  cli
    .command("revisions [id]")
    .description("list factory revisions, or show one with its diff")
    .action(async (id?: string) => {
      if (id) {
        const res = await call(client(), "GET", `v1/factory/revisions/${encodeURIComponent(id)}`);
        print(client(), res, () => JSON.stringify(res, null, 2));
        return;
      }
      const res = (await call(client(), "GET", "v1/factory/revisions")) as {
        items: Array<Record<string, unknown>>;
      };
      print(client(), res, () =>
        table(
          ["REVISION", "CREATED", "SOURCE", "BY", "SHA256"],
          res.items.map((r) => [r.id, r.createdAt, r.sourceName, r.actor, String(r.sha256).slice(0, 12)]),
        ),
      );
    });

  const topo = cli.command("topology").description("query the factory graph (scoped to your org)");
  for (const kind of ["racks", "nodes", "gpus", "power", "switches", "halls", "rows", "nvlink-domains"]) {
    topo
      .command(kind)
      .description(`list ${kind}`)
      .option("--hall <name>")
      .option("--row <id>")
      .option("--rack <name>")
      .option("--node <name>")
      .option("--org <org>")
      .option("--type <type>")
      .option("--under <id>", "power device, switch or NVLink domain id")
      .option("--limit <n>", "page size", int, 100)
      .option("--offset <n>", "first item", int, 0)
      .action(async (o: Record<string, string | number>) => {
        const query = new URLSearchParams(
          Object.entries(o).map(([k, v]): [string, string] => [k, String(v)]),
        );
        const res = (await call(client(), "GET", `v1/topology/${kind}?${query}`)) as {
          total: number;
          items: EntityJson[];
        };
        printPage(client(), res);
      });
  }
  topo
    .command("show <id>")
    .description("one entity with its feeds, uplinks and NVLink domain")
    .action(async (id: string) => {
      const res = await call(client(), "GET", `v1/topology/entities/${encodeURIComponent(id)}`);
      print(client(), res, () => JSON.stringify(res, null, 2));
    });
  topo
    .command("power-path <id>")
    .description("every power path from an entity up to its feeds")
    .action(async (id: string) => {
      const res = (await call(
        client(),
        "GET",
        `v1/topology/entities/${encodeURIComponent(id)}/power-path`,
      )) as {
        paths: EntityJson[][];
      };
      print(client(), res, () =>
        res.paths
          .map((p) => p.map((e) => (e.limitWatts ? `${e.id} (${kw(e.limitWatts)})` : e.id)).join(" → "))
          .join("\n"),
      );
    });
  topo
    .command("descendants <id>")
    .description("everything under a component: contents, what it feeds, what is behind it")
    .option("--kind <kind>", "only this kind (gpu, node, rack, …)")
    .option("--limit <n>", "page size", int, 100)
    .option("--offset <n>", "first item", int, 0)
    .action(async (id: string, o: Record<string, string | number>) => {
      const query = new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k, String(v)]));
      const res = (await call(
        client(),
        "GET",
        `v1/topology/entities/${encodeURIComponent(id)}/descendants?${query}`,
      )) as {
        total: number;
        items: EntityJson[];
      };
      printPage(client(), res);
    });

  cli
    .command("kpi")
    .description("tokens, energy, tokens per joule and usable GPU time, grouped")
    .option("--by <group>", "gpu, node, rack, row, hall, org, job, model or site", "rack")
    .option("--window <seconds>", "the window ending now (default: all the live window)", Number)
    .action(async (o: { by: string; window?: number }) => {
      await kpiCommand(client(), o.by, o.window);
    });
  cli
    .command("top")
    .description("a live table of racks by tokens per joule, refreshed in place (Ctrl-C to leave)")
    .option("--by <group>", "what to rank", "rack")
    .option("--window <seconds>", "the window each refresh covers", Number, 60)
    .option("--interval <seconds>", "seconds between refreshes", Number, 2)
    .action(async (o: { by: string; window: number; interval: number }) => {
      await topCommand(client(), o.by, o.window, o.interval);
    });
  cli
    .command("targets")
    .description("every scrape and poll target with its health and last error (provider admin)")
    .action(async () => {
      await targetsCommand(client());
    });

  const power = cli.command("power").description("the power service: budgets, target, profiles");
  power
    .command("tree")
    .description("every level of the budget tree with its draw, limit, headroom and allocated caps")
    .action(async () => {
      await powerTreeCommand(client());
    });
  power
    .command("target [value]")
    .description("show the facility target, or set it: 85%, 0.85, 850kW or none (provider admin)")
    .action(async (value?: string) => {
      await powerTargetCommand(client(), value);
    });
  power
    .command("profile [gpu]")
    .description("the running jobs' profiles and caps; with a GPU id, why it has its cap")
    .action(async (gpu?: string) => {
      await powerProfileCommand(client(), gpu);
    });
  cli
    .command("place")
    .description("admission: nodes for a job with power headroom on every level, or why not")
    .requiredOption("--gpus <n>", "GPUs wanted", int)
    .requiredOption("--org <org>", "the org whose racks it runs in")
    .option("--shape <shape>", "nvl-domain, same-leaf, spread or any", "any")
    .option("--profile <name>", "max-p, max-q or a custom profile")
    .option("--kind <kind>", "training or inference")
    .option("--priority <n>", "higher is cut last", int)
    .option("--id <id>", "the job's id")
    .option("--dry-run", "decide without holding anything")
    .action(async (o: PlaceOptions) => {
      await placeCommand(client(), o);
    });

  cli
    .command("whoami")
    .description("the user behind the token")
    .action(async () => {
      const res = await call(client(), "GET", "v1/whoami");
      print(client(), res, () => `${res.name} (${res.role}${res.org ? ` of ${res.org}` : ""})`);
    });
  const orgs = cli.command("orgs").description("orgs");
  orgs.command("list", { isDefault: true }).action(async () => {
    const res = (await call(client(), "GET", "v1/orgs")) as { items: Array<Record<string, unknown>> };
    print(client(), res, () =>
      table(
        ["ORG", "NAME", "CREATED"],
        res.items.map((o) => [o.name, o.displayName, o.createdAt]),
      ),
    );
  });
  orgs
    .command("create <name>")
    .option("--display-name <text>")
    .action(async (name: string, o: { displayName?: string }) => {
      const res = await call(client(), "POST", "v1/orgs", {
        name,
        ...(o.displayName ? { displayName: o.displayName } : {}),
      });
      print(client(), res, () => `created org ${res.name}`);
    });
  cli
    .command("user-create <org> <name>")
    .description("create a user in an org and print a token for it")
    .option("--role <role>", "org-admin or org-viewer", "org-viewer")
    .action(async (org: string, name: string, o: { role: string }) => {
      const user = await call(client(), "POST", `v1/orgs/${encodeURIComponent(org)}/users`, {
        name,
        role: o.role,
      });
      const token = await call(client(), "POST", `v1/users/${user.id}/tokens`, { name: "cli" });
      print(
        client(),
        { user, token },
        () => `user ${user.id} ${name} (${o.role} of ${org})\ntoken: ${token.token}`,
      );
    });
  return cli;
}

function describeApply(file: string, res: Record<string, unknown>, dryRun: boolean): string {
  const lines: string[] = [];
  for (const p of (res.problems ?? []) as Array<{
    severity: "error" | "warning";
    message: string;
    line?: number;
    col?: number;
  }>) {
    lines.push(formatProblem(file, p));
  }
  if (res.unchanged) lines.push(`${file}: same as the current revision; nothing applied`);
  const diff = res.diff as
    | { added: { total: number }; removed: { total: number }; changed: { total: number } }
    | undefined;
  const rev = res.revision as { id: number } | undefined;
  if (diff) {
    lines.push(
      `${dryRun ? "would change" : `revision ${rev?.id}`}: ${diff.added.total} added, ${diff.removed.total} removed, ${diff.changed.total} changed`,
    );
  }
  return lines.join("\n");
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    console.error(`flightdeck: ${(err as Error).message}`);
    return 1;
  }
}
