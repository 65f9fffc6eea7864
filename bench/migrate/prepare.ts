// The database bench:migrate starts from: migrated to all but the newest `holdBack`
// migrations of db/migrations (whichever they are when it runs), then filled with records
// spread over the load's installs in two set-based statements, usage kept exact (each
// install's bytes_used, record_count and last_revision are the sums over its rows).
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { DBMATE, dbmateUrl, MIGRATIONS_DIR, migrationVersions } from "../../src/db/migrate.ts";
import type { Install } from "../load/data.ts";

/** The namespace the seeded records live in: apart from crud-mix's own namespaces and keys. */
export const SEED_NAMESPACE = "archive";

/**
 * Applies every migration but the newest `holdBack` with dbmate, from a folder holding only
 * those files (no down section is exercised); returns the versions left pending.
 */
export async function migrateAllBut(url: string, holdBack: number): Promise<string[]> {
  const versions = migrationVersions();
  if (holdBack < 1 || holdBack >= versions.length) {
    throw new Error(`--hold-back must be between 1 and ${versions.length - 1}, got ${holdBack}`);
  }
  const kept = versions.slice(0, versions.length - holdBack);
  const dir = mkdtempSync(join(tmpdir(), "ext-storage-migrations-"));
  try {
    const files = new Bun.Glob("*.sql").scanSync(MIGRATIONS_DIR);
    for (const file of files) {
      if (kept.includes(file.split("_")[0] as string)) copyFileSync(join(MIGRATIONS_DIR, file), join(dir, file));
    }
    const child = Bun.spawn(
      [DBMATE, "--url", dbmateUrl(url), "--migrations-dir", dir, "--no-dump-schema", "--wait", "up"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const [code, out, err] = await Promise.all([
      child.exited,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    clearTimeout(timer);
    if (code !== 0) throw new Error(`migrating to ${kept.at(-1)} failed (dbmate exit ${code}):\n${out}${err}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return versions.slice(versions.length - holdBack);
}

/**
 * Into a database that holds no records yet: `records` rows over `installs` (as evenly as they divide), keys item.1 … item.n of the
 * archive namespace, small JSON values; then each install's usage row from the sums. Two
 * statements, whatever the count: 1,000,000 rows take seconds, not the minutes of HTTP.
 */
export async function seedRecords(url: string, installs: Install[], records: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: "ext-storage-bench-seed" } });
  try {
    const per = Math.floor(records / installs.length);
    const extra = records - per * installs.length;
    // install i gets per + 1 rows while i < extra; the value's text is what JSON.stringify
    // writes ({"n":j,"pad":"…"}), so size_bytes = key bytes + that text's bytes, as the service counts
    await sql`
      insert into ext_storage_records (tenant_id, extension_id, install_id, namespace, key, value, revision, size_bytes)
      select t.tenant_id, t.extension_id, t.install_id, ${SEED_NAMESPACE}, 'item.' || j,
             v.text::jsonb, j, octet_length('item.' || j) + octet_length(v.text)
      from unnest(${installs.map((i) => i.tenantId)}::text[], ${installs.map((i) => i.extensionId)}::text[],
                  ${installs.map((i) => i.installId)}::text[]) with ordinality as t(tenant_id, extension_id, install_id, ord)
      cross join lateral generate_series(1, ${per} + case when t.ord <= ${extra} then 1 else 0 end) as j
      cross join lateral (select '{"n":' || j || ',"pad":"' || md5(t.install_id || j) || '"}' as text) as v`;
    await sql`
      insert into ext_storage_usage (tenant_id, extension_id, install_id, bytes_used, record_count, last_revision)
      select tenant_id, min(extension_id), install_id, sum(size_bytes), count(*), max(revision)
      from ext_storage_records where install_id = any(${installs.map((i) => i.installId)}::text[])
      group by tenant_id, install_id`;
    await sql`vacuum analyze ext_storage_records`;
    await sql`analyze ext_storage_usage`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
