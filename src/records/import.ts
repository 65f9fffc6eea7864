// Import of an install from an export (docs/decisions.md "Export and import"): the lines,
// checked as they arrived (import-lines.ts), applied in one transaction behind the install's
// lock, or nothing is.
//
// Round trips: BEGIN; installs.lock + installs.sweep_expired + installs.import_check
// pipelined; then, pipelined together, the limits, the schemas, one records.import per
// 5,000 records and installs.account; COMMIT. 4 whatever the size.
import type { Database } from "../db/client.ts";
import { fail } from "../errors.ts";
import type { InstallRef } from "./admin.ts";
import type { ImportPlan } from "./import-lines.ts";
import type { UsageRow } from "./install.ts";
import { account } from "./pipeline.ts";
import { type LimitDefaults, limitsOf, quotaBreach, quotaExceeded } from "./usage.ts";

// records.import rows per statement: 5,000 rows of 1 KiB values are a 5 MB message
const IMPORT_BATCH = 5000;
// Each try of the import's transaction is bounded (a request's at 5 s) in proportion to what
// it writes: 30 s, and 1 s more for every MiB of records. 99,900 records (about 15 MiB of keys
// and values, 23.8 MB of NDJSON) took 6.6–21 s from the first byte sent to the answer on a
// busy 2-core machine (load average 9–13.5), the lines' checks a large part of it: the bound
// (46 s for them) leaves room for a database several times slower.
export const importLimitMs = (recordBytes: number) => 30_000 + Math.ceil(recordBytes / 1_048_576) * 1_000;

export type ImportResult = { records: number; skippedExpired: number; schemas: number; revision: number | null };

type CheckRow = { now: Date; records: number; schemas: number };

/**
 * Applies a checked import to an empty install, all or nothing, in one transaction behind
 * its lock (the order every write takes). Refused: an install of another tenant (403), one
 * holding live records or schemas (409), a quota breach under the limits the import brings
 * (or, without a limits line, the install's own) (403). Records whose expiry has passed on
 * the database's clock are not written, and counted.
 */
export async function applyImport(
  db: Database,
  defaults: LimitDefaults,
  ref: InstallRef,
  plan: ImportPlan,
): Promise<ImportResult> {
  const { installId, tenantId } = ref;
  return db.transaction(
    async (q) => {
      const lock = q.run<UsageRow>("installs.lock", [installId, tenantId, plan.extensionId]);
      const sweep = q.run<{ cleaned: number; bytes: number }>("installs.sweep_expired", [installId, tenantId]);
      const check = q.run<CheckRow>("installs.import_check", [installId, tenantId]);
      const [[usage], [swept], [state]] = await Promise.all([lock, sweep, check]);
      if (usage === undefined) throw fail("FORBIDDEN", "this install belongs to another tenant");
      if (state === undefined) throw new Error("installs.import_check returned no row");
      if (state.records > 0 || state.schemas > 0) {
        throw fail(
          "CONFLICT",
          `the install holds ${state.records} records and ${state.schemas} schemas: an import goes into an empty install (purge it first)`,
          { reason: "install_not_empty", records: state.records, schemas: state.schemas },
        );
      }

      // the records still live on the database's clock
      const now = state.now.getTime();
      const r = plan.records;
      const live: number[] = [];
      let bytes = 0;
      for (let i = 0; i < r.keys.length; i++) {
        const at = r.expires[i];
        if (at == null || at > now) {
          live.push(i);
          bytes += r.sizes[i] as number;
        }
      }
      const limits = limitsOf(
        plan.limits === undefined ? usage : { max_bytes: plan.limits.maxBytes, max_records: plan.limits.maxRecords },
        defaults,
      );
      const breach = quotaBreach({ bytes: 0, records: 0 }, { bytes, records: live.length }, limits);
      if (breach !== undefined) throw quotaExceeded(breach);

      // each expired row swept took a revision (and is a change of its own); the import's
      // records share the one after them
      const cleaned = swept?.cleaned ?? 0;
      const base = usage.last_revision + cleaned;
      const revision = live.length > 0 ? base + 1 : null;
      const work: Array<Promise<unknown>> = [];
      if (plan.limits !== undefined) {
        work.push(
          q.run("installs.set_limits", [installId, tenantId, plan.limits.maxBytes, plan.limits.maxRecords, true, true]),
        );
      }
      plan.schemas.forEach((s, i) => {
        const version = usage.last_schema_version + 1 + i;
        work.push(
          q.run("schemas.put", [
            installId,
            tenantId,
            plan.extensionId,
            s.namespace,
            s.json,
            version,
            s.defaultTtlSeconds,
            s.maxValueBytes,
          ]),
          q.run("installs.bump_schema_version", [installId, tenantId, version]),
        );
      });
      for (let from = 0; from < live.length; from += IMPORT_BATCH) {
        const batch = live.slice(from, from + IMPORT_BATCH);
        work.push(
          q.run("records.import", [
            installId,
            tenantId,
            revision,
            batch.map((i) => r.namespaces[i]),
            batch.map((i) => r.keys[i]),
            batch.map((i) => r.values[i]),
            batch.map((i) => r.sizes[i]),
            batch.map((i) => (r.expires[i] == null ? null : new Date(r.expires[i] as number).toISOString())),
          ]),
        );
      }
      if (revision !== null || cleaned > 0) {
        work.push(
          account(q, ref, {
            bytes: bytes - (swept?.bytes ?? 0),
            records: live.length - cleaned,
            lastRevision: revision ?? base,
          }),
        );
      }
      await Promise.all(work);
      return {
        records: live.length,
        skippedExpired: r.keys.length - live.length,
        schemas: plan.schemas.length,
        revision,
      };
    },
    { limitMs: importLimitMs(plan.records.sizes.reduce((sum, n) => sum + n, 0)) },
  );
}
