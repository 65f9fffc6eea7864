// Database faults under load, with the service as its own process: its connections killed
// (pg_terminate_backend) and the database restarted. Every answer is a 2xx or a bounded
// 503 UNAVAILABLE, never a 500; the service recovers by itself within 2 s; no
// acknowledged write is lost, and no write answered 503 is in the database.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { dbmate } from "../../src/db/migrate.ts";
import { type FreshDatabase, type KillableService, killableService } from "../helpers/databases.ts";
import { histogram, type LoadResult, runLoad, writeFates } from "../helpers/load.ts";
import { type Cluster, startCluster } from "../helpers/postgres.ts";
import { newInstall, tokenFor } from "../helpers/server.ts";
import { type Service, startService, until } from "../helpers/service.ts";

const CLIENTS = 8;
const RECOVERY_MS = 2000;

/**
 * For each fault at `times[i]`: how long until a request that started after it succeeded
 * (the service recovered), and how long failures went on after it (until the next fault).
 */
function recoveries(result: LoadResult, times: number[]) {
  return times.map((t, i) => {
    const next = times[i + 1] ?? Number.POSITIVE_INFINITY;
    const ok = result.outcomes.filter((o) => o.start >= t && o.status < 300).map((o) => o.end);
    const failures = result.outcomes.filter((o) => o.end >= t && o.end < next && o.status >= 500).map((o) => o.end);
    return {
      recoveredMs: ok.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...ok) - t,
      failuresForMs: failures.length === 0 ? 0 : Math.max(...failures) - t,
    };
  });
}

function expectOnlyOkOr503(result: LoadResult) {
  const bad = result.outcomes.filter(
    (o) => ![200, 201, 503].includes(o.status) && !(o.method === "GET" && o.status === 404),
  );
  expect(bad.slice(0, 5)).toEqual([]);
}

describe("connections killed mid-load", () => {
  let killable: KillableService | undefined;
  let db: FreshDatabase;
  let service: Service;
  let admin: postgres.Sql;
  beforeAll(async () => {
    killable = await killableService("faults_kill", { STORAGE_DB_POOL_MAX: "4" });
    ({ db, service, admin } = killable);
  });
  afterAll(() => killable?.stop());

  test("pg_terminate_backend of every service connection, three times: 503s, then recovery", async () => {
    const token = await tokenFor(newInstall("faults"));
    const kills: number[] = [];
    let terminated = 0;
    const started = Date.now();
    const killer = (async () => {
      for (const at of [800, 1800, 2800]) {
        await Bun.sleep(Math.max(0, started + at - Date.now()));
        kills.push(Date.now());
        const rows = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity
          where application_name = 'ext-storage' and datname = ${db.name}`;
        terminated += rows.length;
      }
    })();
    const result = await runLoad(service.url, token, CLIENTS, 4.5);
    await killer;
    const times = recoveries(result, kills);
    const failures = result.outcomes.filter((o) => o.status >= 500).length;
    const slowest = Math.max(0, ...result.outcomes.filter((o) => o.status >= 500).map((o) => o.end - o.start));
    console.log(
      `faults (terminate): ${kills.length} kills of ${terminated} connections; ${result.outcomes.length} requests ` +
        `${JSON.stringify(histogram(result.outcomes))}; recovered ${times.map((r) => r.recoveredMs).join(", ")} ms after ` +
        `each kill, failures went on ${times.map((r) => r.failuresForMs).join(", ")} ms; slowest 503 ${slowest} ms`,
    );
    expectOnlyOkOr503(result);
    expect(terminated).toBeGreaterThan(0);
    expect(failures).toBeLessThanOrEqual(kills.length * (CLIENTS + 4)); // bounded: the requests in flight, about
    for (const r of times) expect(r.recoveredMs).toBeLessThan(RECOVERY_MS);
    expect(slowest).toBeLessThan(6000); // bounded: at worst the 5 s transaction limit
    expect(await writeFates(service.url, token, result)).toEqual({ lost: [], appliedAfter503: [] });
    expect(service.alive()).toBe(true);
  }, 30_000);
});

describe("database restart", () => {
  let cluster: Cluster;
  let service: Service;
  beforeAll(async () => {
    cluster = await startCluster();
    const migrated = await dbmate(cluster.url("postgres"), ["up"]);
    if (migrated.code !== 0) throw new Error(migrated.output);
    service = await startService(cluster.url("postgres"), { STORAGE_DB_POOL_MAX: "4" });
  }, 60_000);
  afterAll(async () => {
    await service?.kill();
    cluster?.stop();
  });

  test("a fast stop and start of PostgreSQL is survived without restarting the service", async () => {
    const token = await tokenFor(newInstall("restart"));
    let back = 0;
    let down = 0;
    const fault = (async () => {
      await Bun.sleep(1000);
      down = Date.now();
      cluster.halt();
      await Bun.sleep(700);
      cluster.resume();
      back = Date.now();
    })();
    const result = await runLoad(service.url, token, CLIENTS, 4.5);
    await fault;
    const failures = result.outcomes.filter((o) => o.status >= 500);
    const recoveredMs = recoveries(result, [back])[0]?.recoveredMs ?? Number.POSITIVE_INFINITY;
    console.log(
      `faults (restart): down ${back - down} ms; ${result.outcomes.length} requests ` +
        `${JSON.stringify(histogram(result.outcomes))}; recovered ${recoveredMs} ms after the restart`,
    );
    expectOnlyOkOr503(result);
    expect(failures.length).toBeGreaterThan(0); // the outage was seen, as 503s
    expect(recoveredMs).toBeLessThan(RECOVERY_MS);
    expect(Math.max(...failures.map((o) => o.end - o.start))).toBeLessThan(6000);
    expect(await writeFates(service.url, token, result)).toEqual({ lost: [], appliedAfter503: [] });
    expect(service.alive()).toBe(true);
    await until("readiness after the restart", async () => (await fetch(`${service.url}/readyz`)).status === 200, 2000);
  }, 60_000);
});
