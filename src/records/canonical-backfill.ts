// Fills value_json for stored rows that lack a text of their revision: rows written before
// value_json existed, or since by the previous release (which writes jsonb only). Reads are
// canonical without it (records/record.ts canonicalises such rows); filling them saves that
// work on every read and is due before writes may stop filling jsonb (docs/decisions.md).
//
// Bounded: batches of a fixed size, at most maxBatches of them and maxSeconds in all. Per
// batch, 3 round trips: BEGIN + installs.lock_existing + records.canonical_batch pipelined;
// records.canonical_fill; COMMIT. The install's lock comes first, as for every write, so a
// batch never deadlocks with a bulk-put; the install's writes wait for one batch at most.
// PostgreSQL cannot print a number as JavaScript does, so the text is made here.
import type { Database } from "../db/client.ts";
import { canonicalFromJsonb } from "./values.ts";

export type BackfillOptions = {
  /** rows per batch (one transaction) */
  batchRows: number;
  /** installs found per scan of the table */
  installsPerScan: number;
  maxBatches: number;
  maxSeconds: number;
};

export type BackfillResult = {
  /** every install holding such rows was visited (rows written since may remain) */
  complete: boolean;
  installs: number;
  batches: number;
  /** rows given their canonical text */
  rows: number;
  seconds: number;
};

type Pending = { install_id: string; tenant_id: string };
type BatchRow = { namespace: string; key: string; revision: number; value: string };

export async function backfillCanonicalValues(
  db: Database,
  options: BackfillOptions,
  progress: (line: string) => void = () => {},
): Promise<BackfillResult> {
  const started = performance.now();
  const result: BackfillResult = { complete: false, installs: 0, batches: 0, rows: 0, seconds: 0 };
  const done = (complete: boolean) => {
    result.complete = complete;
    result.seconds = Math.round(performance.now() - started) / 1000;
    return result;
  };
  const outOfBudget = () =>
    result.batches >= options.maxBatches || performance.now() - started >= options.maxSeconds * 1000;

  let afterInstall = "";
  // each scan moves past at least one install, so this ends; the bound is a second guard
  for (let scan = 0; scan < options.maxBatches + 1; scan++) {
    const pending = await db.run<Pending>("records.canonical_pending", [afterInstall, options.installsPerScan]);
    if (pending.length === 0) return done(true);
    for (const install of pending) {
      result.installs++;
      let after = { namespace: "", key: "" };
      for (;;) {
        if (outOfBudget()) return done(false);
        const batch = await fillBatch(db, install, after, options.batchRows);
        result.batches++;
        result.rows += batch.filled;
        if (batch.last === undefined || batch.read < options.batchRows) break;
        after = batch.last;
      }
      progress(`${install.install_id}: done (${result.rows} rows so far)`);
      afterInstall = install.install_id;
    }
  }
  return done(false);
}

async function fillBatch(db: Database, install: Pending, after: { namespace: string; key: string }, rows: number) {
  return db.transaction(async (q) => {
    const scope = [install.install_id, install.tenant_id];
    const [, batch] = await Promise.all([
      q.run("installs.lock_existing", scope),
      q.run<BatchRow>("records.canonical_batch", [...scope, after.namespace, after.key, rows]),
    ]);
    const last = batch.at(-1);
    if (last === undefined) return { read: 0, filled: 0, last };
    const filled = await q.run("records.canonical_fill", [
      ...scope,
      batch.map((r) => r.namespace),
      batch.map((r) => r.key),
      batch.map((r) => r.revision),
      batch.map((r) => canonicalFromJsonb(r.value)),
    ]);
    return { read: batch.length, filled: filled.length, last: { namespace: last.namespace, key: last.key } };
  });
}
