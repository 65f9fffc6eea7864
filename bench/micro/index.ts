// bun run bench: micro-benchmarks of the request hot path. Codecs, validation and JWT need
// nothing; with DATABASE_URL (a migrated database) each SQL statement's round trip and whole
// requests through app.handle are measured too. Each figure is per call on this machine;
// see bench/README.md for how to read them.
import { bench, group, run, summary } from "mitata";
import { connect } from "../../src/db/client.ts";
import { createAuthenticator } from "../../src/http/auth.ts";
import { jsonDepthExceeds } from "../../src/http/body.ts";
import { checkKey, decodeCursor, decodeSegment, encodeCursor, prefixUpperBound } from "../../src/records/keys.ts";
import { prepareValue } from "../../src/records/values.ts";
import { mintToken } from "../../src/tokens.ts";
import { requestBenches } from "./request.ts";
import { sqlBenches } from "./sql.ts";
import "./validation.ts";

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

const url = process.env.DATABASE_URL || undefined;
const db = url === undefined ? undefined : connect(url, { poolMax: 1, prepare: true });
if (db === undefined) process.stderr.write("SQL round trips: skipped (set DATABASE_URL to a migrated database)\n");
await requestBenches(db); // first: it writes the records the SQL benchmarks read
if (db !== undefined) sqlBenches(db);

await run();
await db?.close();
