// What a database has applied, next to what db/migrations holds: dbmate's schema_migrations
// read directly, so the commands can report and decide without parsing dbmate's output.
import { MIGRATIONS_DIR } from "../db/migrate.ts";
import { appliedVersions, withAdminConnection } from "./connection.ts";
import { loadMigrations } from "./migration-file.ts";

export type MigrationStatus = {
  applied: string[];
  pending: string[];
  /** Applied versions with no file here: the database is ahead of this checkout. */
  unknown: string[];
  files: { version: string; file: string; applied: boolean }[];
};

export function migrationStatus(url: string, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  return withAdminConnection(url, "status", async (sql) => {
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
  });
}

/** The tables a migration's down section drops (`drop table [if exists] a, b …`), unqualified. */
export function tablesDroppedBy(downSql: string): string[] {
  const text = downSql.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
  const names: string[] = [];
  for (const [, list] of text.matchAll(/\bdrop\s+table\s+(?:if\s+exists\s+)?([^;]+)/gi)) {
    for (const item of (list as string).replace(/\b(cascade|restrict)\b/gi, "").split(",")) {
      const name = item.trim().split(".").at(-1)?.replace(/"/g, "");
      if (name) names.push(name);
    }
  }
  return names;
}

export type RollbackRisk = {
  /** the newest applied migration's file, undefined when this checkout has no file for it */
  file: string | undefined;
  version: string | undefined;
  /** tables its down section drops that hold rows now */
  tablesWithRows: string[];
};

/**
 * What rolling back the newest applied migration would destroy: the tables its down section
 * drops that hold rows. Dropping functions, indexes or empty tables destroys no data.
 */
export function rollbackRisk(url: string, dir = MIGRATIONS_DIR): Promise<RollbackRisk> {
  return withAdminConnection(url, "rollback", async (sql) => {
    const version = (await appliedVersions(sql)).at(-1);
    if (version === undefined) return { file: undefined, version, tablesWithRows: [] };
    const migration = loadMigrations(dir).find((m) => m.version === version);
    if (migration === undefined) return { file: undefined, version, tablesWithRows: [] };
    const tablesWithRows: string[] = [];
    for (const table of tablesDroppedBy(migration.down.sql)) {
      const [row] = await sql`select to_regclass(${table}) is not null as present`;
      if (!row?.present) continue;
      const [found] = await sql`select exists (select 1 from ${sql(table)}) as found`;
      if (found?.found) tablesWithRows.push(table);
    }
    return { file: migration.file, version, tablesWithRows };
  });
}
