// Tests that need a Citus cluster run only when CITUS_URL names its coordinator (the test
// database helper then points the whole run at it); without it they are skipped, and say so
// once.
import { test } from "bun:test";
import type postgres from "postgres";
import { loadQueries, type QueryName } from "../../src/db/sql.ts";

export const CITUS_URL = process.env.CITUS_URL || undefined;

export const citusTest = CITUS_URL === undefined ? test.skip : test;

export function noteCitusSkipped(file: string) {
  if (CITUS_URL === undefined) process.stderr.write(`${file}: CITUS_URL is not set, so the Citus tests are skipped\n`);
}

/**
 * The task count of every step Citus plans for one of the service's statements, from EXPLAIN
 * with the parameters given: [1] is a router query (one task on one shard); [1, 1, …] runs as
 * several single-shard steps (Citus plans an INSERT in a CTE as a step of its own); a count
 * above 1 fans out to several shards. Boolean arrays are sent as arrays, as the service's
 * client does (postgres.js would declare them with their first element's type).
 */
export async function planTasks(sql: postgres.Sql, name: QueryName, params: unknown[]): Promise<number[]> {
  const text = loadQueries()[name];
  const values = params.map((v) =>
    Array.isArray(v) && v.some((x) => typeof x === "boolean") ? sql.array(v as boolean[]) : v,
  );
  const plan = await sql.unsafe(`explain ${text}`, values as never[]);
  const lines = plan.map((row) => String(Object.values(row)[0]));
  return lines.flatMap((line) => [...line.matchAll(/Task Count: (\d+)/g)].map((m) => Number(m[1])));
}

/** The number of tasks Citus plans for a statement, all steps together (1: a router query). */
export async function taskCount(sql: postgres.Sql, name: QueryName, params: unknown[]): Promise<number> {
  return (await planTasks(sql, name, params)).reduce((sum, n) => sum + n, 0);
}
