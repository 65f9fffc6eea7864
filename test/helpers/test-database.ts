// The test database, for the integration tests that need one: imported by each of them (and
// by the helpers that read DATABASE_URL as they load; never by a helper a command such as
// `bun run fuzz` imports), it starts once per run, whatever file comes first,
// and is stopped after the run's last file (test/preload.ts), or on SIGINT / SIGTERM
// (tools/cleanup.ts).
// DATABASE_URL, when set, names an existing server instead (it is migrated, not created).
// CITUS_URL, when set, names a Citus coordinator: the whole run uses it, and the tests that
// need Citus (test/helpers/citus.ts) run too. Unit tests never import this: they run without
// PostgreSQL.
import { dbmate } from "../../src/db/migrate.ts";
import { type Cluster, startCluster } from "../../tools/postgres.ts";

const started = globalThis as { extStorageTestDatabase?: Promise<string>; extStorageTestCluster?: Cluster };

async function start(): Promise<string> {
  let cluster: Cluster | undefined;
  if (process.env.CITUS_URL) process.env.DATABASE_URL = process.env.CITUS_URL;
  if (!process.env.DATABASE_URL) {
    cluster = await startCluster(); // registered with tools/cleanup.ts: stopped on a signal
    started.extStorageTestCluster = cluster; // stopped by test/preload.ts after the last file
    process.env.DATABASE_URL = cluster.url("ext_storage_test");
    process.stderr.write(`test database: PostgreSQL in ${cluster.dir}\n`);
  }
  const url = process.env.DATABASE_URL as string;
  const migrated = await dbmate(url, ["up"]);
  if (migrated.code !== 0) {
    cluster?.stop();
    throw new Error(`test database migration failed:\n${migrated.output}`);
  }
  return url;
}

// one per process, even should the module be loaded twice under different specifiers
started.extStorageTestDatabase ??= start();

/** The test database's URL (also in process.env.DATABASE_URL once this module has loaded). */
export const DATABASE_URL = await started.extStorageTestDatabase;
