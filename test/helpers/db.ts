// Direct database access for assertions the API does not show: stored rows, usage sums.
import "./test-database.ts";
import postgres from "postgres";

export const sql = postgres(process.env.DATABASE_URL as string, { max: 4, onnotice: () => {} });

/** Stored rows (live or expired) of an install, optionally of one namespace. */
export async function storedRows(installId: string, namespace?: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from ext_storage_records
    where install_id = ${installId} and (${namespace ?? null}::text is null or namespace = ${namespace ?? null})`;
  return row?.n as number;
}

/** The usage row next to the truth summed over the install's rows. */
export async function usageVsTruth(installId: string) {
  const [row] = await sql`
    select coalesce((select bytes_used from ext_storage_usage where install_id = ${installId}), 0)::int as bytes_used,
           coalesce((select record_count from ext_storage_usage where install_id = ${installId}), 0)::int as record_count,
           (select coalesce(sum(size_bytes), 0) from ext_storage_records where install_id = ${installId})::int as true_bytes,
           (select count(*) from ext_storage_records where install_id = ${installId})::int as true_count`;
  return row as { bytes_used: number; record_count: number; true_bytes: number; true_count: number };
}

export async function expectUsageExact(installId: string, expect: (v: unknown) => { toEqual(x: unknown): void }) {
  const u = await usageVsTruth(installId);
  expect([u.bytes_used, u.record_count]).toEqual([u.true_bytes, u.true_count]);
  return u;
}
