// bun run bench: micro-benchmarks of the request hot path. Codecs, validation and JWT need
// nothing; on a database (DATABASE_URL, else a throwaway PostgreSQL cluster this command
// starts and stops) each SQL statement's round trip and whole requests through app.handle
// are measured too. Each figure is per call on this machine; see bench/README.md for how to
// read them. A benchmark whose call fails or answers an unexpected status fails the run.
import { bench, group, run, summary } from "mitata";
import { parseCommandLine } from "../../src/cli/args.ts";
import { connect, type Database } from "../../src/db/client.ts";
import { dbmate } from "../../src/db/migrate.ts";
import { createAuthenticator } from "../../src/http/auth.ts";
import { jsonDepthExceeds } from "../../src/http/body.ts";
import { checkKey, decodeCursor, decodeSegment, encodeCursor, prefixUpperBound } from "../../src/records/keys.ts";
import { prepareValue } from "../../src/records/values.ts";
import { mintToken } from "../../src/tokens.ts";
import { onExit, runCommand } from "../../tools/cleanup.ts";
import { pgBin, startCluster } from "../../tools/postgres.ts";
import { requestBenches } from "./request.ts";
import { sqlBenches } from "./sql.ts";
import "./validation.ts";

const { values: flags } = parseCommandLine(
  `bun run bench [--filter REGEX] [--no-database]

Micro-benchmarks (mitata). With DATABASE_URL (a migrated database) the SQL statements and
database-backed requests run against it; without it, against a throwaway PostgreSQL cluster
started for the run (when the PostgreSQL server binaries are installed).

  --filter REGEX   run only the benchmarks whose name matches (e.g. "SQL|GET")
  --no-database    only what needs no database
`,
  { filter: { type: "string" }, "no-database": { type: "boolean", default: false } },
);
let filter: RegExp | undefined;
try {
  filter = flags.filter === undefined ? undefined : new RegExp(flags.filter);
} catch (error) {
  process.stderr.write(`bun run bench: --filter: ${(error as Error).message}\n`);
  process.exit(2);
}

const SECRET = "bench-secret-0123456789-abcdefghijklmnop";
const scope = { tenantId: "tenant-1", installId: "install-1", namespace: "settings", prefix: "user/" };
const cursor = encodeCursor(scope, "user/1234/preferences");
const value = {
  theme: "dark",
  shortcuts: Array.from({ length: 20 }, (_, i) => ({ key: `ctrl+${i}`, action: `action-${i}` })),
  recent: Array.from({ length: 50 }, (_, i) => `item-${i}`),
};
const body = JSON.stringify({ value });
const claims = {
  tenantId: "tenant-1",
  extensionId: "ext-1",
  installId: "install-1",
  scope: "storage:read storage:write",
};
const token = await mintToken(claims, { secret: SECRET, audience: "ext-storage" });
const cached = createAuthenticator({ secret: SECRET, audience: "ext-storage", issuer: undefined });
await cached(`Bearer ${token}`);

group("keys and cursors", () => {
  bench("decode + check a key segment", () => checkKey(decodeSegment("user%2F1234%2Fpreferences", "INVALID_KEY")));
  bench("prefix upper bound", () => prefixUpperBound("user/é"));
  bench("encode cursor", () => encodeCursor(scope, "user/1234/preferences"));
  bench("decode cursor", () => decodeCursor(scope, cursor));
});

group(`request body (${body.length} bytes)`, () => {
  bench("depth pre-check", () => jsonDepthExceeds(body, 35));
  bench("JSON.parse", () => JSON.parse(body));
  bench("check + serialize value", () => prepareValue("user/1234/preferences", value, 65_536, "value"));
});

summary(() => {
  group("JWT", () => {
    bench("verify (cached)", () => cached(`Bearer ${token}`));
    bench("verify (uncached)", () =>
      createAuthenticator({ secret: SECRET, audience: "ext-storage", issuer: undefined })(`Bearer ${token}`),
    );
  });
});

/** DATABASE_URL, else a throwaway cluster, else none (no PostgreSQL server installed). */
async function database(): Promise<Database | undefined> {
  if (flags["no-database"]) return undefined;
  let url = process.env.DATABASE_URL || undefined;
  if (url === undefined) {
    try {
      pgBin();
    } catch {
      process.stderr.write("SQL round trips: skipped (no DATABASE_URL, and no PostgreSQL server to start)\n");
      return undefined;
    }
    const cluster = await startCluster();
    process.stderr.write(`bench: PostgreSQL in ${cluster.dir}\n`);
    url = cluster.url("postgres");
    const migrated = await dbmate(url, ["up"]);
    if (migrated.code !== 0) throw new Error(`migrating the benchmark database failed:\n${migrated.output}`);
  }
  const db = connect(url, { poolMax: 1, prepare: true });
  onExit({ name: "benchmark connection", stop: () => db.close() });
  return db;
}

await runCommand(async () => {
  const db = await database();
  await requestBenches(db); // first: it writes the records the SQL benchmarks read
  if (db !== undefined) sqlBenches(db);
  await run({ throw: true, ...(filter === undefined ? {} : { filter }) });
  return 0;
});
