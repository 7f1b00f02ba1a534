/** `flightdeck serve`: the control plane in one process, state in a data folder or PostgreSQL. */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, ensureAdminToken, FactoryState } from "@flightdeck/api";
import { formatProblem } from "@flightdeck/model";
import { openStore } from "@flightdeck/store";

export interface ServeOptions {
  port: number;
  host: string;
  data: string;
  factory?: string;
  database?: string;
  bodyLimit?: number;
  quiet?: boolean;
}

/** The factory a fresh installation starts with, so there is something to look at. */
export const DEFAULT_FACTORY = fileURLToPath(
  new URL("../../../examples/factories/lab.yaml", import.meta.url),
);

export async function serve(opts: ServeOptions): Promise<void> {
  const dataDir = resolve(opts.data);
  mkdirSync(dataDir, { recursive: true });
  const url = opts.database ?? process.env.FLIGHTDECK_DATABASE_URL;
  const store = await openStore(url ? { url } : { dataDir });
  const state = new FactoryState(store);
  await state.load();

  const factoryFile =
    opts.factory ?? (state.factory ? undefined : existsSync(DEFAULT_FACTORY) ? DEFAULT_FACTORY : undefined);
  if (factoryFile) {
    const outcome = await state.apply(readFileSync(factoryFile, "utf8"), basename(factoryFile), "system");
    for (const p of outcome.problems) console.error(formatProblem(factoryFile, p));
    if (!outcome.ok) {
      await store.close();
      throw new Error(`${factoryFile} has errors; nothing was applied`);
    }
  }
  const { token, created } = await ensureAdminToken(store, dataDir);
  const app = await createServer({
    store,
    state,
    ...(opts.bodyLimit ? { bodyLimitBytes: opts.bodyLimit } : {}),
    logger: opts.quiet ? false : { level: "warn" },
  });
  const address = await app.listen({ port: opts.port, host: opts.host });
  const current = state.factory;
  console.log(
    `Flightdeck listening on ${address} (state: ${url ? "PostgreSQL" : `${dataDir}/flightdeck.db`})`,
  );
  if (current) {
    const c = current.build.summary.counts;
    console.log(
      `Factory "${current.build.summary.name}" revision ${current.revision}: ${c.rack} racks, ${c.node} nodes, ${c.gpu} GPUs`,
    );
  }
  console.log(`Admin token${created ? " (new)" : ""}: ${token}  (also in ${dataDir}/admin-token)`);
  console.log(`API description: ${address}/openapi.json`);

  await new Promise<void>((done) => {
    const stop = (): void => {
      app
        .close()
        .then(() => store.close())
        .finally(done);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
