// The layers part of bench:peers: where the service's CPU per GET and per PUT goes, measured
// in this process, without a socket, layer by layer from the database up:
//   GET  statement   records.get alone, through the service's Database (src/db/client.ts)
//        app         the whole GET through app.handle: routing, request id, auth, gate, the
//                    statement, rendering, metrics and the info log line (its text made, not
//                    written)
//   PUT  statements  the statements one PUT sends (BEGIN, transactions.identity, installs.lock,
//                    records.state, records.upsert, installs.account, changes.notify, COMMIT),
//                    as putRecord sent them once, replayed in a transaction of their own, each
//                    with a revision of its own, over a seeded record of the same value: in
//                    the PUT's two round trips, and all in one
//        domain      putRecord: the plan, the pipeline and those statements
//        app         the whole PUT through app.handle
// Each layer's CPU µs per call is this process's user + system time (process.cpuUsage)
// divided by the calls, `concurrency` in flight (the bench's own Request and Response
// handling is in the app rows, a few µs), this process's own work: the database's CPU is the
// statements part's; layers interleaved by round after an untimed one, the median printed.
// The socket and Bun's HTTP server are what bench:peers' servers part adds on top.
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect, type Database, type Queryable } from "../../src/db/client.ts";
import type { QueryName } from "../../src/db/sql.ts";
import { createLogger } from "../../src/log.ts";
import type { Install } from "../../src/records/install.ts";
import { putRecord } from "../../src/records/records.ts";
import { mintToken } from "../../src/tokens.ts";
import { onExit } from "../../tools/cleanup.ts";
import { installId, keyOf, median, SEED, VALUE } from "./statements.ts";

const SECRET = "bench-peers-secret-0123456789-abcdefghij";
/** where putRecord and app.handle write (new records, accounted by the service) */
const PUT_NAMESPACE = "peers-layers";
/** where the replayed statements write: a seeded record without expiry, of the same value, so
 * the replayed accounting of an overwrite (0 bytes, 0 records) keeps the usage row exact */
const REPLAY_KEY = keyOf(1);

type Sent = { name: QueryName; params: unknown[] };

/**
 * The statements one putRecord sends in its transaction, in order (the transaction's own
 * BEGIN, identity and COMMIT excepted: transaction() sends those itself). The key is written
 * twice and the second write's statements kept: an overwrite, so that replaying its account
 * (0 records, 0 bytes more) never grows the install's usage.
 */
async function statementsOfOnePut(db: Database, put: (db: Database) => Promise<unknown>): Promise<Sent[]> {
  let sent: Sent[] = [];
  const recording: Database = {
    ...db,
    transaction: (fn, options) =>
      db.transaction((tx) => {
        const q: Queryable & { commit(): void } = {
          run: (name, params) => {
            sent.push({ name, params: [...params] });
            return tx.run(name, params);
          },
          commit: () => tx.commit(),
        };
        return fn(q);
      }, options),
  };
  await put(recording);
  sent = [];
  await put(recording);
  return sent;
}

export type LayerResult = { request: "GET" | "PUT"; layer: string; cpuUsPerCall: number; rounds: number[] };

