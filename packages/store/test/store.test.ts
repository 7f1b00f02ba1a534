import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { openStore, type Store, StoreError, withTestDatabases } from "../src/index.ts";
import { storeKysely } from "../src/internal.ts";

// Fails the whole file, rather than skipping, when PostgreSQL is unreachable.
const databases = await withTestDatabases();

/** Asserts that `promise` rejects with a StoreError of the given code. */
async function rejectsWith(promise: Promise<unknown>, code: StoreError["code"]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

async function countRows(store: Store, table: "audit_log" | "users" | "revisions" | "orgs"): Promise<number> {
  const row = await storeKysely(store)
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

for (const target of databases) {
  describe(`store on ${target.name}`, () => {
    let store: Store;

    before(async () => {
      store = await openStore(target);
    });

    after(async () => {
      await store?.close();
      await target.cleanup();
    });

    it("speaks the expected dialect", () => {
      assert.equal(store.dialect, target.name);
    });

    if (target.name === "sqlite") {
      it("configures SQLite for WAL, foreign keys and a busy timeout", async () => {
        const db = storeKysely(store);
        const pragma = async (name: string) =>
          Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];
        assert.equal(String(await pragma("journal_mode")).toLowerCase(), "wal");
        assert.equal(Number(await pragma("foreign_keys")), 1);
        assert.ok(Number(await pragma("busy_timeout")) > 0);
      });
    }

    it("migrates idempotently when opened twice", async () => {
      const again = await openStore(target);
      try {
        assert.deepEqual(await again.listOrgs(), await store.listOrgs());
        const rows = await storeKysely(again)
          .selectFrom(sql<{ name: string }>`kysely_migration`.as("m"))
          .select("m.name")
          .execute();
        assert.deepEqual(
          rows.map((r) => r.name),
          ["0001_initial", "0002_kpi_rollups"],
        );
      } finally {
        await again.close();
      }
    });

    describe("KPI rollups", () => {
      const row = (minuteMs: number, key: string, org: string | null, energyJoules: number) => ({
        minuteMs,
        grouping: "rack",
        key,
        org,
        gpus: 32,
        promptTokens: 1.5,
        generatedTokens: 2,
        trainingTokens: 3e12,
        energyJoules,
        gpuSeconds: 1920,
        usableGpuSeconds: 1900.5,
        pduEnergyJoules: null,
      });
      const T = 1_700_000_040_000;

      it("stores minutes, replaces a minute written again, and lists a window in order", async () => {
        await store.putKpiRollups([
          row(T, "r01", "acme", 10),
          row(T + 60_000, "r01", "acme", 11),
          row(T, "r03", "globex", 7),
        ]);
        await store.putKpiRollups([row(T, "r01", "acme", 12)]);
        const all = await store.listKpiRollups({ grouping: "rack", startMs: T, endMs: T + 120_000 });
        assert.deepEqual(
          all.map((r) => [r.minuteMs, r.key, r.energyJoules]),
          [
            [T, "r01", 12],
            [T, "r03", 7],
            [T + 60_000, "r01", 11],
          ],
        );
        assert.deepEqual(all[0], row(T, "r01", "acme", 12));
      });

      it("filters by key, org and window", async () => {
        const globex = await store.listKpiRollups({
          grouping: "rack",
          startMs: 0,
          endMs: T + 120_000,
          orgs: ["globex"],
        });
        assert.deepEqual(
          globex.map((r) => r.key),
          ["r03"],
        );
        assert.deepEqual(
          await store.listKpiRollups({ grouping: "rack", startMs: 0, endMs: T + 120_000, orgs: [] }),
          [],
        );
        const later = await store.listKpiRollups({
          grouping: "rack",
          key: "r01",
          startMs: T + 1,
          endMs: T + 120_000,
        });
        assert.deepEqual(
          later.map((r) => r.minuteMs),
          [T + 60_000],
        );
      });
    });

    describe("revisions", () => {
      const summary = { nodes: 12, gpus: 96, names: ["ä", "日本"], nested: { z: 1, a: [null, true, 1.5] } };
      const diff = { added: [{ kind: "node", id: "n-1" }], removed: [], changed: { b: 2, a: 1 } };

      it("starts empty", async () => {
        assert.equal(await store.latestRevision(), undefined);
        assert.deepEqual(await store.listRevisions(), []);
      });

      it("numbers revisions 1, 2, ... and round-trips JSON exactly", async () => {
        const startMs = Date.now();
        const first = await store.appendRevision({
          source: "site: one\n",
          sourceName: "factory.yaml",
          sha256: "a".repeat(64),
          summary,
          diff,
          actor: "alice",
          orgs: [],
        });
        const second = await store.appendRevision({
          source: "site: two\n",
          sourceName: "factory.yaml",
          sha256: "b".repeat(64),
          summary: { nodes: 13 },
          diff: null,
          actor: "bob",
          orgs: [],
        });
        assert.equal(first.id, 1);
        assert.equal(second.id, 2);
        assert.ok(first.createdAt instanceof Date);
        assert.ok(first.createdAt.getTime() >= startMs - 1000 && first.createdAt.getTime() <= Date.now());

        const read = await store.getRevision(1);
        assert.deepEqual(read, first);
        // Key order survives too: JSON is stored as text, not reordered like jsonb.
        assert.equal(JSON.stringify(read?.summary), JSON.stringify(summary));
        assert.equal(JSON.stringify(read?.diff), JSON.stringify(diff));
        assert.deepEqual(await store.latestRevision(), second);
        assert.equal(await store.getRevision(99), undefined);
      });

      it("lists newest first without source or diff", async () => {
        const list = await store.listRevisions();
        assert.deepEqual(
          list.map((r) => r.id),
          [2, 1],
        );
        assert.equal("source" in list[0]!, false);
        assert.equal("diff" in list[0]!, false);
        assert.deepEqual(list[1]!.summary, summary);
        assert.deepEqual(
          (await store.listRevisions({ limit: 1 })).map((r) => r.id),
          [2],
        );
        await rejectsWith(store.listRevisions({ limit: 0 }), "invalid");
      });

      it("stores large sources", async () => {
        const line = "  - { name: gpu-node-0000, rack: r01, model: dgx-h100, ip: 10.0.0.1 }\n";
        const source = line.repeat(Math.ceil(600_000 / line.length));
        const rev = await store.appendRevision({
          source,
          sourceName: "big.yaml",
          sha256: createHash("sha256").update(source).digest("hex"),
          summary: {},
          diff: {},
          actor: "alice",
          orgs: [],
        });
        assert.equal((await store.getRevision(rev.id))?.source, source);
      });

      it("creates the orgs a revision names and never deletes any", async () => {
        const rev = await store.appendRevision({
          source: "x",
          sourceName: "f.yaml",
          sha256: "c".repeat(64),
          summary: { orgs: 2 },
          diff: {},
          actor: "alice",
          orgs: ["acme", "globex", "acme"],
        });
        const acme = await store.getOrg("acme");
        assert.deepEqual(acme, { name: "acme", displayName: "acme", createdAt: acme?.createdAt });
        assert.ok(acme?.createdAt instanceof Date);
        await store.appendRevision({
          source: "y",
          sourceName: "f.yaml",
          sha256: "d".repeat(64),
          summary: {},
          diff: {},
          actor: "alice",
          orgs: ["acme"],
        });
        assert.deepEqual(await store.getOrg("acme"), acme);
        assert.deepEqual(
          (await store.listOrgs()).map((o) => o.name),
          ["acme", "globex"],
        );

        const applied = (await store.listAudit()).find((a) => a.target === `revision:${rev.id}`);
        assert.ok(applied);
        assert.equal(applied.action, "factory.apply");
        assert.equal(applied.actor, "alice");
        assert.equal(applied.org, null);
        assert.deepEqual(applied.detail, { sha256: "c".repeat(64), summary: { orgs: 2 } });
      });

      it("hands out distinct consecutive ids to concurrent applies", async () => {
        const start = (await store.latestRevision())?.id ?? 0;
        const revs = await Promise.all(
          [1, 2, 3, 4, 5].map((n) =>
            store.appendRevision({
              source: `n: ${n}`,
              sourceName: "f.yaml",
              sha256: String(n).repeat(64),
              summary: { n },
              diff: {},
              actor: "alice",
              orgs: [],
            }),
          ),
        );
        assert.deepEqual(
          revs.map((r) => r.id).sort((a, b) => a - b),
          [1, 2, 3, 4, 5].map((n) => start + n),
        );
      });

      it("writes nothing when part of an apply fails", async () => {
        const before = await store.latestRevision();
        const auditRows = await countRows(store, "audit_log");
        // The empty org name is refused after the revision row was inserted.
        await rejectsWith(
          store.appendRevision({
            source: "z",
            sourceName: "f.yaml",
            sha256: "e".repeat(64),
            summary: {},
            diff: {},
            actor: "alice",
            orgs: ["initech", ""],
          }),
          "invalid",
        );
        assert.deepEqual(await store.latestRevision(), before);
        assert.equal(await store.getOrg("initech"), undefined);
        assert.equal(await countRows(store, "audit_log"), auditRows);
      });
    });

    describe("orgs", () => {
      it("creates an org and audits it", async () => {
        const org = await store.createOrg({ name: "initech", displayName: "Initech Inc.", actor: "root" });
        assert.equal(org.name, "initech");
        assert.equal(org.displayName, "Initech Inc.");
        assert.deepEqual(await store.getOrg("initech"), org);
        const [entry] = await store.listAudit({ limit: 1 });
        assert.equal(entry?.action, "org.create");
        assert.equal(entry?.target, "org:initech");
        assert.equal(entry?.org, "initech");
        assert.equal(entry?.actor, "root");
      });

      it("defaults the display name to the name", async () => {
        assert.equal((await store.createOrg({ name: "umbrella", actor: "root" })).displayName, "umbrella");
      });

      it("refuses duplicates with conflict and writes no audit entry", async () => {
        const auditRows = await countRows(store, "audit_log");
        await rejectsWith(store.createOrg({ name: "initech", actor: "root" }), "conflict");
        await rejectsWith(store.createOrg({ name: "acme", actor: "root" }), "conflict");
        await rejectsWith(store.createOrg({ name: "", actor: "root" }), "invalid");
        assert.equal(await countRows(store, "audit_log"), auditRows);
        assert.equal(await store.getOrg("nope"), undefined);
      });
    });

    describe("users", () => {
      it("creates provider admins without an org and org users within one", async () => {
        const admin = await store.createUser({
          name: "root",
          org: null,
          role: "provider-admin",
          actor: "setup",
        });
        const orgAdmin = await store.createUser({
          name: "ann",
          org: "acme",
          role: "org-admin",
          actor: "root",
        });
        const viewer = await store.createUser({ name: "vic", org: "acme", role: "org-viewer", actor: "ann" });
        const other = await store.createUser({
          name: "gus",
          org: "globex",
          role: "org-viewer",
          actor: "root",
        });
        assert.ok(orgAdmin.id > admin.id && viewer.id > orgAdmin.id);
        assert.deepEqual(await store.getUser(viewer.id), viewer);
        assert.equal(viewer.org, "acme");
        assert.equal(viewer.role, "org-viewer");
        assert.ok(viewer.createdAt instanceof Date);
        assert.equal(await store.getUser(9999), undefined);

        assert.deepEqual(await store.listUsers({ org: "acme" }), [orgAdmin, viewer]);
        assert.deepEqual(await store.listUsers(), [admin, orgAdmin, viewer, other]);

        const entries = await store.listAudit({ org: "acme", limit: 2 });
        assert.equal(entries[0]?.action, "user.create");
        assert.equal(entries[0]?.target, `user:${viewer.id}`);
        assert.equal(entries[0]?.actor, "ann");
        assert.deepEqual(entries[0]?.detail, { name: "vic", role: "org-viewer" });
      });

      it("validates roles against orgs", async () => {
        await rejectsWith(
          store.createUser({ name: "x", org: null, role: "org-admin", actor: "root" }),
          "invalid",
        );
        await rejectsWith(
          store.createUser({ name: "x", org: null, role: "org-viewer", actor: "root" }),
          "invalid",
        );
        await rejectsWith(
          store.createUser({ name: "x", org: "acme", role: "provider-admin", actor: "root" }),
          "invalid",
        );
        await rejectsWith(
          store.createUser({ name: "x", org: "acme", role: "superuser" as never, actor: "root" }),
          "invalid",
        );
      });

      it("rolls back: an unknown org or a failed audit leaves no user and no audit row", async () => {
        const auditRows = await countRows(store, "audit_log");
        const userRows = await countRows(store, "users");
        await rejectsWith(
          store.createUser({ name: "x", org: "no-such-org", role: "org-admin", actor: "root" }),
          "not_found",
        );
        // The audit entry is refused (empty actor) after the user row was inserted.
        await rejectsWith(
          store.createUser({ name: "y", org: "acme", role: "org-admin", actor: "" }),
          "invalid",
        );
        assert.equal(await countRows(store, "audit_log"), auditRows);
        assert.equal(await countRows(store, "users"), userRows);
      });
    });

    describe("tokens", () => {
      let ann: number;
      let gus: number;

      before(async () => {
        const users = await store.listUsers();
        ann = users.find((u) => u.name === "ann")!.id;
        gus = users.find((u) => u.name === "gus")!.id;
      });

      it("creates, authenticates, revokes", async () => {
        const { token, record } = await store.createToken({ userId: ann, name: "ci", actor: "ann" });
        assert.match(token, /^fd_[A-Za-z0-9_-]{43}$/);
        assert.equal(record.userId, ann);
        assert.equal(record.name, "ci");
        assert.equal(record.expiresAt, null);
        assert.equal(record.lastUsedAt, null);
        assert.equal(record.revokedAt, null);

        const created = await store.listAudit({ limit: 1 });
        assert.equal(created[0]?.action, "token.create");
        assert.equal(created[0]?.target, `token:${record.id}`);
        assert.equal(created[0]?.org, "acme");

        const auth = await store.authenticate(token);
        assert.ok(auth);
        assert.equal(auth.user.name, "ann");
        assert.equal(auth.user.org, "acme");
        assert.equal(auth.token.id, record.id);
        assert.ok(auth.token.lastUsedAt instanceof Date);
        // Within a minute, last use is not rewritten.
        const again = await store.authenticate(token);
        assert.deepEqual(again?.token.lastUsedAt, auth.token.lastUsedAt);
        const [listed] = await store.listTokens({ userId: ann });
        assert.deepEqual(listed?.lastUsedAt, auth.token.lastUsedAt);

        assert.equal(await store.revokeToken(record.id, "root"), true);
        assert.equal(await store.authenticate(token), undefined);
        assert.equal(await store.revokeToken(record.id, "root"), false);
        assert.equal(await store.revokeToken(99_999, "root"), false);
        const revoked = await store.listAudit({ limit: 1 });
        assert.equal(revoked[0]?.action, "token.revoke");
        assert.equal(revoked[0]?.target, `token:${record.id}`);
        assert.equal(revoked[0]?.actor, "root");
        assert.ok((await store.listTokens({ userId: ann }))[0]?.revokedAt instanceof Date);
      });

      it("refuses expired, unknown and malformed tokens", async () => {
        const expired = await store.createToken({
          userId: gus,
          name: "old",
          actor: "root",
          expiresAt: new Date(Date.now() - 1000),
        });
        assert.equal(await store.authenticate(expired.token), undefined);
        const expiresAt = new Date(Date.now() + 3_600_000);
        const live = await store.createToken({ userId: gus, name: "new", actor: "root", expiresAt });
        assert.deepEqual(live.record.expiresAt, expiresAt);
        assert.equal((await store.authenticate(live.token))?.user.id, gus);
        assert.equal(await store.authenticate(`fd_${"A".repeat(43)}`), undefined);
        assert.equal(await store.authenticate("not-a-token"), undefined);
        assert.equal(await store.authenticate(""), undefined);
      });

      it("checks the user and the expiry date", async () => {
        await rejectsWith(store.createToken({ userId: 99_999, name: "t", actor: "root" }), "not_found");
        await rejectsWith(
          store.createToken({ userId: ann, name: "t", actor: "root", expiresAt: new Date("nope") }),
          "invalid",
        );
      });

      it("lists tokens by user and by org, without hashes", async () => {
        const all = await store.listTokens();
        assert.equal(all.length, 3);
        assert.deepEqual(
          (await store.listTokens({ org: "globex" })).map((t) => t.name),
          ["old", "new"],
        );
        assert.deepEqual(
          (await store.listTokens({ org: "acme" })).map((t) => t.name),
          ["ci"],
        );
        assert.deepEqual(await store.listTokens({ userId: gus, org: "acme" }), []);
        for (const t of all) {
          assert.deepEqual(Object.keys(t).sort(), [
            "createdAt",
            "expiresAt",
            "id",
            "lastUsedAt",
            "name",
            "revokedAt",
            "userId",
          ]);
        }
      });

      it("stores only SHA-256 hashes of tokens", async () => {
        const { token, record } = await store.createToken({ userId: ann, name: "probe", actor: "ann" });
        const rows = await storeKysely(store).selectFrom("api_tokens").selectAll().execute();
        for (const row of rows) {
          for (const value of Object.values(row)) {
            assert.ok(!String(value).includes(token.slice(3)), "plaintext token found in api_tokens");
          }
        }
        const row = rows.find((r) => Number(r.id) === record.id);
        assert.equal(row?.token_hash, createHash("sha256").update(token).digest("hex"));
      });
    });

    describe("audit log", () => {
      it("appends entries and lists them newest first", async () => {
        const a = await store.appendAudit({
          actor: "root",
          action: "node.drain",
          target: "node:n-1",
          org: null,
          detail: { reason: "maintenance", at: [1, 2] },
        });
        const b = await store.appendAudit({
          actor: "ann",
          action: "job.submit",
          target: "job:7",
          org: "acme",
        });
        assert.ok(b.id > a.id);
        assert.ok(a.at instanceof Date);
        assert.deepEqual(a.detail, { reason: "maintenance", at: [1, 2] });
        assert.equal(b.detail, null);
        const [newest, previous] = await store.listAudit({ limit: 2 });
        assert.deepEqual(newest, b);
        assert.deepEqual(previous, a);
      });

      it("filters by org", async () => {
        const acme = await store.listAudit({ org: "acme", limit: 1000 });
        assert.ok(acme.length >= 3);
        assert.ok(acme.every((e) => e.org === "acme"));
        assert.deepEqual(await store.listAudit({ org: "nobody" }), []);
      });

      it("pages with limit and beforeId without gaps or overlaps", async () => {
        const everything = await store.listAudit({ limit: 1000 });
        assert.equal(everything.length, await countRows(store, "audit_log"));
        const ids = everything.map((e) => e.id);
        assert.deepEqual(
          ids,
          [...ids].sort((x, y) => y - x),
        );
        const paged: number[] = [];
        let beforeId: number | undefined;
        for (;;) {
          const page = await store.listAudit({ limit: 3, ...(beforeId === undefined ? {} : { beforeId }) });
          if (page.length === 0) break;
          assert.ok(page.length <= 3);
          paged.push(...page.map((e) => e.id));
          beforeId = page.at(-1)!.id;
        }
        assert.deepEqual(paged, ids);
      });

      it("refuses UPDATE and DELETE in the database itself", async () => {
        const db = storeKysely(store);
        const before = await store.listAudit({ limit: 1000 });
        await assert.rejects(sql`update audit_log set actor = 'mallory'`.execute(db), /append-only/);
        await assert.rejects(sql`delete from audit_log`.execute(db), /append-only/);
        if (store.dialect === "postgres") {
          await assert.rejects(sql`truncate audit_log`.execute(db), /append-only/);
        }
        assert.deepEqual(await store.listAudit({ limit: 1000 }), before);
      });
    });
  });
}

describe("openStore options", () => {
  it("opens SQLite in memory", async () => {
    const store = await openStore({ dataDir: ":memory:" });
    try {
      assert.equal(store.dialect, "sqlite");
      await store.createOrg({ name: "acme", actor: "root" });
      assert.equal((await store.listOrgs()).length, 1);
    } finally {
      await store.close();
    }
  });

  it("refuses options that name no database", async () => {
    await assert.rejects(openStore({}), /URL or a data folder/);
    await assert.rejects(openStore({ url: "mysql://user:secret@host/db" }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /unsupported database URL scheme/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
  });
});
