// Loaded by bunfig.toml before any test file: boots the test database once for the run.
// DATABASE_URL, when set, names an existing server instead (it is migrated, not created).
// CITUS_URL, when set, names a Citus coordinator: the whole run uses it, and the tests that
// need Citus (test/helpers/citus.ts) run too.
// The cluster is registered with tools/cleanup.ts: an interrupted run (SIGINT, SIGTERM) or a
// failed migration stops it and removes its folder.
import { afterAll } from "bun:test";
import { dbmate } from "../src/db/migrate.ts";
import { type Cluster, startCluster } from "../tools/postgres.ts";

let cluster: Cluster | undefined;
if (process.env.CITUS_URL) process.env.DATABASE_URL = process.env.CITUS_URL;
if (!process.env.DATABASE_URL) {
  cluster = await startCluster();
  process.env.DATABASE_URL = cluster.url("ext_storage_test");
  process.stderr.write(`test database: PostgreSQL in ${cluster.dir}\n`);
}
const migrated = await dbmate(process.env.DATABASE_URL as string, ["up"]);
if (migrated.code !== 0) {
  cluster?.stop();
  throw new Error(`test database migration failed:\n${migrated.output}`);
}

afterAll(() => cluster?.stop());
