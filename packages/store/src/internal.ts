import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";
import { SqlStore } from "./store.ts";
import type { Store } from "./types.ts";

/** The Kysely handle behind a store, for tests that need raw SQL; not exported from the package. */
export function storeKysely(store: Store): Kysely<Database> {
  if (!(store instanceof SqlStore)) throw new TypeError("not a store opened by openStore");
  return store.db;
}
