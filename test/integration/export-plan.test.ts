// An export page walks the primary key in order whatever the planner believes of the
// install's size: with an estimate of a few rows, a bitmap scan and sort of every row after
// the position looked cheaper, and cost a page of 1,000 records hundreds of milliseconds on
// an install of 100,000 (docs/decisions.md, "Export and import").
import "../helpers/test-database.ts";
import { expect, test } from "bun:test";
import { loadQueries } from "../../src/db/sql.ts";
import { CITUS_URL } from "../helpers/citus.ts";
import { sql } from "../helpers/db.ts";
import { newInstall } from "../helpers/server.ts";

// on Citus the shard's query is planned by its worker, with the worker's settings: a plain
// PostgreSQL plan is what this looks at
const plainPostgres = CITUS_URL === undefined ? test : test.skip;

plainPostgres(
  "a page of records.export is an ordered scan of the primary key, even when its plan is generic",
  async () => {
    const i = newInstall("plan");
    await sql`
    insert into ext_storage_records (install_id, tenant_id, extension_id, namespace, key, value, value_json,
      value_json_revision, revision, size_bytes, created_at, updated_at)
    select ${i.installId}, ${i.tenantId}, 'e', 'ns' || (g % 3), 'k' || g, '1', '1', 1, 1, 5, now(), now()
    from generate_series(1, 20000) g`;
    const queries = loadQueries() as Readonly<Record<string, string>>;
    // rows without a usage row: gone again at the end, so that no other test's reconciliation
    // of the whole database (db:reconcile) finds them as drift
    const plan = await explainPage().finally(
      () => sql`delete from ext_storage_records where install_id = ${i.installId} and tenant_id = ${i.tenantId}`,
    );
    expect(plan).toContain("Index Scan using ext_storage_records_pkey");
    expect(plan).not.toMatch(/Sort|Bitmap/);

    function explainPage() {
      return sql.begin(async (tx) => {
        // the settings the export takes for each page (absent: none)
        const ordered = queries["transactions.ordered_scan"];
        if (ordered !== undefined) await tx.unsafe(ordered);
        // the estimate for an install the planner knows nothing of: the generic plan's
        await tx.unsafe("set local plan_cache_mode = force_generic_plan");
        await tx.unsafe(`prepare export_page(text, text, text, text, int, bigint) as ${queries["records.export"]}`);
        const rows = await tx.unsafe(
          `explain execute export_page('${i.installId}', '${i.tenantId}', 'ns1', 'k5', 1000, 4194304)`,
        );
        await tx.unsafe("deallocate export_page");
        return rows.map((r) => r["QUERY PLAN"] as string).join("\n");
      });
    }
  },
);
