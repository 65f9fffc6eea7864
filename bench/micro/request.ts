// A whole request through app.handle (no socket): routing, request id, auth, body reading,
// validation, the domain and the SQL, rendering. With a database, real GET and PUT (and the
// records the SQL benchmarks read are written here, through the API); without one, requests
// that end before the database (a 400 at validation, a 401, a 404 route). Every call checks
// its status: a benchmark that gets another answer (a 429, a 503) fails the run. The app runs
// with the per-install rate limit off, as a benchmark sends far more than 100 requests/s.
import { bench, group } from "mitata";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect, type Database } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { mintToken } from "../../src/tokens.ts";
import { expectStatus } from "../status.ts";
import { BENCH_INSTALL, BENCH_KEYS, BENCH_NAMESPACE, BENCH_VALUE } from "./sql.ts";

const SECRET = "bench-secret-0123456789-abcdefghijklmnop";

export async function requestBenches(db: Database | undefined) {
  const config = loadConfig({ STORAGE_JWT_SECRET: SECRET, LOG_LEVEL: "silent", STORAGE_RATE_LIMIT: "0" });
  // without a database, a client that is never asked anything (postgres.js connects lazily)
  const database = db ?? connect("postgres://bench@127.0.0.1:1/none", { poolMax: 1, prepare: true });
  const app = buildApp({ config, db: database, log: createLogger("silent"), jwtSecret: SECRET });
  const token = await mintToken(
    { ...BENCH_INSTALL, scope: "storage:read storage:write" },
    { secret: SECRET, audience: config.jwt.audience },
  );
  const base = `http://127.0.0.1/v1/namespaces/${BENCH_NAMESPACE}`;
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, "content-type": "application/json" };
  const value = BENCH_VALUE;
  const body = JSON.stringify({ value });
  /** one request through the app, failing the run unless it answers `status` */
  const handle = (label: string, status: number, request: () => Request) => async () =>
    expectStatus(label, await app.handle(request()), status);
  const invalidPut = () =>
    new Request(`${base}/records/user%2F001`, {
      method: "PUT",
      headers: json,
      body: '{"value": 1, "ttlSeconds": "x"}',
    });
  // the first call verifies the token; later ones hit the authenticator's cache, as in service
  await expectStatus("PUT refused at validation", await app.handle(invalidPut()), 400);
  if (db !== undefined) {
    const seeded = await app.handle(
      new Request(`${base}/bulk-put`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ items: BENCH_KEYS.map((key) => ({ key, value })) }),
      }),
    );
    await expectStatus("writing the benchmark's records", seeded, 200);
  }

  group("whole request through app.handle", () => {
    bench("PUT, body refused at validation (400)", handle("PUT refused at validation", 400, invalidPut));
    bench(
      "GET without a token (401)",
      handle("GET without a token", 401, () => new Request(`${base}/records/user%2F001`)),
    );
    bench(
      "unknown route (404)",
      handle("unknown route", 404, () => new Request("http://127.0.0.1/v2/nothing", { headers: auth })),
    );
    if (db !== undefined) {
      bench(
        "GET one record (200)",
        handle("GET one record", 200, () => new Request(`${base}/records/user%2F001`, { headers: auth })),
      );
      bench(
        "PUT one record (200)",
        handle(
          "PUT one record",
          200,
          () => new Request(`${base}/records/user%2F003`, { method: "PUT", headers: json, body }),
        ),
      );
    }
  });
}
