// Read-modify-writes under contention: increments through /v1/atomic and PATCH with If-Match
// retries never lose an update (the install's lock serialises them), and clients that retry
// with their Idempotency-Key while the service's connections are killed end at the exact
// count.
import "../helpers/test-database.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { type FreshDatabase, type KillableService, killableService } from "../helpers/databases.ts";
import { client, newInstall, startServer, type TestServer, tokenFor } from "../helpers/server.ts";
import type { Service } from "../helpers/service.ts";

const CLIENTS = 50;
const INCREMENTS = 100;

describe("no lost updates", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test(`${CLIENTS} clients × ${INCREMENTS} increments through /v1/atomic end at exactly ${CLIENTS * INCREMENTS}`, async () => {
    const c = client(server.url, await tokenFor(newInstall("inc")));
    const started = performance.now();
    const deadline = Date.now() + 120_000;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < INCREMENTS && Date.now() < deadline; i++) {
          const res = await c.atomic({
            ops: [{ op: "increment", namespace: "count", key: "hits", path: "/total", by: 1 }],
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const ms = performance.now() - started;
    const read = await c.get("count", "hits");
    console.log(
      `atomic increments: ${CLIENTS}×${INCREMENTS} in ${Math.round(ms)} ms ` +
        `(${Math.round((CLIENTS * INCREMENTS * 1000) / ms)}/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `final ${JSON.stringify(read.body.value)}`,
    );
    expect(Object.fromEntries(statuses)).toEqual({ 200: CLIENTS * INCREMENTS });
    expect(read.body.value).toEqual({ total: CLIENTS * INCREMENTS });
  }, 150_000);

  test("PATCH with If-Match, retried on 412, loses nothing", async () => {
    const c = client(server.url, await tokenFor(newInstall("patch")));
    const WRITERS = 10;
    const EACH = 20;
    await c.put("p", "doc", { value: { n: 0 } });
    let retries = 0;
    const deadline = Date.now() + 60_000;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < EACH; i++) {
          for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
            const current = await c.get("p", "doc");
            const res = await c.patch(
              "p",
              "doc",
              { n: current.body.value.n + 1, [`w${w}`]: i },
              { "if-match": `"${current.body.revision}"` },
            );
            if (res.status === 200) break;
            expect(res.status).toBe(412);
            retries++;
          }
        }
      }),
    );
    const read = await c.get("p", "doc");
    console.log(
      `PATCH with If-Match: ${WRITERS}×${EACH} updates, ${retries} retries on 412, final n ${read.body.value.n}`,
    );
    expect(read.body.value.n).toBe(WRITERS * EACH);
  }, 90_000);
});

describe("retries with Idempotency-Key while connections are killed", () => {
  let killable: KillableService | undefined;
  let db: FreshDatabase;
  let service: Service;
  let admin: postgres.Sql;
  beforeAll(async () => {
    killable = await killableService("atomic_kill", { STORAGE_DB_POOL_MAX: "4" });
    ({ db, service, admin } = killable);
  });
  afterAll(() => killable?.stop());

  test("every increment applies exactly once", async () => {
    const token = await tokenFor(newInstall("kill"));
    const c = client(service.url, token);
    const WORKERS = 8;
    const EACH = 60;
    let stop = false;
    let terminated = 0;
    const killer = (async () => {
      for (let round = 0; round < 8 && !stop; round++) {
        await Bun.sleep(250);
        const rows = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity
          where application_name = 'ext-storage' and datname = ${db.name}`;
        terminated += rows.length;
      }
    })();
    const statuses = new Map<number, number>();
    let retried = 0;
    let replays = 0;
    const deadline = Date.now() + 90_000;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        for (let i = 0; i < EACH; i++) {
          const idem = `w${w}-i${i}`;
          // each increment is sent until it is answered 200, then once more as a client that
          // lost that answer would: the second 200 must be the kept answer, replayed
          for (const round of ["first", "repeat"] as const) {
            for (let attempt = 0; attempt < 200 && Date.now() < deadline; attempt++) {
              const res = await c
                .atomic({ ops: [{ op: "increment", namespace: "k", key: "n", by: 1 }] }, { "idempotency-key": idem })
                .catch(() => ({ status: 0, headers: new Headers() }));
              statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
              if (res.status === 200) {
                const wasReplayed = res.headers.get("idempotent-replayed") === "true";
                if (wasReplayed) replays++;
                if (round === "repeat") expect(wasReplayed).toBe(true);
                break;
              }
              expect([0, 503]).toContain(res.status);
              retried++;
              await Bun.sleep(20);
            }
          }
        }
      }),
    );
    stop = true;
    await killer;
    // the service must have outlived the kills (a crash would leave every retry refused)
    if (!service.alive()) throw new Error(`the service exited: ${(await service.stderr()).slice(-4000)}`);
    const read = await c.get("k", "n");
    console.log(
      `idempotent retries under kills: ${WORKERS}×${EACH} increments, ${terminated} connections terminated, ` +
        `${retried} retries after a 503, ${replays} answered by replay (every increment sent again once answered), statuses ${JSON.stringify(Object.fromEntries(statuses))}, final ${read.body.value}`,
    );
    expect(terminated).toBeGreaterThan(0);
    expect(read.body.value).toBe(WORKERS * EACH);
  }, 120_000);
});
