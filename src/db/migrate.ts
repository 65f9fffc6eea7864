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

/**
 * The URL as dbmate must get it to mean what it means to the service. postgres.js, which the
 * service and every other command use, connects without TLS unless the URL asks for it
 * (sslmode); dbmate's driver insists on TLS unless told otherwise, so the same URL that
 * serves worked everywhere but failed db:migrate with "SSL is not enabled on the server".
 * A URL that names an sslmode is passed as it is.
 */
export function dbmateUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.searchParams.has("sslmode")) return url;
    parsed.searchParams.set("sslmode", "disable");
    return parsed.toString();
  } catch {
    return url; // not a URL: dbmate says so itself
  }
}

export function dbmate(url: string, args: readonly string[]): Promise<DbmateResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      DBMATE,
      ["--url", dbmateUrl(url), "--migrations-dir", MIGRATIONS_DIR, "--no-dump-schema", ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
