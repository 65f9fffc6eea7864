// What a database has applied, next to what db/migrations holds: dbmate's schema_migrations
// read directly, so the commands can report and decide without parsing dbmate's output.
import postgres from "postgres";
import { MIGRATIONS_DIR } from "./migrate.ts";
import { loadMigrations } from "./migration-file.ts";

export type MigrationStatus = {
  applied: string[];
  pending: string[];
  /** Applied versions with no file here: the database is ahead of this checkout. */
  unknown: string[];
  files: { version: string; file: string; applied: boolean }[];
};

export async function appliedVersions(sql: postgres.Sql): Promise<string[]> {
  const [row] = await sql`select to_regclass('schema_migrations') is not null as present`;
  if (!row?.present) return [];
  return (await sql`select version from schema_migrations order by version`).map((r) => String(r.version));
}

export async function migrationStatus(url: string, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: "ext-storage-status" } });
  try {
    const applied = await appliedVersions(sql);
    const done = new Set(applied);
    const files = loadMigrations(dir).map((m) => ({ version: m.version, file: m.file, applied: done.has(m.version) }));
    const known = new Set(files.map((f) => f.version));
    return {
      applied,
      pending: files.filter((f) => !f.applied).map((f) => f.version),
      unknown: applied.filter((v) => !known.has(v)),
      files,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Whether ext_storage_records holds any row (false when the table does not exist). */
export async function recordsPresent(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: "ext-storage-rollback" } });
  try {
    const [row] = await sql`select to_regclass('ext_storage_records') is not null as present`;
    if (!row?.present) return false;
    const [found] = await sql`select exists (select 1 from ext_storage_records) as found`;
    return Boolean(found?.found);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
