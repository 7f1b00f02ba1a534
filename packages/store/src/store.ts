import type { Kysely } from "kysely";
import * as audit from "./audit.ts";
import { connect } from "./connect.ts";
import { migrateToLatest } from "./migrations.ts";
import * as orgs from "./orgs.ts";
import * as revisions from "./revisions.ts";
import * as rollups from "./rollups.ts";
import type { Database, Dialect } from "./schema.ts";
import * as tokens from "./tokens.ts";
import type { Store, StoreOptions } from "./types.ts";
import * as users from "./users.ts";

/** The one implementation of {@link Store}, over either dialect. */
export class SqlStore implements Store {
  /** Raw access for migrations and tests; not part of the public API. */
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.db = db;
    this.dialect = dialect;
  }

  close(): Promise<void> {
    return this.db.destroy();
  }

  appendRevision: Store["appendRevision"] = (input) => revisions.appendRevision(this.db, this.dialect, input);
  latestRevision: Store["latestRevision"] = () => revisions.latestRevision(this.db);
  getRevision: Store["getRevision"] = (id) => revisions.getRevision(this.db, id);
  listRevisions: Store["listRevisions"] = (opts) => revisions.listRevisions(this.db, opts);

  createOrg: Store["createOrg"] = (input) => orgs.createOrg(this.db, this.dialect, input);
  listOrgs: Store["listOrgs"] = () => orgs.listOrgs(this.db);
  getOrg: Store["getOrg"] = (name) => orgs.getOrg(this.db, name);

  createUser: Store["createUser"] = (input) => users.createUser(this.db, this.dialect, input);
  getUser: Store["getUser"] = (id) => users.getUser(this.db, id);
  listUsers: Store["listUsers"] = (opts) => users.listUsers(this.db, opts);

  createToken: Store["createToken"] = (input) => tokens.createToken(this.db, this.dialect, input);
  authenticate: Store["authenticate"] = (token) => tokens.authenticate(this.db, token);
  revokeToken: Store["revokeToken"] = (id, actor) => tokens.revokeToken(this.db, this.dialect, id, actor);
  listTokens: Store["listTokens"] = (opts) => tokens.listTokens(this.db, opts);

  appendAudit: Store["appendAudit"] = (entry) => audit.insertAudit(this.db, entry);
  listAudit: Store["listAudit"] = (opts) => audit.listAudit(this.db, opts);

  putKpiRollups: Store["putKpiRollups"] = (rows) => rollups.putKpiRollups(this.db, rows);
  listKpiRollups: Store["listKpiRollups"] = (opts) => rollups.listKpiRollups(this.db, opts);
}

/** Opens (and migrates to the latest schema) the database the options name. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const { db, dialect } = connect(opts);
  try {
    await migrateToLatest(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new SqlStore(db, dialect);
}
