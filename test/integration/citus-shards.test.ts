// The shard spread computed with hashtext must be where Citus really puts each install.
// Like every test that needs Citus, it runs only when CITUS_URL is set (and the extension is
// installed for the local PostgreSQL 15: it starts a single-node cluster of its own, shards
// on the coordinator), and says so when it is skipped.
import "../helpers/test-database.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { population } from "../../bench/load/data.ts";
import { probe } from "../../bench/load/database.ts";
import { shardOf } from "../../bench/load/shards.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { CITUS_URL } from "../helpers/citus.ts";
import { freePort } from "../helpers/postgres.ts";

const BIN = "/usr/lib/postgresql/15/bin";
const hasCitus = CITUS_URL !== undefined && existsSync("/usr/lib/postgresql/15/lib/citus.so");
if (!hasCitus) {
  process.stderr.write(
    CITUS_URL === undefined
      ? "Citus shard test skipped: CITUS_URL is not set\n"
      : "Citus shard test skipped: the citus extension is not installed for the local PostgreSQL 15\n",
  );
}

const asRoot = process.getuid?.() === 0;
const run = (cmd: string, args: string[]) => {
  const r = spawnSync(asRoot ? "runuser" : cmd, asRoot ? ["-u", "postgres", "--", cmd, ...args] : args, {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr || r.stdout}`);
};
let dir: string | undefined;
afterAll(() => {
  if (dir === undefined) return;
  spawnSync(asRoot ? "runuser" : `${BIN}/pg_ctl`, [
    ...(asRoot ? ["-u", "postgres", "--", `${BIN}/pg_ctl`] : []),
    "-D",
    join(dir, "data"),
    "-m",
    "immediate",
    "stop",
  ]);
  rmSync(dir, { recursive: true, force: true });
});

describe("shards on Citus", () => {
  test.skipIf(!hasCitus)("hashtext placement agrees with Citus' catalog for 150 installs", async () => {
    dir = mkdtempSync(join(tmpdir(), "ext-storage-citus-"));
    if (asRoot) {
      const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
      const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const port = await freePort();
    run(`${BIN}/initdb`, ["-D", join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync"]);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_preload_libraries=citus`;
    run(`${BIN}/pg_ctl`, ["-D", join(dir, "data"), "-o", options, "-l", join(dir, "log"), "-w", "start"]);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await sql`create extension citus`;
      await sql`select citus_set_coordinator_host('127.0.0.1', ${port})`;
      await sql`select citus_set_node_property('127.0.0.1', ${port}, 'shouldhaveshards', true)`;
    } finally {
      await sql.end();
    }
    const migrated = await dbmate(url, ["up"]);
    expect(migrated.code, migrated.output).toBe(0);

    const db = probe(url);
    try {
      const ids = population("ld1", 50, 3).map((i) => i.installId);
      const placement = await db.citusPlacement(ids);
      expect(placement?.count).toBe(32);
      expect(placement?.method).toContain("Citus catalog");
      expect(ids.map((id) => placement?.of(id))).toEqual(ids.map((id) => shardOf(id)));
    } finally {
      await db.close();
    }
  });
});
