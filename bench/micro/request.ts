// A whole request through app.handle (no socket): routing, request id, auth, body reading,
// validation, the domain and the SQL, rendering. With a database, real GET and PUT (and the
// records the SQL benchmarks read are written here, through the API); without one, requests
// that end before the database (a 400 at validation, a 401, a 404 route).
import { bench, group } from "mitata";
import { buildApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { connect, type Database } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { mintToken } from "../../src/tokens.ts";
import { BENCH_INSTALL, BENCH_KEYS, BENCH_NAMESPACE } from "./sql.ts";

const SECRET = "bench-secret-0123456789-abcdefghijklmnop";

export async function requestBenches(db: Database | undefined) {
  const config = loadConfig({ STORAGE_JWT_SECRET: SECRET, LOG_LEVEL: "silent" });
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
  const value = { theme: "dark", recent: Array.from({ length: 40 }, (_, i) => `item-${i}`) };
  const body = JSON.stringify({ value });
  const invalidPut = () =>
    new Request(`${base}/records/user%2F001`, {
      method: "PUT",
      headers: json,
      body: '{"value": 1, "ttlSeconds": "x"}',
    });
  // the first call verifies the token; later ones hit the authenticator's cache, as in service
  await app.handle(invalidPut());
  if (db !== undefined) {
    const seeded = await app.handle(
      new Request(`${base}/bulk-put`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ items: BENCH_KEYS.map((key) => ({ key, value })) }),
      }),
    );
    if (seeded.status !== 200)
      throw new Error(`writing the benchmark's records: ${seeded.status} ${await seeded.text()}`);
  }

  group("whole request through app.handle", () => {
    bench("PUT, body refused at validation (400)", () => app.handle(invalidPut()));
    bench("GET without a token (401)", () => app.handle(new Request(`${base}/records/user%2F001`)));
    bench("unknown route (404)", () => app.handle(new Request("http://127.0.0.1/v2/nothing", { headers: auth })));
    if (db !== undefined) {
      bench("GET one record (200)", () => app.handle(new Request(`${base}/records/user%2F001`, { headers: auth })));
      bench("PUT one record (200)", () =>
        app.handle(new Request(`${base}/records/user%2F003`, { method: "PUT", headers: json, body })),
      );
    }
  });
}
