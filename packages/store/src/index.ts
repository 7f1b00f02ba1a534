/**
 * Persistence for Flightdeck: factory revisions, orgs, users, API tokens and the audit log,
 * over embedded SQLite or PostgreSQL with one schema.
 */
export { StoreError, type StoreErrorCode } from "./errors.ts";
export { openStore } from "./store.ts";
export { type TestDatabase, withTestDatabases } from "./testing.ts";
export type {
  AppendRevisionInput,
  AuditInput,
  AuditRecord,
  KpiRollup,
  OrgRecord,
  RevisionRecord,
  RevisionSummary,
  Role,
  Store,
  StoreOptions,
  TokenRecord,
  UserRecord,
} from "./types.ts";
export { ROLES } from "./types.ts";
