// What the run did to the database, when the driver can reach it (DATABASE_URL): the
// deadlock counter of pg_stat_database before and after, the rows per install (for the
// shard spread) and the server's version.
import postgres from "postgres";

export type DbProbe = {
  deadlocks(): Promise<number>;
  rowsByInstall(prefix: string): Promise<Map<string, number>>;
  version(): Promise<string>;
  close(): Promise<void>;
};

export function probe(url: string): DbProbe {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: "ext-storage-load" } });
  return {
    async deadlocks() {
      // stats are flushed by each backend at most once a second (PostgreSQL 15)
      const [row] =
        await sql`select deadlocks::bigint::text as n from pg_stat_database where datname = current_database()`;
      return Number(row?.n ?? 0);
    },
    async rowsByInstall(prefix: string) {
      const rows = await sql`select install_id, count(*)::int as n from ext_storage_records
        where install_id like ${`${prefix.replace(/[\\%_]/g, "\\$&")}%`} group by install_id`;
      return new Map(rows.map((r) => [r.install_id as string, r.n as number]));
    },
    async version() {
      const [row] = await sql`select current_setting('server_version') as v`;
      return String(row?.v);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