export async function runLayers(o: {
  databaseUrl: string;
  requests: number;
  concurrency: number;
  rounds: number;
}): Promise<LayerResult[]> {
  const config = loadConfig({ STORAGE_JWT_SECRET: SECRET, LOG_LEVEL: "info", STORAGE_RATE_LIMIT: "0" });
  const db = connect(o.databaseUrl, { ...config.db, poolMax: 10 });
  // on Ctrl-C the calls stop, those under way settle and the connections close, before the
  // seed is removed (registered after it, so stopped before it): nothing writes meanwhile
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const forgetDb = onExit({
    name: "the layers' calls and database connections",
    stop: async () => {
      stopped = true;
      await running;
      await db.close(1);
    },
  });
  const app = buildApp({ config, db, log: createLogger("info", () => true), jwtSecret: SECRET });
  try {
    const installOf = (i: number): Install => ({
      tenantId: SEED.tenant,
      extensionId: "peers-ext",
      installId: installId(i % SEED.installs),
    });
    const keyAt = (i: number) => keyOf(Math.floor(i / SEED.installs) % SEED.keys);
    const tokens = await Promise.all(
      Array.from({ length: SEED.installs }, (_, i) =>
        mintToken(
          { ...installOf(i), scope: "storage:read storage:write" },
          { secret: SECRET, audience: config.jwt.audience },
        ),
      ),
    );
    const value = JSON.parse(VALUE) as unknown;
    const body = JSON.stringify({ value });
    const handle = async (i: number, method: "GET" | "PUT") => {
      const namespace = method === "PUT" ? PUT_NAMESPACE : SEED.namespace;
      const response = await app.handle(
        new Request(`http://127.0.0.1/v1/namespaces/${namespace}/records/${keyAt(i)}`, {
          method,
          headers: {
            authorization: `Bearer ${tokens[i % SEED.installs]}`,
            ...(method === "PUT" ? { "content-type": "application/json" } : {}),
          },
          body: method === "PUT" ? body : undefined,
        }),
      );
      const text = await response.text();
      if (response.status !== 200 && response.status !== 201) {
        throw new Error(`${method} through app.handle answered ${response.status}: ${text}`);
      }
    };
    const putVia = (via: Database, i: number) =>
      putRecord(via, config.limits, installOf(i), PUT_NAMESPACE, keyAt(i), { value }, {});

    const sent = await statementsOfOnePut(db, (via) => putVia(via, 0));
    // what this part says it replays; a write path that changes fails the run until it is updated
    const names = sent.map((s) => s.name).join(", ");
    if (names !== "installs.lock, records.state, records.upsert, installs.account, changes.notify") {
      throw new Error(`a PUT now sends ${names}: update bench/peers/layers.ts`);
    }
    // above every revision the seeded installs have logged: the change feed's key stays unique
    let revision = Date.now() * 100;
    // as a PUT sends them (two round trips: the lock and the state read, then the rest with
    // COMMIT), or all in one, which shows what the second round trip costs
    const replay = (i: number, roundTrips: 1 | 2) =>
      db.transaction(async (tx) => {
        const answers: Promise<unknown>[] = [];
        for (const { name, params } of sent) {
          const p = [...params];
          p[0] = installOf(i).installId;
          if (name === "records.upsert") {
            p[3] = [SEED.namespace];
            p[4] = [REPLAY_KEY];
            p[6] = [revision++];
          }
          if (name === "records.state") {
            p[2] = [SEED.namespace];
            p[3] = [REPLAY_KEY];
          }
          if (roundTrips === 2 && name === "records.upsert") await Promise.all(answers);
          answers.push(tx.run(name, p));
        }
        tx.commit();
        await Promise.all(answers);
      });

    const layers: { request: "GET" | "PUT"; layer: string; call: (i: number) => Promise<unknown> }[] = [
      {
        request: "GET",
        layer: "statement (records.get)",
        call: (i) => db.run("records.get", [installOf(i).installId, SEED.tenant, SEED.namespace, keyAt(i)]),
      },
      { request: "GET", layer: "app (app.handle)", call: (i) => handle(i, "GET") },
      { request: "PUT", layer: "statements, one round trip", call: (i) => replay(i, 1) },
      { request: "PUT", layer: "statements, two round trips (as sent)", call: (i) => replay(i, 2) },
      { request: "PUT", layer: "domain (putRecord)", call: (i) => putVia(db, i) },
      { request: "PUT", layer: "app (app.handle)", call: (i) => handle(i, "PUT") },
    ];
    // every caller settled before a failure is thrown: the cleanup after it (the seed's
    // removal) never races a write still under way
    const loop = async (call: (i: number) => Promise<unknown>, n: number) => {
      let next = 0;
      const settled = Promise.allSettled(
        Array.from({ length: o.concurrency }, async () => {
          for (let i = next++; i < n && !stopped; i = next++) await call(i);
        }),
      );
      running = settled;
      const callers = await settled;
      if (stopped) throw new Error("bench:peers was stopped");
      const failed = callers.find((c) => c.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    };
    const rounds = new Map<string, number[]>();
    // a whole untimed round first (at least 1,000 calls a layer): the first timed round was
    // the dearest of every layer with a shorter warm-up
    for (const l of layers) await loop(l.call, Math.max(o.requests, 1000));
    for (let round = 0; round < o.rounds; round++) {
      for (const l of layers) {
        const before = process.cpuUsage();
        await loop(l.call, o.requests);
        const used = process.cpuUsage(before);
        const key = `${l.request} ${l.layer}`;
        rounds.set(key, [...(rounds.get(key) ?? []), (used.user + used.system) / o.requests]);
      }
    }
    const results = layers.map((l): LayerResult => {
      const r = rounds.get(`${l.request} ${l.layer}`) as number[];
      return { request: l.request, layer: l.layer, cpuUsPerCall: median(r), rounds: r };
    });
    console.log(
      `\nlayers: in this process, no socket; ${o.requests} calls per layer and round, ${Math.min(o.concurrency, o.requests)} in flight, ${o.rounds} rounds, medians`,
    );
    console.log("request | layer | CPU µs/call | rounds");
    for (const r of results) {
      console.log(
        `${r.request} | ${r.layer} | ${r.cpuUsPerCall.toFixed(1)} | ${r.rounds.map((x) => x.toFixed(0)).join(" ")}`,
      );
    }
    return results;
  } finally {
    forgetDb();
    await db.close();
  }
}
