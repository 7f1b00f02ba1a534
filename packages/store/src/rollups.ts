/** One-minute KPI rollups: the KPIs of each rack, org and job, minute by minute, beyond the live window. */
import type { Db } from "./schema.ts";
import type { KpiRollup } from "./types.ts";

/** Rows per INSERT: well under SQLite's 32,766 bound parameters at 13 columns a row. */
const BATCH = 500;

export async function putKpiRollups(db: Db, rows: readonly KpiRollup[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows.length; i += BATCH) {
      const values = rows.slice(i, i + BATCH).map((r) => ({
        minute_ms: r.minuteMs,
        grouping: r.grouping,
        key: r.key,
        org: r.org,
        gpus: r.gpus,
        prompt_tokens: r.promptTokens,
        generated_tokens: r.generatedTokens,
        training_tokens: r.trainingTokens,
        energy_joules: r.energyJoules,
        gpu_seconds: r.gpuSeconds,
        usable_gpu_seconds: r.usableGpuSeconds,
        pdu_energy_joules: r.pduEnergyJoules,
      }));
      await tx
        .insertInto("kpi_rollups")
        .values(values)
        .onConflict((oc) =>
          oc.columns(["grouping", "key", "minute_ms"]).doUpdateSet((eb) => ({
            org: eb.ref("excluded.org"),
            gpus: eb.ref("excluded.gpus"),
            prompt_tokens: eb.ref("excluded.prompt_tokens"),
            generated_tokens: eb.ref("excluded.generated_tokens"),
            training_tokens: eb.ref("excluded.training_tokens"),
            energy_joules: eb.ref("excluded.energy_joules"),
            gpu_seconds: eb.ref("excluded.gpu_seconds"),
            usable_gpu_seconds: eb.ref("excluded.usable_gpu_seconds"),
            pdu_energy_joules: eb.ref("excluded.pdu_energy_joules"),
          })),
        )
        .execute();
    }
  });
}

export async function listKpiRollups(
  db: Db,
  opts: {
    grouping: string;
    key?: string;
    startMs: number;
    endMs: number;
    orgs?: readonly string[];
    limit?: number;
  },
): Promise<KpiRollup[]> {
  let q = db
    .selectFrom("kpi_rollups")
    .selectAll()
    .where("grouping", "=", opts.grouping)
    .where("minute_ms", ">=", opts.startMs)
    .where("minute_ms", "<", opts.endMs);
  if (opts.key !== undefined) q = q.where("key", "=", opts.key);
  if (opts.orgs) {
    if (opts.orgs.length === 0) return [];
    q = q.where("org", "in", [...opts.orgs]);
  }
  const rows = await q
    .orderBy("minute_ms")
    .orderBy("key")
    .limit(opts.limit ?? 100_000)
    .execute();
  return rows.map((r) => ({
    minuteMs: Number(r.minute_ms),
    grouping: r.grouping,
    key: r.key,
    org: r.org,
    gpus: Number(r.gpus),
    promptTokens: Number(r.prompt_tokens),
    generatedTokens: Number(r.generated_tokens),
    trainingTokens: Number(r.training_tokens),
    energyJoules: Number(r.energy_joules),
    gpuSeconds: Number(r.gpu_seconds),
    usableGpuSeconds: Number(r.usable_gpu_seconds),
    pduEnergyJoules: r.pdu_energy_joules === null ? null : Number(r.pdu_energy_joules),
  }));
}
