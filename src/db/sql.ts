// The service's SQL: sql/**/*.sql, one statement per file, loaded once at start into a
// frozen map. A file's header names it (`-- name: records.get`); the name must match the
// file's path, so a query's name in logs and metrics always leads to its file. A file headed
// `-- fragment: name` is no statement but CTEs that statements include by a line
// `-- include: name`, expanded here.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const QUERY_NAMES = [
  "installs.lock",
  "installs.lock_existing",
  "installs.account",
  "installs.sweep_expired",
  "installs.usage",
  "installs.set_limits",
  "installs.bump_schema_version",
  "installs.purge",
  "installs.reconcile",
  "installs.export_head",
  "installs.import_check",
  "records.get",
  "records.bulk_get",
  "records.get_cleaning",
  "records.list",
  "records.list_cleaning",
  "records.state",
  "records.state_values",
  "records.upsert",
  "records.delete",
  "records.canonical_pending",
  "records.canonical_batch",
  "records.canonical_fill",
  "records.export",
  "records.import",
  "namespaces.list",
  "namespaces.delete",
  "schemas.get",
  "schemas.put",
  "schemas.delete",
  "schemas.export",
  "ttl.sweep",
  "ttl.pending",
  "health.migrations",
  "transactions.identity",
  "transactions.outcome",
  "transactions.end_backend",
  "transactions.ordered_scan",
  "ratelimit.lease",
  "ratelimit.give_back",
  "idempotency.get",
  "idempotency.put",
  "idempotency.sweep",
  "changes.list",
  "changes.heads",
  "changes.notify",
  "changes.lease",
  "changes.prune",
] as const;

export type QueryName = (typeof QUERY_NAMES)[number];

export const SQL_DIR = fileURLToPath(new URL("../../sql/", import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith(".sql") ? [path] : [];
  });
}

function nameOf(file: string, dir: string): string {
  return relative(dir, file).slice(0, -".sql".length).split(sep).join(".").replaceAll("-", "_");
}

/** The fragments under dir (files headed `-- fragment: name`): CTEs shared by statements. */
function loadFragments(dir: string): ReadonlyMap<string, string> {
  const fragments = new Map<string, string>();
  for (const file of filesUnder(dir)) {
    const text = readFileSync(file, "utf8");
    const name = /^-- fragment: (\S+)/.exec(text)?.[1];
    if (name === undefined) continue;
    if (name !== nameOf(file, dir))
      throw new Error(`${file}: header names "${name}", its path says "${nameOf(file, dir)}"`);
    fragments.set(name, text);
  }
  return fragments;
}

const INCLUDE = /^-- include: (\S+)$/gm;

/** A statement's text with each `-- include: name` line replaced by that fragment, so a CTE
 * two statements share is written once (sql/records/expired-cleanup.sql). */
function expand(file: string, text: string, fragments: ReadonlyMap<string, string>): string {
  return text.replace(INCLUDE, (_, name: string) => {
    const fragment = fragments.get(name);
    if (fragment === undefined) throw new Error(`${file}: includes unknown fragment ${name}`);
    return fragment.trimEnd();
  });
}

/** One statement's text as it is sent, fragments included: for tools that run a statement
 * outside the service (pgbench), from a checkout of any version. */
export function statementText(dir: string, file: string): string {
  return expand(file, readFileSync(join(dir, file), "utf8"), loadFragments(dir));
}

export function loadQueries(dir = SQL_DIR): Readonly<Record<QueryName, string>> {
  const fragments = loadFragments(dir);
  const queries: Record<string, string> = {};
  for (const file of filesUnder(dir)) {
    const text = readFileSync(file, "utf8");
    if (text.startsWith("-- fragment: ")) continue;
    const name = nameOf(file, dir);
    const header = /^-- name: (\S+)/.exec(text)?.[1];
    if (header !== name) throw new Error(`${file}: header names "${header}", its path says "${name}"`);
    if (!(QUERY_NAMES as readonly string[]).includes(name)) throw new Error(`${file}: unknown query ${name}`);
    queries[name] = expand(file, text, fragments);
  }
  const missing = QUERY_NAMES.filter((name) => !(name in queries));
  if (missing.length > 0) throw new Error(`missing SQL files for: ${missing.join(", ")}`);
  return Object.freeze(queries as Record<QueryName, string>);
}
