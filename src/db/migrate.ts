// dbmate, the one migration tool for every engine: the same files and the same
// schema_migrations bookkeeping whether the database is PostgreSQL, Citus or PGlite.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MIGRATIONS_DIR = `${ROOT}db/migrations`;
export const DBMATE = `${ROOT}node_modules/.bin/dbmate`;
export const SCHEMA_FILE = `${ROOT}db/schema.sql`;

/** The versions of db/migrations, in order: what a current database has applied. */
export function migrationVersions(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir)
    .map((file) => /^(\d+)_.*\.sql$/.exec(file)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort();
}

/**
 * A schema dump without the lines that name the server's and pg_dump's minor versions
 * ("-- Dumped from database version 15.20 …"): they change with every Debian point release
 * and say nothing of the schema, so the committed db/schema.sql leaves them out.
 */
export const comparableDump = (dump: string): string =>
  dump.replace(/^-- Dumped (?:from database|by pg_dump) version .*\n/gm, "");

export type DbmateResult = { code: number; output: string };

export function dbmate(url: string, args: readonly string[]): Promise<DbmateResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(DBMATE, ["--url", url, "--migrations-dir", MIGRATIONS_DIR, "--no-dump-schema", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
