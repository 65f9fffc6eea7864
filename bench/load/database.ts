// What the run did to the database, when the driver can reach it (DATABASE_URL): the
// deadlock counter of pg_stat_database before and after, the rows per install (for the
// shard spread) and the server's version.
import postgres from "postgres";
import type { Placement } from "./shards.ts";

export type DbProbe = {
  deadlocks(): Promise<number>;
  rowsByInstall(prefix: string): Promise<Map<string, number>>;
  version(): Promise<string>;
  /** on Citus, each install's shard from the cluster's own catalog; undefined elsewhere */
  citusPlacement(installIds: string[]): Promise<Placement | undefined>;
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
    async citusPlacement(installIds: string[]) {
      const [citus] = await sql`select exists (select 1 from pg_extension where extname = 'citus') as on`;
      if (!citus?.on) return undefined;
      // shards of ext_storage_records in hash-range order; an install's shard by Citus' own function
      const rows = await sql`
        with shard as (
          select shardid, (row_number() over (order by shardminvalue::int) - 1)::int as idx
          from pg_dist_shard where logicalrelid = 'ext_storage_records'::regclass
        )
        select t.id, shard.idx, (select count(*) from shard)::int as shards
        from unnest(${installIds}::text[]) as t(id)
        join shard on shard.shardid = get_shard_id_for_distribution_column('ext_storage_records', t.id)`;
      const of = new Map(rows.map((r) => [r.id as string, r.idx as number]));
      return {
        count: (rows[0]?.shards as number | undefined) ?? 1,
        method: "Citus catalog: get_shard_id_for_distribution_column over pg_dist_shard of ext_storage_records",
        of: (installId: string) => of.get(installId) ?? 0,
      };
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
